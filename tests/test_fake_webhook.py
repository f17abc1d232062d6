"""The fake's webhook sender delivers updates the way the Bot API server does.

The multi-process webhook tests rely on it, so its promises are checked here against a
small recording server: one update per chat in flight, in order, the front retried after a
failure, chats served concurrently, and a person's button tap not ordered against their
messages (a queue of its own, as in the Bot API).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fakes.telegram_api import FakeTelegram
from fakes.webhook import SECRET_HEADER, WebhookSender, queue_of

TOKEN = "123456:WEBHOOK-SENDER-TEST"


class Recorder:
    """What the webhook endpoint saw: each request's update, chat, start and end."""

    def __init__(self, *, handle_for: float, fail_first: set[int]) -> None:
        self.handle_for, self.fail_first = handle_for, fail_first
        self.lock = threading.Lock()
        self.requests: list[tuple[int, int | None, float, float, int]] = []
        self.secrets: set[str] = set()
        self.open_now = 0
        self.most_open = 0

    def handle(self, update: dict[str, Any], secret: str) -> int:
        update_id = int(update["update_id"])
        with self.lock:
            self.secrets.add(secret)
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
            status = 500 if update_id in self.fail_first else 200
            self.fail_first.discard(update_id)
        start = time.monotonic()
        time.sleep(self.handle_for)
        with self.lock:
            self.open_now -= 1
            self.requests.append((update_id, queue_of(update), start, time.monotonic(), status))
        return status


@contextmanager
def endpoint(recorder: Recorder) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = recorder.handle(json.loads(body), self.headers.get(SECRET_HEADER, ""))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def test_a_chats_updates_arrive_one_at_a_time_in_order_while_chats_overlap() -> None:
    recorder = Recorder(handle_for=0.05, fail_first=set())
    with FakeTelegram(token=TOKEN) as fake, endpoint(recorder) as url:
        people = [fake.user(5_000 + i) for i in range(6)]
        sent = {u.chat_id: [u.send(f"message {k}") for k in range(5)] for u in people}
        with WebhookSender(fake, [url], secret="s3cret") as sender:
            assert sender.wait_idle(timeout=30)
        for person in people:
            seen = [r for r in recorder.requests if r[1] == person.chat_id]
            assert [r[0] for r in seen] == sent[person.chat_id]
            for earlier, later in itertools.pairwise(seen):
                assert earlier[3] <= later[2], "two updates of one chat were in flight at once"
        assert recorder.most_open > 1  # different chats were served concurrently
        assert sorted(sender.delivered.values()) == [1] * 30
        assert recorder.secrets == {"s3cret"}


def test_a_failed_update_is_retried_before_the_next_one_of_its_chat() -> None:
    with FakeTelegram(token=TOKEN) as fake:
        person = fake.user(6_001)
        first, second = person.send("one"), person.send("two")
        recorder = Recorder(handle_for=0.0, fail_first={first})
        with (
            endpoint(recorder) as url,
            WebhookSender(fake, [url], secret=None, first_retry=0.1) as sender,
        ):
            assert sender.wait_idle(timeout=30)
        assert [(r[0], r[4]) for r in recorder.requests] == [
            (first, 500),
            (first, 200),
            (second, 200),
        ]
        assert sender.answers == {500: 1, 200: 2}


def test_a_button_tap_is_queued_apart_from_the_same_persons_messages() -> None:
    message = {"update_id": 1, "message": {"chat": {"id": 42}, "text": "hi"}}
    tap = {"update_id": 2, "callback_query": {"from": {"id": 42}, "data": "x"}}
    other = {"update_id": 3, "my_chat_member": {"chat": {"id": 42}}}
    assert queue_of(message) == 42
    assert queue_of(tap) not in (None, 42)
    assert queue_of(other) is None
