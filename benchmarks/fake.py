"""The fake Bot API (`fakes.telegram_api`) on 127.0.0.1, in a process of its own.

A spawned child runs the fake so that it does not share the measured side's GIL: every
peer in a scenario talks to the same child, over loopback. The parent asks it over a
pipe to create users, to report what it received (plain tuples, cheap at 100,000
calls), and to act as people sending `/help` at a fixed pace (the injections are
timed in the child, against the same clock that times the replies' arrival).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes.telegram_api import FakeTelegram

# A well-formed (fake) token: the bot's settings check its shape.
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"  # noqa: S105 - the fake's, not a secret

# (seq, arrival time, HTTP status or None while answering, chat id)
Request = tuple[int, float, int | None, Any]


@dataclass(frozen=True)
class FakeSpec:
    """What the child serves: the limits it enforces (429 above them), if any."""

    enforce_rate_limits: bool = False
    global_per_second: int = 30
    per_chat_per_second: int = 1


class _HelpClient(threading.Thread):
    """People sending `/help` in turn, one every `period` seconds (runs in the child)."""

    def __init__(self, fake: FakeTelegram, user_ids: list[int], period: float) -> None:
        super().__init__(name="help-client", daemon=True)
        self.users = [fake.user(user_id, first_name="Help") for user_id in user_ids]
        self.period = period
        self.sent: list[tuple[int, float]] = []  # (chat id, injected at)
        self.stop = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        turn = 0
        while not self.stop.is_set():
            user = self.users[turn % len(self.users)]
            self.sent.append((user.chat_id, time.time()))
            user.send("/help")
            turn += 1
            # Paced from the start, not from the last send: no drift.
            self.stop.wait(max(0.0, start + turn * self.period - time.monotonic()))


class _Pauses:
    """The child's garbage-collection pauses: a pause stamps the requests that wait behind
    it late, and then close together, which a sliding-window limit counts as a burst."""

    def __init__(self) -> None:
        self.longest_ms = 0.0
        self.count = 0
        self._began = 0.0

    def __call__(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        pause = (time.perf_counter() - self._began) * 1000
        self.count += 1
        self.longest_ms = max(self.longest_ms, pause)


# Young collections still run; full ones practically never (see `_quiet_collector`).
_FULL_COLLECTION_EVERY = 1_000_000


def _quiet_collector() -> None:
    """Keep the child's garbage collector from pausing the fake for long.

    Telegram's servers stamp a request when it arrives; the fake stamps it when its event
    loop reads it. A full collection of the fake's heap (100,000 users and every message
    it stored) holds the loop for tens of milliseconds, and the requests that wait behind
    it are then stamped late and close together: at 29/s a pause over about 34 ms puts 31
    of them in one second, and the fake answers 429 for a burst the bot never sent. So the
    set-up objects are frozen out of collections (`gc.freeze`, again after each batch of
    users) and full collections are put off: what the fake stores lives until it exits,
    and the request-local cycles die young.
    """
    gc.collect()
    gc.freeze()
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, _FULL_COLLECTION_EVERY)


def _child(conn: multiprocessing.connection.Connection, spec: FakeSpec) -> None:
    """Run a FakeTelegram and answer the parent's requests until told to stop."""
    pauses = _Pauses()
    gc.callbacks.append(pauses)
    fake = FakeTelegram(
        token=TOKEN,
        enforce_rate_limits=spec.enforce_rate_limits,
        global_per_second=spec.global_per_second,
        per_chat_per_second=spec.per_chat_per_second,
    )
    helper: _HelpClient | None = None
    parent = os.getppid()
    try:
        fake.start()
        _quiet_collector()
        conn.send({"port": fake.port, "pid": os.getpid()})
        while os.getppid() == parent:  # never outlive the parent
            if not conn.poll(1.0):
                continue
            command, *args = conn.recv()
            if command == "stop":
                break
            if command == "users":
                first, count = args
                for user_id in range(first, first + count):
                    fake.user(user_id)
                _quiet_collector()
                conn.send(count)
            elif command == "log":
                method, after = args
                conn.send(fake.request_log(method, after))
            elif command == "seq":
                conn.send(fake.call_seq)
            elif command == "counters":
                cpu = os.times()
                conn.send(
                    {
                        "too_many_requests": fake.too_many_requests,
                        "errors": fake.errors_served,
                        "cpu_seconds": cpu.user + cpu.system,
                        "gc_longest_ms": pauses.longest_ms,
                        "gc_collections": pauses.count,
                    }
                )
            elif command == "help_start":
                user_ids, period = args
                helper = _HelpClient(fake, user_ids, period)
                helper.start()
                conn.send(True)
            elif command == "help_stop":
                sent: list[tuple[int, float]] = []
                if helper is not None:
                    helper.stop.set()
                    helper.join(10)
                    sent = helper.sent
                conn.send(sent)
            else:
                conn.send(RuntimeError(f"unknown command {command!r}"))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        if helper is not None:
            helper.stop.set()
        fake.stop()
        conn.close()


class FakeProcess:
    """A fake Bot API in a spawned child process; use as a context manager."""

    def __init__(self, spec: FakeSpec | None = None) -> None:
        self.spec = spec or FakeSpec()
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=_child, args=(child_conn, self.spec), name="fake-bot-api", daemon=True
        )
        self.port = 0
        self.pid = 0

    def __enter__(self) -> FakeProcess:
        self._process.start()
        if not self._conn.poll(60):
            self._process.kill()
            raise RuntimeError("the fake Bot API did not start within 60 s")
        hello = self._conn.recv()
        self.port, self.pid = int(hello["port"]), int(hello["pid"])
        return self

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(OSError, EOFError):
            self._conn.send(("stop",))
        self._process.join(15)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._conn.close()

    @property
    def base_url(self) -> str:
        """The `base_url` for python-telegram-bot (and TELEGRAM_API_BASE_URL)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def api_url(self) -> str:
        """`base_url` with the token: append `/sendMessage` for raw HTTP."""
        return f"{self.base_url}{TOKEN}"

    def _ask(self, *command: Any, timeout: float = 300.0) -> Any:
        self._conn.send(command)
        if not self._conn.poll(timeout):
            raise RuntimeError(f"the fake did not answer {command[0]!r} within {timeout:.0f} s")
        answer = self._conn.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def add_users(self, first_chat_id: int, count: int) -> None:
        """Make chats `first_chat_id`.. known (the fake answers "chat not found" otherwise)."""
        self._ask("users", first_chat_id, count)

    def sends(self, after_seq: int = 0) -> list[Request]:
        """Every sendMessage the fake received after `after_seq`."""
        answer: list[Request] = self._ask("log", "sendMessage", after_seq)
        return answer

    def seq(self) -> int:
        """The fake's call sequence now: pass it to `sends` to see only what follows."""
        return int(self._ask("seq"))

    def counters(self) -> dict[str, Any]:
        """429s served, errors by status, and the fake's CPU seconds so far."""
        answer: dict[str, Any] = self._ask("counters")
        return answer

    def start_help(self, user_ids: list[int], period: float) -> None:
        """These users send `/help` in turn, one every `period` seconds."""
        self._ask("help_start", user_ids, period)

    def stop_help(self) -> list[tuple[int, float]]:
        """Stop them; returns (chat id, injected at) of each `/help` sent."""
        answer: list[tuple[int, float]] = self._ask("help_stop")
        return answer


def ok_per_chat(sends: list[Request]) -> dict[Any, int]:
    """Successful sends (HTTP 200) per chat."""
    counts: dict[Any, int] = {}
    for _, _, status, chat in sends:
        if status == 200:
            counts[chat] = counts.get(chat, 0) + 1
    return counts


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
