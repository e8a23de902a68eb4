"""Prometheus metrics of one archiver, in a registry of its own (tests run several in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from cryptoflow_contracts import hotpath


class ArchiveMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.records_in = Counter(
            "cryptoflow_archive_records_in", "Trade records read from Kafka", registry=r
        )
        self.archived = Counter(
            "cryptoflow_archive_trades_archived", "Trades inserted into lake.trades (new ones)", registry=r
        )
        self.duplicates = Counter(
            "cryptoflow_archive_trades_duplicate",
            "Valid trades not inserted because the archive already held them (redelivery, backfill copies)",
            registry=r,
        )
        self.committed = Counter(
            "cryptoflow_archive_records_committed", "Records whose offsets this member committed", registry=r
        )
        self.dlq = Counter("cryptoflow_archive_dlq", "Records sent to the dead-letter topic", registry=r)
        self.retries = Counter(
            "cryptoflow_archive_retries",
            "Failed attempts, retried with backoff, by operation (postgres, dead-letter)",
            ["operation"],
            registry=r,
        )
        self.commit_failures = Counter(
            "cryptoflow_archive_commit_failures",
            "Offset commits refused because the group rebalanced (the records are read again)",
            registry=r,
        )
        self.candles_changed = Counter(
            "cryptoflow_archive_candles_changed", "1-minute candle rows written or closed", registry=r
        )
        self.batch_seconds = Histogram(
            "cryptoflow_archive_batch_seconds",
            "Time from a batch read to its offsets committed",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        Gauge(
            "cryptoflow_archive_records_left_to_models",
            "Records the contracts' fast path left to the pydantic models, since the process started",
            registry=r,
        ).set_function(lambda: hotpath.LEFT_TO_MODELS["sink"])
        self.lag = Gauge(
            "cryptoflow_archive_consumer_lag",
            "Records behind the high watermark, summed over this member's partitions",
            registry=r,
        )
        self.partitions = Gauge(
            "cryptoflow_archive_partitions", "Partitions assigned to this member", registry=r
        )
