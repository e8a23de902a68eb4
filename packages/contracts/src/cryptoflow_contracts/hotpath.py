"""The hot path's two conversions, compiled (`_hotpath`, Rust): WS frame bytes -> Kafka record (ingest) and
Kafka record -> Redis fields (stream-sink). Several times cheaper than going through the pydantic models,
and equal to them.

The models in `ws` and `records` stay the contract, and the plans the compiled code runs are built here
from them: each field's key, its check (type, pattern, choices) and where it goes in the output. The
compiled code decides only the common case, a trade, ticker or orderbook with every field well formed,
and there it answers exactly what the models answer: the same record bytes, the same Redis fields
(`tests/test_hotpath.py` checks this on every sample and on thousands of variations of them). Everything
else goes to the models, which accept it or say why not: another frame type, a missing or mistyped field,
an escaped string, a number written with an exponent (the models write plain notation), a duplicated key,
a key of the other WS format, a source not seen before.

Decimals stay exact without `Decimal` objects: a WS number's text, once checked against JSON's number
grammar, becomes the record's decimal string unchanged; a record's decimal string is checked the same way
and becomes the Redis value unchanged.
"""

from __future__ import annotations

import typing
from collections import Counter
from typing import Any

import msgspec
from pydantic import BaseModel

from cryptoflow_contracts import fields
from cryptoflow_contracts._hotpath import FrameConverter, RecordConverter, StoredRecord, WsRecord
from cryptoflow_contracts.decimals import plain_notation
from cryptoflow_contracts.errors import RecordError
from cryptoflow_contracts.records import (
    ORDERBOOK_FROM_WS,
    RECEIVED,
    SOURCE,
    TICKER_FROM_WS,
    TRADE_FROM_WS,
    MarketRecord,
    Name,
    OrderbookRecord,
    OrderbookUnit,
    RecordModel,
    TickerRecord,
    TradeRecord,
    deserialize_record,
    record_from_ws,
    serialize,
)
from cryptoflow_contracts.topics import Topic
from cryptoflow_contracts.ws import (
    WsFrame,
    WsModel,
    WsOrderbook,
    WsOrderbookUnit,
    WsTicker,
    WsTrade,
    parse_ws_frame,
)

__all__ = ["LEFT_TO_MODELS", "StoredRecord", "WsRecord", "redis_fields", "stored_record", "ws_record"]

LEFT_TO_MODELS: Counter[str] = Counter()
"""Inputs each conversion (`ingest`, `sink`) left to the models. Invalid and non-market frames always are;
a steady share of valid trades means the exchange changed its format, and the hot path slowed down."""

_json = msgspec.json.encode


def _pattern(annotation: Any) -> str:
    return str(annotation.__metadata__[0].pattern)


# The check of each field type, by the annotation text of the models' fields (`from __future__ import
# annotations` keeps them as text): (kind, int minimum or string choices, string pattern, minimum length).
# A field type missing here fails at import, not at run time.
_CHECKS: dict[str, tuple[str, Any, str | None, int]] = {
    "int": ("int", None, None, 0),
    "bool": ("bool", None, None, 0),
    "EpochMs": ("int", 0, None, 0),
    "MarketCode": ("str", None, None, 1),
    "Name": ("str", None, _pattern(Name), 0),
    **{
        name: ("str", list(typing.get_args(getattr(fields, name))), None, 0)
        for name in ("Side", "Change", "StreamType", "MarketState", "MarketWarning")
    },
    **{
        name: ("str", None, _pattern(getattr(fields, name)), 0)
        for name in ("DashDate", "CompactDate", "ColonTime", "CompactTime")
    },
    "WireDecimal": ("decimal", None, None, 0),
    "DecimalStr": ("decimal", None, None, 0),
}


def _annotations(model: type[BaseModel]) -> dict[str, str]:
    found: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        found.update(getattr(cls, "__annotations__", {}))
    return {name: found[name] for name in model.model_fields}


def _field(model: type[BaseModel], name: str, annotation: str) -> tuple[Any, ...]:
    """(check, required, nullable, JSON written when absent) of one field, as the compiled plans take it."""
    base = annotation.removesuffix(" | None")
    if base.startswith("list["):
        check: tuple[str, Any, str | None, int] = ("levels", None, None, 0)
    elif base.startswith("Literal["):
        check = ("str", [base.removeprefix("Literal['").removesuffix("']")], None, 0)
    else:
        check = _CHECKS[base]
    info = model.model_fields[name]
    default = None if info.is_required() else info.default
    absent = _json(plain_notation(default) if check[0] == "decimal" and default is not None else default)
    return (check, info.is_required(), base != annotation, absent)


def _unit_names() -> list[str]:
    if tuple(OrderbookUnit.model_fields) != tuple(WsOrderbookUnit.model_fields):
        raise ImportError("OrderbookUnit and WsOrderbookUnit must list the same fields in the same order")
    return list(OrderbookUnit.model_fields)


# -- ingest: WS frame -> Kafka record -----------------------------------------------------------------


def _keys(model: type[WsModel], *, simple: bool) -> list[str]:
    """The frame's keys in one format, in the model's field order."""
    return [model.SIMPLE_KEYS[f] if simple else f for f in model.model_fields]


def _other_format(model: type[WsModel], *, simple: bool) -> list[str]:
    """Keys of the other format: a frame that has one is left to the models (they prefer DEFAULT names)."""
    both = {key for pair in model.SIMPLE_KEYS.items() for key in pair}
    return sorted(both - set(_keys(model, simple=simple)))


def _frame_plan(
    model: type[WsModel], record: type[RecordModel], table: dict[str, str], *, simple: bool
) -> dict[str, Any]:
    """How one frame kind in one format becomes its record: the frame's keys and their checks, the record's
    fields in its order, each written from a frame field, `RECEIVED` or `SOURCE`."""

    fields = [_field(model, name, annotation) for name, annotation in _annotations(model).items()]
    slot = {name: i for i, name in enumerate(model.model_fields)}
    pieces: list[tuple[str, Any]] = [("text", f'{{"kind":"{model.KIND}"'.encode())]
    for name in (f for f in record.model_fields if f != "kind"):
        source = table.get(name, name)
        pieces.append(("text", f',"{name}":'.encode()))
        if name == "market" and source == "market":
            pieces.append(("market", None))  # the orderbook's: its code without the depth suffix
        elif source in (RECEIVED, SOURCE):
            pieces.append(("received" if source == RECEIVED else "source", None))
        else:
            check_kind = fields[slot[source]][0][0]
            if check_kind == "levels":
                pieces.append(("levels", None))  # the frame's levels, read while parsing it
            else:
                pieces.append(("decimal" if check_kind == "decimal" else "plain", slot[source]))
    pieces.append(("text", b"}"))
    return {
        "kind": model.KIND,
        "topic": record.TOPIC,
        "keys": _keys(model, simple=simple),
        "fields": fields,
        "foreign": _other_format(model, simple=simple),
        "pieces": pieces,
        "code": slot["code"],
        "timestamp": slot["timestamp"],
        "trade": (slot["sequential_id"], slot["trade_timestamp"]) if model is WsTrade else None,
        "split_depth": model is WsOrderbook,
    }


def _frame_converter(*, simple: bool) -> FrameConverter:
    plans = [
        _frame_plan(model, record, table, simple=simple)
        for model, record, table in (
            (WsTrade, TradeRecord, TRADE_FROM_WS),
            (WsTicker, TickerRecord, TICKER_FROM_WS),
            (WsOrderbook, OrderbookRecord, ORDERBOOK_FROM_WS),
        )
    ]
    levels_key = WsOrderbook.SIMPLE_KEYS["orderbook_units"] if simple else "orderbook_units"
    levels = (
        levels_key,
        _keys(WsOrderbookUnit, simple=simple),
        _other_format(WsOrderbookUnit, simple=simple),
    )
    return FrameConverter(WsTrade.SIMPLE_KEYS["type"] if simple else "type", levels, _unit_names(), plans)


_DEFAULT = _frame_converter(simple=False)
_SIMPLE = _frame_converter(simple=True)
_SOURCES: dict[str, bytes] = {}
"""Sources the models have validated, as JSON (a handful: `ws`, `rest-backfill`, ...)."""


def ws_record(raw: bytes, *, received_ms: int, source: str) -> WsRecord | WsFrame:
    """The record of a trade, ticker or orderbook frame; any other valid frame, parsed (status, error, ...).

    Raises `FrameError` with the models' reason for an invalid frame.
    """
    checked = _SOURCES.get(source)
    if checked is not None and type(received_ms) is int and received_ms >= 0:
        converter = _SIMPLE if raw.startswith(b'{"ty":') else _DEFAULT
        record = converter.convert(raw, received_ms, checked)
        if record is not None:
            return record
    LEFT_TO_MODELS["ingest"] += 1
    return _model_ws_record(raw, received_ms, source)


def _model_ws_record(raw: bytes, received_ms: int, source: str) -> WsRecord | WsFrame:
    frame = parse_ws_frame(raw)
    if not isinstance(frame, WsTrade | WsTicker | WsOrderbook):
        return frame
    record = record_from_ws(frame, received_ms=received_ms, source=source)
    if len(_SOURCES) < 64:
        _SOURCES[source] = _json(source)
    trade = (frame.sequential_id, frame.trade_timestamp) if isinstance(frame, WsTrade) else (None, None)
    return WsRecord(
        kind=record.kind,
        topic=record.TOPIC,
        market=record.market,
        timestamp=frame.timestamp,
        value=serialize(record),
        sequential_id=trade[0],
        trade_timestamp=trade[1],
    )


# -- stream-sink: Kafka record -> Redis fields ------------------------------------------------------------


def redis_fields(record: MarketRecord) -> tuple[str, ...]:
    """Field/value pairs for Redis: every field but `kind`, null fields left out, decimals as their exact
    plain text, integers in decimal, the orderbook's `units` as compact JSON (an array of objects of
    decimal strings)."""
    pairs: list[str] = []
    for name, value in record.model_dump(mode="json", exclude={"kind"}, exclude_none=True).items():
        text = value if type(value) is str else _json(value).decode() if type(value) is list else str(value)
        pairs += (name, text)
    return tuple(pairs)


def _record_plan(record: type[RecordModel]) -> dict[str, Any]:
    """How the sink reads one record topic: each field's check, which fields order and identify it."""
    names = list(record.model_fields)
    for name, info in record.model_fields.items():
        if not info.is_required() and info.default is not None and name != "kind":
            raise ImportError(
                f"{record.__name__}.{name}: the sink leaves out absent fields, so none has a default"
            )
    return {
        "kind": record.model_fields["kind"].default,
        "names": names,
        "fields": [_field(record, name, annotation) for name, annotation in _annotations(record).items()],
        "hidden": ["kind"],
        "market": names.index("market"),
        "time": names.index("trade_timestamp" if record is TradeRecord else "timestamp"),
        "sequential_id": names.index("sequential_id") if record is TradeRecord else None,
        "market_state": names.index("market_state") if record is TickerRecord else None,
        "levels_key": next((f for f, t in _annotations(record).items() if t.startswith("list[")), None),
        "unit_names": _unit_names(),
    }


_READERS = {
    record.TOPIC: RecordConverter(_record_plan(record))
    for record in (TradeRecord, TickerRecord, OrderbookRecord)
}


def stored_record(topic: Topic, value: bytes) -> StoredRecord:
    """The trade, ticker or orderbook record `value` read from `topic`, ready for Redis.

    Raises `RecordError` (a `ValueError`) with the models' reason when it does not fit the contract.
    """
    reader = _READERS.get(topic)
    if reader is None:
        raise RecordError(f"no Redis fields for records of {topic}")
    stored = reader.convert(value)
    if stored is not None:
        return stored
    LEFT_TO_MODELS["sink"] += 1
    record = deserialize_record(topic, value)
    if not isinstance(record, TradeRecord | TickerRecord | OrderbookRecord):
        raise RecordError(f"a {type(record).__name__} on topic {topic}")
    if isinstance(record, TradeRecord):
        time_ms, sequential_id = record.trade_timestamp, record.sequential_id
    else:
        time_ms, sequential_id = record.timestamp, None
    return StoredRecord(
        kind=record.kind,
        market=record.market,
        time_ms=time_ms,
        fields=redis_fields(record),
        sequential_id=sequential_id,
        market_state=record.market_state if isinstance(record, TickerRecord) else None,
    )
