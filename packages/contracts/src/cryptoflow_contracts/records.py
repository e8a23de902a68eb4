"""Normalized Kafka records (JSON values, UTF-8; key = market code) and their headers.

One record model per topic (`cryptoflow_contracts.topics.Topic`). Decimals are written as JSON strings
and read back exactly; times are UTC epoch milliseconds: the exchange's (`trade_timestamp`,
`timestamp`) and CryptoFlow's own (`received_ms`). Unknown keys are ignored so that a consumer keeps
reading records from a newer minor version of this package.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, ClassVar, Literal, TypeAlias, TypeVar, overload

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from cryptoflow_contracts.decimals import DecimalStr
from cryptoflow_contracts.errors import RecordError, describe_validation_error
from cryptoflow_contracts.fields import Change, DashDate, EpochMs, MarketCode, MarketState, Side, StreamType
from cryptoflow_contracts.rest import RestTradeTick
from cryptoflow_contracts.topics import Topic
from cryptoflow_contracts.version import CONTRACT_VERSION, is_compatible
from cryptoflow_contracts.ws import WsModel, WsOrderbook, WsTicker, WsTrade

__all__ = [
    "DeadLetterRecord",
    "MarketRecord",
    "OrderbookRecord",
    "OrderbookUnit",
    "Record",
    "RecordHeaders",
    "RecordModel",
    "Source",
    "TickerRecord",
    "TradeRecord",
    "deserialize_record",
    "kafka_key",
    "record_from_rest_trade",
    "record_from_ws",
    "serialize",
]


class Source(StrEnum):
    """Where a record came from (`source` field and header). Other lower-case names are allowed."""

    WS = "ws"
    REST_BACKFILL = "rest-backfill"
    REPLAY = "replay"


Name = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9-]*$")]


class RecordModel(BaseModel):
    """Base of every Kafka record: immutable, strict types, unknown keys ignored."""

    model_config = ConfigDict(frozen=True, strict=True, extra="ignore", use_attribute_docstrings=True)

    TOPIC: ClassVar[Topic]


class TradeRecord(RecordModel):
    """One trade. Deduplicate on (`market`, `sequential_id`), order by (`trade_timestamp`, `sequential_id`):
    Upbit ids are unique but not ordered."""

    TOPIC: ClassVar[Topic] = Topic.TRADE

    kind: Literal["trade"] = "trade"
    market: MarketCode
    """Upbit market code without any depth suffix, e.g. `KRW-BTC`."""
    sequential_id: int
    """Upbit's trade id: unique per market, NOT ordered."""
    trade_timestamp: EpochMs
    """Exchange time of the trade."""
    timestamp: EpochMs | None
    """Exchange time of the WS message; None for REST backfill."""
    received_ms: EpochMs
    """When CryptoFlow received the frame or response."""
    price: DecimalStr
    volume: DecimalStr
    side: Side
    """Taker side: `ASK` = a seller hit the bid, `BID` = a buyer lifted the ask."""
    prev_closing_price: DecimalStr
    change: Change
    """Versus `prev_closing_price`."""
    change_price: DecimalStr
    """Absolute, as in WS frames (REST's signed value is converted)."""
    best_ask_price: DecimalStr | None = None
    best_ask_size: DecimalStr | None = None
    best_bid_price: DecimalStr | None = None
    best_bid_size: DecimalStr | None = None
    stream_type: StreamType | None = None
    """None for REST backfill."""
    source: Name


class TickerRecord(RecordModel):
    """The latest ticker of a market: latest wins. The day starts at 00:00 UTC; `*_24h` are rolling."""

    TOPIC: ClassVar[Topic] = Topic.TICKER

    kind: Literal["ticker"] = "ticker"
    market: MarketCode
    trade_timestamp: EpochMs
    timestamp: EpochMs
    received_ms: EpochMs
    opening_price: DecimalStr
    high_price: DecimalStr
    low_price: DecimalStr
    trade_price: DecimalStr
    prev_closing_price: DecimalStr
    change: Change
    change_price: DecimalStr
    """Absolute."""
    signed_change_price: DecimalStr
    change_rate: DecimalStr
    """Absolute; 0.015 = 1.5 %."""
    signed_change_rate: DecimalStr
    trade_volume: DecimalStr
    """Volume of the last trade."""
    acc_trade_volume: DecimalStr
    acc_trade_price: DecimalStr
    acc_trade_volume_24h: DecimalStr
    acc_trade_price_24h: DecimalStr
    acc_ask_volume: DecimalStr | None = None
    acc_bid_volume: DecimalStr | None = None
    side: Side | None = None
    """Taker side of the last trade."""
    highest_52_week_price: DecimalStr
    highest_52_week_date: DashDate
    lowest_52_week_price: DecimalStr
    lowest_52_week_date: DashDate
    market_state: MarketState | None = None
    delisting_date: DashDate | None = None
    stream_type: StreamType | None = None
    source: Name


class OrderbookUnit(RecordModel):
    """One level: the n-th best ask and the n-th best bid."""

    ask_price: DecimalStr
    bid_price: DecimalStr
    ask_size: DecimalStr
    bid_size: DecimalStr


class OrderbookRecord(RecordModel):
    """A full top-N snapshot: it replaces the previous book of the market (no deltas)."""

    TOPIC: ClassVar[Topic] = Topic.ORDERBOOK

    kind: Literal["orderbook"] = "orderbook"
    market: MarketCode
    timestamp: EpochMs
    received_ms: EpochMs
    total_ask_size: DecimalStr
    """Sum over `units`, not the whole book."""
    total_bid_size: DecimalStr
    units: list[OrderbookUnit]
    """Best level first."""
    level: DecimalStr
    """Price grouping; 0 = the native tick."""
    stream_type: StreamType | None = None
    source: Name


class DeadLetterRecord(RecordModel):
    """Something a stage could not process, kept with the reason instead of being dropped."""

    TOPIC: ClassVar[Topic] = Topic.DLQ

    kind: Literal["dead_letter"] = "dead_letter"
    stage: Name
    """The stage that gave up: `ingest`, `stream-sink`, ..."""
    reason: str
    failed_ms: EpochMs
    """When the stage gave up."""
    raw_base64: str
    """The frame or record value exactly as received."""
    raw_text: str
    """The same bytes as UTF-8 text, undecodable bytes replaced: for people reading the DLQ."""
    source_topic: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    key: str | None = None
    """The Kafka key of the failed record, as text."""

    @classmethod
    def from_raw(
        cls,
        raw: bytes,
        *,
        stage: str,
        reason: str,
        failed_ms: int,
        source_topic: str | None = None,
        source_partition: int | None = None,
        source_offset: int | None = None,
        key: bytes | None = None,
    ) -> DeadLetterRecord:
        return cls(
            stage=stage,
            reason=reason,
            failed_ms=failed_ms,
            raw_base64=base64.b64encode(raw).decode("ascii"),
            raw_text=raw.decode("utf-8", errors="replace"),
            source_topic=source_topic,
            source_partition=source_partition,
            source_offset=source_offset,
            key=None if key is None else key.decode("utf-8", errors="replace"),
        )

    @property
    def raw(self) -> bytes:
        try:
            return base64.b64decode(self.raw_base64, validate=True)
        except binascii.Error as exc:
            raise RecordError(f"dead_letter.raw_base64: not base64 ({exc})") from None


MarketRecord: TypeAlias = TradeRecord | TickerRecord | OrderbookRecord
"""A record about one market, keyed by `market` in Kafka."""
Record: TypeAlias = TradeRecord | TickerRecord | OrderbookRecord | DeadLetterRecord

_MODEL_BY_TOPIC: dict[str, type[RecordModel]] = {
    str(model.TOPIC): model for model in (TradeRecord, TickerRecord, OrderbookRecord, DeadLetterRecord)
}
_M = TypeVar("_M", bound=RecordModel)


def _build(model: type[_M], values: dict[str, object], kind: str | None = None) -> _M:
    """`model` holding `values` without validating them again, exactly as `model(**values)` would have
    (same `__dict__` in field order, fields set, no extra or private state): for values taken from a
    frame that pydantic has already validated."""
    record = model.__new__(model)
    setattr_ = object.__setattr__
    setattr_(record, "__dict__", values if kind is None else {"kind": kind, **values})
    setattr_(record, "__pydantic_fields_set__", set(values))
    setattr_(record, "__pydantic_extra__", None)
    setattr_(record, "__pydantic_private__", None)
    return record


# received_ms and source are not from the frame: check them as validation would, caching the (few) sources.
_SOURCES: dict[str, str] = {}
_MAX_SOURCES = 64


def _fast_source(received_ms: object, source: object) -> str | None:
    """The validated `source` when both arguments are certainly valid, else None (validate normally)."""
    if type(received_ms) is not int or received_ms < 0 or not isinstance(source, str):
        return None
    return _SOURCES.get(source)


def _remember_source(source: str, record: MarketRecord) -> None:
    if len(_SOURCES) < _MAX_SOURCES:
        _SOURCES[source] = record.source


@overload
def record_from_ws(frame: WsTrade, *, received_ms: int, source: str = ...) -> TradeRecord: ...
@overload
def record_from_ws(frame: WsTicker, *, received_ms: int, source: str = ...) -> TickerRecord: ...
@overload
def record_from_ws(frame: WsOrderbook, *, received_ms: int, source: str = ...) -> OrderbookRecord: ...
def record_from_ws(
    frame: WsTrade | WsTicker | WsOrderbook, *, received_ms: int, source: str = Source.WS
) -> TradeRecord | TickerRecord | OrderbookRecord:
    """The record for a WS trade, ticker or orderbook frame (`TypeError` for any other frame)."""
    checked = _fast_source(received_ms, source)
    if checked is None:
        # First sight of this source, or a wrong argument: full validation, with its usual errors.
        record = _validated_record_from_ws(frame, received_ms=received_ms, source=source)
        _remember_source(source, record)
        return record
    if isinstance(frame, WsTrade):
        return _build(TradeRecord, _trade_values(frame, received_ms, checked), "trade")
    if isinstance(frame, WsTicker):
        return _build(TickerRecord, _ticker_values(frame, received_ms, checked), "ticker")
    if isinstance(frame, WsOrderbook):
        units = _built_units(frame)
        return _build(OrderbookRecord, _orderbook_values(frame, received_ms, checked, units), "orderbook")
    raise TypeError(f"no Kafka record for {type(frame).__name__} frames")


def _validated_record_from_ws(
    frame: WsTrade | WsTicker | WsOrderbook, *, received_ms: int, source: str
) -> TradeRecord | TickerRecord | OrderbookRecord:
    if isinstance(frame, WsTrade):
        return TradeRecord.model_validate(_trade_values(frame, received_ms, source))
    if isinstance(frame, WsTicker):
        return TickerRecord.model_validate(_ticker_values(frame, received_ms, source))
    if isinstance(frame, WsOrderbook):
        return OrderbookRecord.model_validate(
            _orderbook_values(frame, received_ms, source, _unit_values(frame))
        )
    raise TypeError(f"no Kafka record for {type(frame).__name__} frames")


# Where each record field comes from in its WS frame, in the record's field order: a frame attribute, or
# `RECEIVED` / `SOURCE` for the two values that are not in the frame. The orderbook's `units` are built
# from `orderbook_units`. `hotpath` reads the same tables.
RECEIVED, SOURCE = "<received_ms>", "<source>"
TRADE_FROM_WS: dict[str, str] = {
    "market": "code",
    "sequential_id": "sequential_id",
    "trade_timestamp": "trade_timestamp",
    "timestamp": "timestamp",
    "received_ms": RECEIVED,
    "price": "trade_price",
    "volume": "trade_volume",
    "side": "ask_bid",
    "prev_closing_price": "prev_closing_price",
    "change": "change",
    "change_price": "change_price",
    "best_ask_price": "best_ask_price",
    "best_ask_size": "best_ask_size",
    "best_bid_price": "best_bid_price",
    "best_bid_size": "best_bid_size",
    "stream_type": "stream_type",
    "source": SOURCE,
}
TICKER_FROM_WS: dict[str, str] = {
    "market": "code",
    "trade_timestamp": "trade_timestamp",
    "timestamp": "timestamp",
    "received_ms": RECEIVED,
    "opening_price": "opening_price",
    "high_price": "high_price",
    "low_price": "low_price",
    "trade_price": "trade_price",
    "prev_closing_price": "prev_closing_price",
    "change": "change",
    "change_price": "change_price",
    "signed_change_price": "signed_change_price",
    "change_rate": "change_rate",
    "signed_change_rate": "signed_change_rate",
    "trade_volume": "trade_volume",
    "acc_trade_volume": "acc_trade_volume",
    "acc_trade_price": "acc_trade_price",
    "acc_trade_volume_24h": "acc_trade_volume_24h",
    "acc_trade_price_24h": "acc_trade_price_24h",
    "acc_ask_volume": "acc_ask_volume",
    "acc_bid_volume": "acc_bid_volume",
    "side": "ask_bid",
    "highest_52_week_price": "highest_52_week_price",
    "highest_52_week_date": "highest_52_week_date",
    "lowest_52_week_price": "lowest_52_week_price",
    "lowest_52_week_date": "lowest_52_week_date",
    "market_state": "market_state",
    "delisting_date": "delisting_date",
    "stream_type": "stream_type",
    "source": SOURCE,
}
ORDERBOOK_FROM_WS: dict[str, str] = {
    "market": "market",
    "timestamp": "timestamp",
    "received_ms": RECEIVED,
    "total_ask_size": "total_ask_size",
    "total_bid_size": "total_bid_size",
    "units": "orderbook_units",
    "level": "level",
    "stream_type": "stream_type",
    "source": SOURCE,
}


def _values(table: dict[str, str], frame: WsModel, received_ms: object, source: object) -> dict[str, object]:
    extra = {RECEIVED: received_ms, SOURCE: source}
    return {name: extra[attr] if attr in extra else getattr(frame, attr) for name, attr in table.items()}


def _trade_values(frame: WsTrade, received_ms: int, source: str) -> dict[str, object]:
    return _values(TRADE_FROM_WS, frame, received_ms, source)


def _ticker_values(frame: WsTicker, received_ms: int, source: str) -> dict[str, object]:
    return _values(TICKER_FROM_WS, frame, received_ms, source)


_UNIT_FIELDS = frozenset(OrderbookUnit.model_fields)


def _built_units(frame: WsOrderbook) -> list[OrderbookUnit]:
    # `_build` inlined: this loop runs for every level of every orderbook frame.
    new, setattr_, fields = OrderbookUnit.__new__, object.__setattr__, _UNIT_FIELDS
    units = []
    for u in frame.orderbook_units:
        unit = new(OrderbookUnit)
        setattr_(
            unit,
            "__dict__",
            {
                "ask_price": u.ask_price,
                "bid_price": u.bid_price,
                "ask_size": u.ask_size,
                "bid_size": u.bid_size,
            },
        )
        setattr_(unit, "__pydantic_fields_set__", set(fields))
        setattr_(unit, "__pydantic_extra__", None)
        setattr_(unit, "__pydantic_private__", None)
        units.append(unit)
    return units


def _unit_values(frame: WsOrderbook) -> list[dict[str, object]]:
    return [
        {"ask_price": u.ask_price, "bid_price": u.bid_price, "ask_size": u.ask_size, "bid_size": u.bid_size}
        for u in frame.orderbook_units
    ]


def _orderbook_values(
    frame: WsOrderbook, received_ms: int, source: str, units: Sequence[object]
) -> dict[str, object]:
    values = _values(ORDERBOOK_FROM_WS, frame, received_ms, source)
    values["units"] = units
    return values


def record_from_rest_trade(
    tick: RestTradeTick, *, received_ms: int, source: str = Source.REST_BACKFILL
) -> TradeRecord:
    """The record for a `/v1/trades/ticks` item (gap backfill). REST's signed `change_price` becomes
    `change` + the absolute value, as in WS records; REST has no message time, book or stream type."""
    signed = tick.change_price
    change: Change = "RISE" if signed > 0 else "FALL" if signed < 0 else "EVEN"
    return TradeRecord(
        market=tick.market,
        sequential_id=tick.sequential_id,
        trade_timestamp=tick.timestamp,
        timestamp=None,
        received_ms=received_ms,
        price=tick.trade_price,
        volume=tick.trade_volume,
        side=tick.ask_bid,
        prev_closing_price=tick.prev_closing_price,
        change=change,
        change_price=abs(signed),
        source=source,
    )


def serialize(record: RecordModel) -> bytes:
    """Compact UTF-8 JSON; decimals as strings, exactly as held."""
    return type(record).__pydantic_serializer__.to_json(record)


def deserialize_record(topic: str, value: bytes) -> Record:
    """Decode a record value read from `topic`; `RecordError` (a `ValueError`) says why it does not fit."""
    try:
        model = _MODEL_BY_TOPIC[topic]
    except (KeyError, TypeError):
        raise RecordError(f"unknown topic {topic!r}") from None
    try:
        record: Record = model.__pydantic_validator__.validate_json(value)
    except ValidationError as exc:
        raise RecordError(describe_validation_error(exc, what=topic)) from None
    return record


def kafka_key(record: MarketRecord) -> bytes:
    """The Kafka key: the market code, so one market stays ordered within one partition."""
    return record.market.encode()


@dataclass(frozen=True, slots=True)
class RecordHeaders:
    """The headers every record carries: `contract`, `contract-version`, `source`."""

    contract: str
    """The topic name of the record's contract, e.g. `upbit.trade`."""
    contract_version: str = CONTRACT_VERSION
    source: str = Source.WS

    @classmethod
    def for_record(cls, record: RecordModel, *, source: str | None = None) -> RecordHeaders:
        """Headers for `record`; `source` defaults to the record's own `source` field."""
        if source is None:
            source = str(getattr(record, "source", ""))
        return cls(contract=str(record.TOPIC), source=source)

    def to_kafka(self) -> list[tuple[str, bytes]]:
        return [
            ("contract", self.contract.encode()),
            ("contract-version", self.contract_version.encode()),
            ("source", self.source.encode()),
        ]

    @classmethod
    def from_kafka(cls, headers: Sequence[tuple[str, bytes]] | None) -> RecordHeaders:
        """Read the headers back (the first of a repeated key wins; other keys are ignored)."""
        found: dict[str, str] = {}
        for key, value in headers or ():
            if key in {"contract", "contract-version", "source"} and key not in found:
                try:
                    found[key] = value.decode("utf-8")
                except UnicodeDecodeError:
                    raise RecordError(f"header {key!r} is not UTF-8: {value!r}") from None
        missing = [key for key in ("contract", "contract-version", "source") if key not in found]
        if missing:
            raise RecordError(f"missing record header(s): {', '.join(missing)}")
        return cls(
            contract=found["contract"], contract_version=found["contract-version"], source=found["source"]
        )

    @property
    def is_compatible(self) -> bool:
        """Whether this package can read the record: same major contract version."""
        return is_compatible(self.contract_version)
