"""Telegram's side of a webhook, for tests: posts the fake's updates the way the Bot API does.

The Bot API server (tdlib/telegram-bot-api, ``WebhookActor``) keeps one queue per
*webhook queue id* and has at most the front update of each queue in flight; the next
update of a queue goes out only after the previous one was answered with a 2xx. A
non-2xx answer or a broken connection keeps the update at the front and retries it
later (``retry_after`` from a 429-style answer, else a doubling delay, capped at a minute
there; the tests shorten both). Queues are served
concurrently, up to ``max_connections`` (``setWebhook``'s parameter, 40 by default).

The queue ids (``Client.cpp``): a message or an edited message is queued by its chat;
a callback query by its sender, in a queue of its own kind (so a person's message and
their button tap are *not* ordered against each other); anything else here gets a
queue to itself.

:class:`WebhookSender` does the same against a list of URLs (the processes' webhook
listeners): it spreads requests over them round robin, as a load balancer would.
"""

from __future__ import annotations

import collections
import itertools
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

import httpx

from fakes.telegram_api import FakeTelegram

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_CALLBACK_QUEUE = 3 << 33  # Client.cpp: callback queries, per sender


def queue_of(update: dict[str, Any]) -> int | None:
    """The Bot API's webhook queue id for an update, or None for a queue of its own."""
    for kind in ("message", "edited_message"):
        body = update.get(kind)
        if isinstance(body, dict) and isinstance(body.get("chat"), dict):
            return int(body["chat"]["id"])
    query = update.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("from"), dict):
        return int(query["from"]["id"]) + _CALLBACK_QUEUE
    return None


class WebhookSender:
    """Delivers every update the fake receives to ``urls``, Bot API style, until stopped.

    ``answers`` counts the HTTP statuses seen (-1 for a broken connection), ``delivered``
    how often each update id was answered 2xx (once, unless something is wrong).
    """

    def __init__(
        self,
        fake: FakeTelegram,
        urls: Sequence[str],
        *,
        secret: str | None,
        max_connections: int = 40,
        first_retry: float = 1.0,
        max_retry: float = 60.0,
        timeout: float = 60.0,
    ) -> None:
        self.fake, self.urls, self.secret = fake, list(urls), secret
        self.max_connections = max_connections
        self.first_retry, self.max_retry, self.timeout = first_retry, max_retry, timeout
        self.answers: collections.Counter[int] = collections.Counter()
        self.delivered: collections.Counter[int] = collections.Counter()
        self._queues: dict[int, collections.deque[dict[str, Any]]] = {}
        self._ready_at: dict[int, float] = {}  # a queue's front may go at this time
        self._delay: dict[int, float] = {}
        self._in_flight: set[int] = set()
        self._own_queue = itertools.count(-1, -1)  # negative: never a chat or user id
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=max_connections)
        self._client = httpx.Client(timeout=timeout)
        self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)

    def start(self) -> WebhookSender:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()

    def __enter__(self) -> WebhookSender:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def pending(self) -> int:
        """Updates taken from the fake and not yet answered 2xx."""
        with self._lock:
            return sum(len(q) for q in self._queues.values())

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the fake has no new updates and every taken one was answered 2xx."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.pending() and not self.fake.pending_updates():
                return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        while not self._stop.is_set():
            for update in self.fake.take_updates():
                queue = queue_of(update)
                key = next(self._own_queue) if queue is None else queue
                with self._lock:
                    self._queues.setdefault(key, collections.deque()).append(update)
                    self._ready_at.setdefault(key, 0.0)
            self._send_ready()
            self._wake.wait(0.01)
            self._wake.clear()

    def _send_ready(self) -> None:
        now = time.monotonic()
        with self._lock:
            ready = [
                key
                for key, waiting in self._queues.items()
                if waiting and key not in self._in_flight and self._ready_at[key] <= now
            ]
            for key in ready:
                if len(self._in_flight) >= self.max_connections:
                    break
                self._in_flight.add(key)
                self._pool.submit(self._post, key, self._queues[key][0])

    def _post(self, key: int, update: dict[str, Any]) -> None:
        url = self.urls[next(self._turn) % len(self.urls)]
        headers = {} if self.secret is None else {SECRET_HEADER: self.secret}
        retry_after = 0.0
        try:
            answer = self._client.post(url, json=update, headers=headers)
            status = answer.status_code
            if status == 429:
                retry_after = float(answer.headers.get("Retry-After", "0") or 0)
        except httpx.HTTPError:
            status = -1
        with self._lock:
            self.answers[status] += 1
            if 200 <= status <= 299:
                self.delivered[int(update["update_id"])] += 1
                waiting = self._queues[key]
                waiting.popleft()
                self._delay.pop(key, None)
                self._ready_at[key] = 0.0
                if not waiting:
                    del self._queues[key]
                    del self._ready_at[key]
            else:  # the front stays; the Bot API doubles its delay each time
                delay = min(self._delay.get(key, self.first_retry / 2) * 2, self.max_retry)
                self._delay[key] = delay
                self._ready_at[key] = time.monotonic() + max(delay, retry_after)
            self._in_flight.discard(key)
        self._wake.set()
