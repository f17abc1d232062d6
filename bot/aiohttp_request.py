"""python-telegram-bot's request layer on aiohttp (the documented `BaseRequest` extension).

One `aiohttp.ClientSession` per instance, opened in `initialize` and closed in
`shutdown`, with a bounded connection pool whose connections are reused (HTTP
keep-alive) and watched by the kernel (TCP keep-alive). Failures keep the library's
exception as `__cause__`, so `bot.send_errors.classify` can tell "never left" (connect
error, connect or pool timeout) from "lost on the way back" (read timeout, reset).

The last moment before a request is written (a connection in hand, reused from the pool
or just opened) can run a hook of the caller's: `BEFORE_WRITE`, set in the request's own
task. The rate limiter marks a scheduled delivery as leaving there and checks the rate
there (`bot.ratelimit`), so that nothing slow lies between the mark and the bytes on the
wire: after a crash, the deliveries left `sending` are the requests being written or
answered, not those still being built. A failure before it (no connection to be had)
leaves the delivery unmarked: it never left, and is sent again.

URLs are never logged: they contain the bot token. aiohttp puts the URL in the text of
some exceptions (a connect timeout names it), so that text is redacted before the
exception is chained.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any, Final

import aiohttp
from aiohappyeyeballs import AddrInfoType
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.send_errors import parse_bot_api_answer

# The dispatcher keeps at most 32 sends in flight and interactive replies share the
# pool; more connections than that only cost TLS handshakes.
DEFAULT_POOL_SIZE: Final = 64
# Close idle connections well before a server or NAT would (nginx's default is 75 s):
# reusing a connection the server already closed turns a send into an ambiguous one.
KEEPALIVE_SECONDS: Final = 15.0
# TCP keep-alive: notice a dead peer on a quiet connection within about a minute.
TCP_KEEPIDLE_SECONDS: Final = 30
TCP_KEEPINTVL_SECONDS: Final = 10
TCP_KEEPCNT: Final = 3

_BOT_PATH: Final = re.compile(r"/bot[^/\s]+")
_JSON: Final = {"Content-Type": "application/json"}

BeforeWrite = Callable[[], Awaitable[None]]
# Awaited once, by the task making the request, when its connection is in hand and just
# before the request is written; whatever it raises ends the request unsent (the
# connection goes back to the pool). Set it around one request: a request made while it
# is set runs it.
BEFORE_WRITE: ContextVar[BeforeWrite | None] = ContextVar("before_write", default=None)


class _Once:
    """A `BEFORE_WRITE` hook for one request: run at most once, whichever way the
    connection came (aiohttp reports a reused and a new connection apart)."""

    __slots__ = ("hook",)

    def __init__(self, hook: BeforeWrite) -> None:
        self.hook: BeforeWrite | None = hook

    async def __call__(self) -> None:
        hook, self.hook = self.hook, None
        if hook is not None:
            await hook()


async def _connection_in_hand(
    _session: aiohttp.ClientSession, context: SimpleNamespace, _params: object
) -> None:
    once = context.trace_request_ctx
    if isinstance(once, _Once):
        await once()


def _before_write_trace() -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()
    trace.on_connection_reuseconn.append(_connection_in_hand)
    trace.on_connection_create_end.append(_connection_in_hand)
    trace.freeze()
    return trace


def _keepalive_socket(addr_info: AddrInfoType) -> socket.socket:
    """A socket for aiohttp's connector with TCP keep-alive on."""
    family, type_, proto, _, _ = addr_info
    sock = socket.socket(family=family, type=type_, proto=proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (
        ("TCP_KEEPIDLE", TCP_KEEPIDLE_SECONDS),
        ("TCP_KEEPINTVL", TCP_KEEPINTVL_SECONDS),
        ("TCP_KEEPCNT", TCP_KEEPCNT),
    ):
        if hasattr(socket, option):  # Linux has all three; macOS lacks TCP_KEEPIDLE
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
    return sock


def _redacted(exc: BaseException) -> BaseException:
    """`exc` with any bot-token path in its arguments masked, in place."""
    exc.args = tuple(
        _BOT_PATH.sub("/bot<token>", arg) if isinstance(arg, str) else arg for arg in exc.args
    )
    return exc


class AiohttpRequest(BaseRequest):
    """Make Bot API requests with aiohttp.

    Args:
        connection_pool_size: connections kept open to the Bot API at most.
        read_timeout: seconds to wait for each piece of an answer, once the request is sent.
        write_timeout: accepted for PTB's interface; aiohttp has no write timeout, so a
            stalled upload ends at `read_timeout` after it finishes or never. Messages are
            small; sending large files through this class is not its purpose.
        connect_timeout: seconds to open a new connection.
        pool_timeout: seconds to wait for a free connection (added to `connect_timeout`:
            aiohttp bounds the wait for the pool and the connection together).
    """

    __slots__ = (
        "_connect_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
    )

    def __init__(
        self,
        connection_pool_size: int = DEFAULT_POOL_SIZE,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        del write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """See `BaseRequest.read_timeout`."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session and its connection pool (once; again after `shutdown`)."""
        if self._session is not None and not self._session.closed:
            return
        connector = aiohttp.TCPConnector(
            limit=self._pool_size,
            limit_per_host=self._pool_size,
            keepalive_timeout=KEEPALIVE_SECONDS,
            socket_factory=_keepalive_socket,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.USER_AGENT},
            # Timeouts are given per request; none of them is a total for the exchange,
            # which would not say which side of "sent" it fired on.
            timeout=aiohttp.ClientTimeout(total=None),
            raise_for_status=False,
            auto_decompress=True,
            trust_env=False,
            trace_configs=[_before_write_trace()],
        )

    async def shutdown(self) -> None:
        """Close the session and every pooled connection."""
        if self._session is None or self._session.closed:
            return
        await self._session.close()

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """Parse a Bot API answer; see `bot.send_errors.parse_bot_api_answer`."""
        return parse_bot_api_answer(payload)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See `BaseRequest.do_request`."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        body: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] | None = None
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData(request_data.json_parameters)
                for field, (filename, content, mime_type) in files.items():
                    form.add_field(field, content, filename=filename, content_type=mime_type)
                body = form
            else:
                body, headers = request_data.json_payload, _JSON
        hook = BEFORE_WRITE.get()
        try:
            async with self._session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                trace_request_ctx=None if hook is None else _Once(hook),
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            # ConnectionTimeoutError (pool or connect: nothing sent) and SocketTimeoutError
            # (no answer in time: maybe delivered) alike; classify() reads the cause.
            raise TimedOut(f"aiohttp.{type(exc).__name__}") from _redacted(exc)
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}") from _redacted(exc)
