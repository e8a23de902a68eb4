"""Turns one batch of Kafka records into a Redis write plan and a list of dead letters (pure logic)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from cryptoflow_contracts.errors import DecodeError, IncompatibleVersionError
from cryptoflow_contracts.records import (
    OrderbookRecord,
    RecordHeaders,
    TickerRecord,
    TradeRecord,
    deserialize_record,
)
from cryptoflow_contracts.topics import Topic
from cryptoflow_contracts.version import is_compatible, require_compatible
from cryptoflow_stream_sink.writer import LatestEntry, MarketSeen, Plan, TradeEntry

KIND_BY_TOPIC = {Topic.TRADE: "trade", Topic.TICKER: "ticker", Topic.ORDERBOOK: "orderbook"}
_NOT_STORED = {"kind"}  # constant per topic
_Latest = TypeVar("_Latest", TickerRecord, OrderbookRecord)


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


def decode(message: Message, topic: Topic) -> TradeRecord | TickerRecord | OrderbookRecord:
    """The record in `message`, read from contract topic `topic`; `ValueError` says why it is refused."""
    headers = RecordHeaders.from_kafka(message.headers)
    if not _compatible(headers.contract_version):
        require_compatible(headers.contract_version)  # raises, with the reason
    if headers.contract != topic:
        raise DecodeError(f"header contract={headers.contract!r} on topic {topic}")
    if message.value is None:
        raise DecodeError("empty record value (tombstone)")
    record = deserialize_record(topic, message.value)
    if not isinstance(record, TradeRecord | TickerRecord | OrderbookRecord):
        raise DecodeError(f"a {type(record).__name__} on topic {topic}")
    return record


@lru_cache(maxsize=64)
def _compatible(version: str) -> bool:
    # Every record carries the header; the answer depends only on its text.
    return is_compatible(version)


def build(messages: Iterable[Message], topics: Mapping[str, Topic]) -> DecodedBatch:
    """`topics` maps the Kafka topic names read to their contract topics (they differ by a prefix)."""
    out = DecodedBatch()
    tickers: dict[str, TickerRecord] = {}
    books: dict[str, OrderbookRecord] = {}
    for message in messages:
        topic = topics[message.topic]
        out.records_in[KIND_BY_TOPIC[topic]] += 1
        try:
            record = decode(message, topic)
        except (DecodeError, IncompatibleVersionError) as exc:
            out.dead.append(DeadLetter(message, str(exc)))
            continue
        if isinstance(record, TradeRecord):
            entry = TradeEntry(record.sequential_id, record.trade_timestamp, fields_of(record))
            out.plan.trades.setdefault(record.market, []).append(entry)
            _seen(out.plan, record.market, record.trade_timestamp)
        elif isinstance(record, TickerRecord):
            _keep_newest(out, tickers, record)
            _seen(out.plan, record.market, record.timestamp, status=record.market_state or "")
        else:
            _keep_newest(out, books, record)
            _seen(out.plan, record.market, record.timestamp)
    # Encoded once per market: only the newest record of a batch is written.
    for market, ticker in tickers.items():
        out.plan.tickers[market] = LatestEntry("timestamp", ticker.timestamp, fields_of(ticker))
    for market, book in books.items():
        out.plan.orderbooks[market] = LatestEntry("timestamp", book.timestamp, fields_of(book))
    return out


def fields_of(record: TradeRecord | TickerRecord | OrderbookRecord) -> tuple[str, ...]:
    """Field/value pairs for Redis: every field but `kind`; decimals keep their exact text; null fields are
    left out; the orderbook's `units` is a JSON array of objects of decimal strings."""
    pairs: list[str] = []
    for name, value in record.model_dump(mode="json", exclude=_NOT_STORED, exclude_none=True).items():
        pairs += (name, value if type(value) is str else _text(value))
    return tuple(pairs)


def _text(value: Any) -> str:
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _keep_newest(out: DecodedBatch, newest: dict[str, _Latest], record: _Latest) -> None:
    # A market lives in one partition, so records arrive here in offset order: on a tie the later wins.
    current = newest.get(record.market)
    if current is not None:
        out.superseded[record.kind] += 1
        if current.timestamp > record.timestamp:
            return
    newest[record.market] = record


def _seen(plan: Plan, market: str, ts: int, *, status: str = "") -> None:
    seen = plan.markets.get(market)
    if seen is None:
        seen = plan.markets[market] = MarketSeen(quote_currency=market.partition("-")[0], last_seen_ms=ts)
    seen.last_seen_ms = max(seen.last_seen_ms, ts)
    if status and ts >= seen.status_ms:
        seen.status, seen.status_ms = status, ts
