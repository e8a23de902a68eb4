"""Prometheus metrics of one ingest process, in a registry of its own (tests run several in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from cryptoflow_contracts import hotpath
from cryptoflow_contracts.topics import Topic


class IngestMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.messages_in = Counter(
            "cryptoflow_ingest_messages_in", "WebSocket frames received, by kind", ["kind"], registry=r
        )
        self.messages_out = Counter(
            "cryptoflow_ingest_messages_out", "Records acknowledged by Kafka, by topic", ["topic"], registry=r
        )
        self.dlq = Counter("cryptoflow_ingest_dlq", "Frames sent to the dead-letter topic", registry=r)
        self.reconnects = Counter("cryptoflow_ingest_reconnects", "WebSocket reconnects", registry=r)
        self.ws_errors = Counter(
            "cryptoflow_ingest_ws_errors", "Error frames from the exchange, by name", ["name"], registry=r
        )
        self.backfilled = Counter(
            "cryptoflow_ingest_backfilled_trades", "Missed trades published from REST", registry=r
        )
        self.backfill_requests = Counter(
            "cryptoflow_ingest_backfill_requests", "Markets backfilled from REST", registry=r
        )
        self.queue_depth = Gauge(
            "cryptoflow_ingest_queue_depth", "Frames waiting to be published", registry=r
        )
        self.connections = Gauge("cryptoflow_ingest_connections", "Open WebSocket connections", registry=r)
        self.markets = Gauge("cryptoflow_ingest_markets", "Markets subscribed", registry=r)
        self.publish_seconds = Histogram(
            "cryptoflow_ingest_publish_seconds",
            "From reading a batch's oldest frame off the socket to Kafka's ack of the batch",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        # The contracts count for the whole process; real traffic should leave only control frames and
        # invalid ones to the models (a rising share of market frames means the exchange's format changed).
        Gauge(
            "cryptoflow_ingest_frames_left_to_models",
            "Frames the contracts' fast path left to the pydantic models, since the process started",
            registry=r,
        ).set_function(lambda: hotpath.LEFT_TO_MODELS["ingest"])
        self.lag_ms = Gauge(
            "cryptoflow_ingest_lag_ms", "Receive time minus exchange time of the latest frame", registry=r
        )
        # Every series a dashboard plots exists from the start at 0 ("no data" reads as an outage).
        # Error frames' names are the exchange's and open-ended: those appear when first seen.
        for kind in ("trade", "ticker", "orderbook", "invalid"):
            self.messages_in.labels(kind)
        for topic in Topic:
            self.messages_out.labels(topic.value)
