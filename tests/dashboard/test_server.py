"""DashboardServer: uvicorn inside the caller's event loop, on the given host only, leaving
the process's signal handlers alone, and stopping cleanly."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from dashboard import DashboardServer, create_app
from storage.db import Database
from tests.support.bot import FakeClock


@pytest.fixture
def app(sqlite_url: str, clock: FakeClock) -> Iterator[Starlette]:
    """The dashboard on SQLite: these tests are about the server, not the database."""
    database = Database(sqlite_url)
    yield create_app(database, clock=clock, public_url="http://127.0.0.1:8080")
    database.close()


def _handlers() -> dict[int, object]:
    return {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}


async def test_it_serves_in_the_running_loop_and_stops_cleanly(app: Starlette) -> None:
    before = _handlers()
    server = DashboardServer(app, "127.0.0.1", 0)

    await server.start()
    try:
        assert server.running
        assert _handlers() == before
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            response = await http.get("/")
            assert response.status_code == 401
            assert response.headers["cache-control"] == "no-store"
            assert "server" not in response.headers
            started = time.monotonic()
            await server.stop()  # with the client's keep-alive connection still open
            assert time.monotonic() - started < 3
    finally:
        await server.stop()

    assert not server.running
    assert _handlers() == before
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as http:
            await http.get(f"http://127.0.0.1:{server.port}/")


async def test_it_listens_on_the_given_host_only(app: Starlette) -> None:
    server = DashboardServer(app, "127.0.0.1", 0)
    await server.start()
    try:
        assert server.address == ("127.0.0.1", server.port)
    finally:
        await server.stop()


async def test_a_port_in_use_is_an_error_not_an_exit(app: Starlette) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = DashboardServer(app, "127.0.0.1", taken.getsockname()[1])

        with pytest.raises(OSError):
            await server.start()

    assert not server.running
    await asyncio.sleep(0)  # the loop is still running fine


async def test_stopping_a_server_that_never_started_does_nothing(app: Starlette) -> None:
    await DashboardServer(app, "127.0.0.1", 0).stop()
