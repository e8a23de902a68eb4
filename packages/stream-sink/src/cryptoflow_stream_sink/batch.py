"""Turns one batch of Kafka records into a Redis write plan and a list of dead letters (pure logic)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from cryptoflow_contracts.errors import DecodeError, IncompatibleVersionError
from cryptoflow_contracts.hotpath import StoredRecord, stored_record
from cryptoflow_contracts.markets import quote_of
from cryptoflow_contracts.records import RecordHeaders
from cryptoflow_contracts.topics import Topic
from cryptoflow_contracts.version import is_compatible, require_compatible
from cryptoflow_stream_sink.writer import LatestEntry, MarketSeen, Plan, TradeEntry

KIND_BY_TOPIC = {Topic.TRADE: "trade", Topic.TICKER: "ticker", Topic.ORDERBOOK: "orderbook"}


class Message(Protocol):
    """What the sink reads of an aiokafka `ConsumerRecord`."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message: Message
    reason: str


@dataclass(slots=True)
class DecodedBatch:
    plan: Plan = field(default_factory=Plan)
    dead: list[DeadLetter] = field(default_factory=list)
    records_in: Counter[str] = field(default_factory=Counter)
    """Every record read, valid or not, by kind of its topic."""
    superseded: Counter[str] = field(default_factory=Counter)
    """Tickers and orderbooks that a newer record of the same market in this batch replaces."""


def decode(message: Message, topic: Topic) -> StoredRecord:
    """The record in `message`, read from contract topic `topic`; `ValueError` says why it is refused."""
    headers = RecordHeaders.from_kafka(message.headers)
    if not _compatible(headers.contract_version):
        require_compatible(headers.contract_version)  # raises, with the reason
    if headers.contract != topic:
        raise DecodeError(f"header contract={headers.contract!r} on topic {topic}")
    if message.value is None:
        raise DecodeError("empty record value (tombstone)")
    return stored_record(topic, message.value)


@lru_cache(maxsize=64)
def _compatible(version: str) -> bool:
    # Every record carries the header; the answer depends only on its text.
    return is_compatible(version)


def build(messages: Iterable[Message], topics: Mapping[str, Topic]) -> DecodedBatch:
    """`topics` maps the Kafka topic names read to their contract topics (they differ by a prefix)."""
    out = DecodedBatch()
    tickers: dict[str, StoredRecord] = {}
    books: dict[str, StoredRecord] = {}
    for message in messages:
        topic = topics[message.topic]
        out.records_in[KIND_BY_TOPIC[topic]] += 1
        try:
            record = decode(message, topic)
        except (DecodeError, IncompatibleVersionError) as exc:
            out.dead.append(DeadLetter(message, str(exc)))
            continue
        if topic is Topic.TRADE:
            assert record.sequential_id is not None
            entry = TradeEntry(record.sequential_id, record.time_ms, record.fields)
            out.plan.trades.setdefault(record.market, []).append(entry)
            _seen(out.plan, record.market, record.time_ms)
        elif topic is Topic.TICKER:
            _keep_newest(out, tickers, record)
            _seen(out.plan, record.market, record.time_ms, status=record.market_state or "")
        else:
            _keep_newest(out, books, record)
            _seen(out.plan, record.market, record.time_ms)
    # Only the newest record of a market in a batch is written.
    for market, ticker in tickers.items():
        out.plan.tickers[market] = LatestEntry("timestamp", ticker.time_ms, ticker.fields)
    for market, book in books.items():
        out.plan.orderbooks[market] = LatestEntry("timestamp", book.time_ms, book.fields)
    return out


def _keep_newest(out: DecodedBatch, newest: dict[str, StoredRecord], record: StoredRecord) -> None:
    # A market lives in one partition, so records arrive here in offset order: on a tie the later wins.
    current = newest.get(record.market)
    if current is not None:
        out.superseded[record.kind] += 1
        if current.time_ms > record.time_ms:
            return
    newest[record.market] = record


def _seen(plan: Plan, market: str, ts: int, *, status: str = "") -> None:
    seen = plan.markets.get(market)
    if seen is None:
        seen = plan.markets[market] = MarketSeen(quote_currency=quote_of(market), last_seen_ms=ts)
    seen.last_seen_ms = max(seen.last_seen_ms, ts)
    if status and ts >= seen.status_ms:
        seen.status, seen.status_ms = status, ts
