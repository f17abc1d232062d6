"""Run the dashboard with uvicorn inside an event loop that is already running (the bot's).

uvicorn's own `serve()` installs SIGINT/SIGTERM handlers when called from the main thread,
which would take shutdown away from the bot; here they are left alone. The listening socket
is bound here, before uvicorn starts, so a port in use is an ordinary `OSError` from
`start()` (uvicorn itself would call `sys.exit`, which would end the whole bot).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 10.0


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers to its host."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on exactly this host (never a wildcard it did not ask for)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class DashboardServer:
    """The dashboard's HTTP server, started and stopped by the bot (post_init / post_stop).

    Usage, inside a running event loop::

        server = DashboardServer(app, "127.0.0.1", 8080)
        await server.start()  # listening when this returns
        ...
        await server.stop()  # closed, open requests finished, when this returns
    """

    def __init__(self, app: ASGIApp, host: str, port: int, *, name: str = "dashboard") -> None:
        self.name = name
        self.host = host
        self.requested_port = port
        self._config = uvicorn.Config(
            app,
            host=host,
            port=port,
            lifespan="off",
            log_config=None,
            # Access logs would hold login URLs, and so one-time tokens.
            access_log=False,
            server_header=False,
            proxy_headers=False,
            timeout_graceful_shutdown=5,
        )
        self._server: _QuietServer | None = None
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None
        self.address: tuple[str, int] | None = None

    @property
    def port(self) -> int:
        """The port listened on (the real one when started with port 0)."""
        if self.address is None:
            raise RuntimeError("the dashboard server was not started")
        return self.address[1]

    @property
    def running(self) -> bool:
        """Whether it is serving now."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Bind and start serving in the running loop; returns once it accepts connections."""
        if self._task is not None:
            raise RuntimeError("the dashboard server was already started")
        self._socket = _bind(self.host, self.requested_port)
        host, port = self._socket.getsockname()[:2]
        self.address = (str(host), int(port))
        self._server = _QuietServer(self._config)
        self._task = asyncio.create_task(
            self._server.serve(sockets=[self._socket]), name=f"{self.name}-server"
        )
        while not self._server.started:
            if self._task.done():
                self._socket.close()
                await self._task  # raises what stopped it
                raise RuntimeError("the dashboard server stopped while starting")
            await asyncio.sleep(0.01)
        log.info("%s listening on %s:%s", self.name, self.host, self.port)

    async def stop(self) -> None:
        """Stop accepting, let open requests finish (briefly), and close the socket."""
        if self._task is None or self._server is None or self._socket is None:
            return  # never started, or already stopped
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        finally:
            self._socket.close()
            self._socket = None
            log.info("%s stopped", self.name)
