"""The bot's Prometheus metrics: one object, one registry per application.

Every layer may record into it (it imports neither telegram nor sqlalchemy); the ops
endpoint (`bot/ops.py`) serves it. Each `Metrics` has its own `CollectorRegistry`, not
prometheus-client's global one, so two applications in one process (tests) never share
counts. What each metric means, and an example scrape configuration, are in
docs/deploy.md.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

__all__ = ["Metrics"]

# From "on time" to "more than an hour late" (the grace of a nightly prompt).
LATENESS_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 10800, 21600)
# A reply should wait hundredths of a second for its slot; bulk sends wait longer by design.
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
# Handling one update: a database round trip or two and one reply.
HANDLING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The metric objects, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.deliveries = Counter(
            "nudgebot_deliveries",
            "Deliveries whose outcome was written, by outcome (retry: tried again later).",
            ["outcome"],
            registry=self.registry,
        )
        self.lateness = Histogram(
            "nudgebot_delivery_lateness_seconds",
            "Seconds from a nudge's due time to its successful send.",
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "nudgebot_queue_depth",
            "Nudges due and not yet sent, read from the database at scrape time "
            "(stage: unclaimed schedules, or claimed deliveries not yet settled).",
            ["stage"],
            registry=self.registry,
        )
        self.rate_limiter_wait = Histogram(
            "nudgebot_rate_limiter_wait_seconds",
            "Seconds a request waited for its rate-limit slot (kind: bulk or reply).",
            ["kind"],
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )
        self.updates_handled = Counter(
            "nudgebot_updates_handled",
            "Updates from Telegram handled by this process.",
            registry=self.registry,
        )
        self.update_handling = Histogram(
            "nudgebot_update_handling_seconds",
            "Seconds from an update reaching this process to its handlers finishing "
            "(including any wait behind earlier updates of the same chat).",
            buckets=HANDLING_BUCKETS,
            registry=self.registry,
        )
        self.polling_leader = Gauge(
            "nudgebot_polling_leader",
            "1 while this process holds the polling lease (it alone calls getUpdates).",
            registry=self.registry,
        )

    def delivery_recorded(self, outcome: str, count: int = 1) -> None:
        """Count deliveries whose outcome was written (a final status, or `retry`)."""
        if count:
            self.deliveries.labels(outcome=outcome).inc(count)

    def delivery_sent(self, lateness_seconds: float) -> None:
        """Observe how late a nudge went out."""
        self.lateness.observe(max(0.0, lateness_seconds))

    def set_queue_depth(self, unclaimed: int, claimed: int) -> None:
        """The backlog as just read from the database."""
        self.queue_depth.labels(stage="unclaimed").set(unclaimed)
        self.queue_depth.labels(stage="claimed").set(claimed)

    def limiter_waited(self, seconds: float, *, bulk: bool) -> None:
        """Observe one request's wait for its rate-limit slot."""
        self.rate_limiter_wait.labels(kind="bulk" if bulk else "reply").observe(max(0.0, seconds))

    def update_handled(self, seconds: float) -> None:
        """Count one handled update and observe how long it took."""
        self.updates_handled.inc()
        self.update_handling.observe(max(0.0, seconds))

    def set_polling_leader(self, leader: bool) -> None:
        """Whether this process holds the polling lease now (for the lease's owner to call)."""
        self.polling_leader.set(1 if leader else 0)

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """Everything, and its content type, in the format the scraper's Accept asks for.

        Prometheus's text format by default; OpenMetrics when the scraper asks for it.
        """
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type
