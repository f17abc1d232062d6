"""Side by side: python-telegram-bot's request layer on httpx and on aiohttp.

    .venv/bin/python -m benchmarks.transport_bench            # N=2000, 3 repeats
    .venv/bin/python -m benchmarks.transport_bench -n 500 -r 1

N sendMessage calls through an ExtBot, at most `--concurrency` in flight (the
dispatcher's MAX_IN_FLIGHT), against the fake Bot API with its limiter off. The fake
runs in a spawned process so that it does not share this process's GIL. Both request
classes get the same pool size; the two alternate within each repeat, and the table
gives the min and the median of each. Our request class sends JSON bodies, PTB's
httpx one form-encoded bodies, so the fake's parsing differs a little between them.
The full run took about two minutes of wall time (one of CPU) on the shared 2-core
machine; `-n 500 -r 1` gives a first look in seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import multiprocessing.connection
import platform
import statistics
import time
from collections.abc import Callable

from telegram.ext import ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from bot.aiohttp_request import AiohttpRequest

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"  # noqa: S105 - the fake's token
CHAT = 1001


def _serve(conn: multiprocessing.connection.Connection) -> None:
    """Child process: run the fake until told to stop."""
    from fakes.telegram_api import FakeTelegram

    with FakeTelegram(token=TOKEN, enforce_rate_limits=False) as fake:
        fake.user(CHAT, first_name="Ana")
        conn.send(fake.base_url)
        conn.recv()


async def _run(request: BaseRequest, base_url: str, count: int, concurrency: int) -> float:
    bot = ExtBot(TOKEN, base_url=base_url, request=request)  # type: ignore[var-annotated]
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await bot.send_message(CHAT, f"nudge {i}")

    async with bot:
        await bot.send_message(CHAT, "warm-up")
        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=2000)
    parser.add_argument("-r", "--repeats", type=int, default=3)
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    args = parser.parse_args()

    backends: dict[str, Callable[[], BaseRequest]] = {
        "httpx (HTTPXRequest)": lambda: HTTPXRequest(connection_pool_size=args.concurrency),
        "aiohttp (AiohttpRequest)": lambda: AiohttpRequest(connection_pool_size=args.concurrency),
    }
    parent, child = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(child,))
    server.start()
    try:
        base_url = parent.recv()
        times: dict[str, list[float]] = {name: [] for name in backends}
        for _ in range(args.repeats):
            for name, make in backends.items():
                times[name].append(
                    asyncio.run(_run(make(), base_url, args.count, args.concurrency))
                )
    finally:
        parent.send("stop")
        server.join(timeout=10)

    print(
        f"# {platform.python_version()} on {platform.machine()}, N={args.count}, "
        f"{args.concurrency} in flight, {args.repeats} repeats"
    )
    print("| request layer | min s | median s | sends/s (median) |")
    print("|---|---|---|---|")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"| {name} | {min(seconds):.2f} | {median:.2f} | {args.count / median:.0f} |")


if __name__ == "__main__":
    main()
