"""A TCP relay between the bot and the fake that notes each request as its bytes pass.

What "in flight" means at a crash: a request whose bytes the bot had written, whatever
the server had done with them. The fake's own log cannot say: like any HTTP server, it
drops a request still queued in its socket when the client's connection closes before
the request is read (a killed bot's sockets close at once), and with 32 requests in
flight most of them are queued there. The relay sits on loopback in front of the fake,
in a thread of its own, and records the `chat_id` of every request whose headers and
whole body have crossed it (JSON bodies with a Content-Length, as the bot sends them),
at the moment they cross: those requests left the bot.
"""

from __future__ import annotations

import asyncio
import re
import threading
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

_CHAT_ID = re.compile(rb'"chat_id":\s*"?(-?\d+)')  # PTB sends it as a string
_LENGTH = re.compile(rb"(?im)^content-length:\s*(\d+)")


class WireTap:
    """Relay 127.0.0.1:`port` -> `upstream`; `chats()` lists the chat ids that crossed."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._parts = parts
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._lock = threading.Lock()
        self._chats: list[int] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    def __enter__(self) -> WireTap:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        relays = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for relay in relays:
            relay.cancel()
        await asyncio.gather(*relays, return_exceptions=True)

    @property
    def base_url(self) -> str:
        """The upstream's URL with this relay's address."""
        return urlunsplit(self._parts._replace(netloc=f"127.0.0.1:{self.port}"))

    def chats(self, after: int = 0) -> list[int]:
        """The chat ids of the requests that crossed, in order, from the `after`-th on."""
        with self._lock:
            return self._chats[after:]

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._chats)

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._relay, "127.0.0.1", 0)

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self._upstream)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(
            self._pump(client_r, server_w, note=True),
            self._pump(server_r, client_w, note=False),
            return_exceptions=True,
        )

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, note: bool
    ) -> None:
        pending = b""  # of the requests, bytes not yet part of a whole request
        try:
            while chunk := await reader.read(65536):
                if note:
                    pending = self._note_requests(pending + chunk)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def _note_requests(self, data: bytes) -> bytes:
        """Note each whole request in `data` (headers and a Content-Length body); return
        what is left of an unfinished one."""
        while (end := data.find(b"\r\n\r\n")) >= 0:
            length = _LENGTH.search(data[:end])
            size = int(length.group(1)) if length else 0
            whole = end + 4 + size
            if len(data) < whole:
                break
            found = _CHAT_ID.search(data[end + 4 : whole])
            if found:
                with self._lock:
                    self._chats.append(int(found.group(1)))
            data = data[whole:]
        return data
