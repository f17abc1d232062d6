"""The database threads serve what a person waits on before queued bulk work."""

from __future__ import annotations

import asyncio
import threading

import pytest

from storage.db import Lane, PriorityExecutor


async def test_a_reply_goes_ahead_of_bulk_work_already_queued() -> None:
    executor = PriorityExecutor(1)
    gate = threading.Event()
    order: list[str] = []

    def blocker() -> None:
        gate.wait(5)

    def job(name: str) -> str:
        order.append(name)
        return name

    try:
        running = asyncio.ensure_future(executor.submit(blocker, Lane.BULK))
        await asyncio.sleep(0.05)  # the one thread is now busy with the blocker
        bulk = [
            asyncio.ensure_future(executor.submit(lambda i=i: job(f"bulk{i}"), Lane.BULK))
            for i in range(3)
        ]
        reply = asyncio.ensure_future(executor.submit(lambda: job("reply"), Lane.INTERACTIVE))
        await asyncio.sleep(0.05)
        gate.set()
        await asyncio.gather(running, *bulk, reply)
        assert order == ["reply", "bulk0", "bulk1", "bulk2"]
        assert reply.result() == "reply"
    finally:
        gate.set()
        executor.shutdown()


async def test_an_error_in_a_job_reaches_the_caller_and_the_thread_goes_on() -> None:
    executor = PriorityExecutor(1)

    def fails() -> None:
        raise ValueError("boom")

    try:
        with pytest.raises(ValueError, match="boom"):
            await executor.submit(fails, Lane.INTERACTIVE)
        assert await executor.submit(lambda: 42, Lane.BULK) == 42
    finally:
        executor.shutdown()
