"""Prometheus metrics of one sink, in a registry of its own (tests run several sinks in one process)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from cryptoflow_contracts import hotpath

KINDS = ("trade", "ticker", "orderbook")
SKIP_REASONS = (
    ("trade", "duplicate"),
    ("trade", "expired"),
    ("ticker", "stale"),
    ("orderbook", "stale"),
    ("ticker", "superseded"),
    ("orderbook", "superseded"),
)
RETRIED_OPERATIONS = ("redis", "dead-letter")


class SinkMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.records_in = Counter(
            "cryptoflow_sink_records_in", "Records read from Kafka, by kind", ["kind"], registry=r
        )
        self.records_out = Counter(
            "cryptoflow_sink_records_out", "Records written to Redis, by kind", ["kind"], registry=r
        )
        self.committed = Counter(
            "cryptoflow_sink_records_committed", "Records whose offsets this member committed", registry=r
        )
        self.skipped = Counter(
            "cryptoflow_sink_records_skipped",
            "Valid records not written, by kind and reason: duplicate (trade id already written), "
            "expired (trade older than the guard's floor), stale (Redis holds a newer record), "
            "superseded (a newer record of the same market in the same batch)",
            ["kind", "reason"],
            registry=r,
        )
        self.dlq = Counter(
            "cryptoflow_sink_dlq",
            "Records sent to the dead-letter topic, by source topic",
            ["topic"],
            registry=r,
        )
        self.retries = Counter(
            "cryptoflow_sink_retries",
            "Failed attempts, retried with backoff, by operation (redis, dead-letter)",
            ["operation"],
            registry=r,
        )
        self.commit_failures = Counter(
            "cryptoflow_sink_commit_failures",
            "Offset commits refused because the group rebalanced (the records are read again)",
            registry=r,
        )
        self.batch_seconds = Histogram(
            "cryptoflow_sink_batch_seconds",
            "Time from a batch read to its offsets committed",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        # The contracts count for the whole process; records our ingest wrote should never need the models.
        Gauge(
            "cryptoflow_sink_records_left_to_models",
            "Records the contracts' fast path left to the pydantic models, since the process started",
            registry=r,
        ).set_function(lambda: hotpath.LEFT_TO_MODELS["sink"])
        self.lag = Gauge(
            "cryptoflow_sink_consumer_lag",
            "Records behind the high watermark, summed over this member's partitions, by topic",
            ["topic"],
            registry=r,
        )
        self.partitions = Gauge(
            "cryptoflow_sink_partitions", "Partitions assigned to this member", registry=r
        )
        for kind in KINDS:
            self.records_in.labels(kind)
            self.records_out.labels(kind)
        # Every series a dashboard plots exists from the start at 0 ("no data" reads as an outage).
        for kind, reason in SKIP_REASONS:
            self.skipped.labels(kind, reason)
        for operation in RETRIED_OPERATIONS:
            self.retries.labels(operation)

    def expect_topics(self, topics: Iterable[str]) -> None:
        """The per-topic series (dead letters, lag) of the topics this sink reads, at 0 until they move."""
        for topic in topics:
            self.dlq.labels(topic)
            self.lag.labels(topic)
