"""Run the `nudgebot` command line with its wall clock moved, for end-to-end tests.

    python -m tests.support.timetravel 2026-11-23T19:59:45+00:00 run

time-machine moves the wall clock (datetime.now, time.time) and lets it tick on; the
monotonic clock that asyncio runs on is untouched. Everything else is the real process.
"""

from __future__ import annotations

import datetime as dt
import sys

import time_machine

from bot.cli import main


def run() -> None:
    start = dt.datetime.fromisoformat(sys.argv[1])
    with time_machine.travel(start, tick=True):
        main(sys.argv[2:])


if __name__ == "__main__":
    run()
