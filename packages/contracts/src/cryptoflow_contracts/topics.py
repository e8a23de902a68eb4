"""Kafka topic names and their layout. Every process that creates or reads a topic uses these."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Topic(StrEnum):
    TRADE = "upbit.trade"
    TICKER = "upbit.ticker"
    ORDERBOOK = "upbit.orderbook"
    DLQ = "upbit.dlq"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: Topic
    partitions: int
    # Compaction would drop trades; every topic is a plain time-retained log.
    retention_ms: int


_SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000
_THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000

# Keyed by market: one market stays ordered within one partition. Six partitions let up to six
# sink instances share the load; the DLQ is low-volume and read by people, so one partition.
TOPIC_SPECS: tuple[TopicSpec, ...] = (
    TopicSpec(Topic.TRADE, partitions=6, retention_ms=_SEVEN_DAYS_MS),
    TopicSpec(Topic.TICKER, partitions=6, retention_ms=_SEVEN_DAYS_MS),
    TopicSpec(Topic.ORDERBOOK, partitions=6, retention_ms=_SEVEN_DAYS_MS),
    TopicSpec(Topic.DLQ, partitions=1, retention_ms=_THIRTY_DAYS_MS),
)
