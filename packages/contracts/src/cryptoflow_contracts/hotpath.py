"""The hot path's two conversions, decoded in C by msgspec: WS frame bytes -> Kafka record (ingest) and Kafka
record -> Redis fields (stream-sink). Several times cheaper than going through the pydantic models, and
equal to it.

The models in `ws` and `records` stay the contract. This module decides only the common case, a trade,
ticker or orderbook with every field well formed, and there it answers exactly what the models answer: the
same record bytes, the same Redis fields (`tests/test_hotpath.py` checks this on every sample and on
thousands of variations of them). Everything else goes to the models, which accept it or say why not:
another frame type, a missing or mistyped field, a number written with an exponent (the models write plain
notation), a key of the other WS format (the models prefer DEFAULT names to SIMPLE keys, msgspec knows one
name per field), a source not seen before.

Exact decimals without `Decimal` objects, which would cost more than all the rest together:
- WS numbers are decoded twice: as floats, only to check that each is a JSON number, and as `msgspec.Raw`,
  their exact text, which becomes the record's decimal string unchanged.
- A record's decimal strings are valid (`DECIMAL_PATTERN`, which is JSON's number grammar) exactly when,
  without their quotes, they decode as JSON numbers: one C decode instead of a regex per value.
"""

from __future__ import annotations

import functools
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

import msgspec
from pydantic import BaseModel

from cryptoflow_contracts import fields
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
    split_depth,
)

__all__ = ["LEFT_TO_MODELS", "StoredRecord", "WsRecord", "redis_fields", "stored_record", "ws_record"]

LEFT_TO_MODELS: Counter[str] = Counter()
"""Inputs each conversion (`ingest`, `sink`) left to the models. Invalid and non-market frames always are;
a steady share of valid trades means the exchange changed its format, and the hot path slowed down."""


class _Undecided(Exception):
    """The fast path leaves this input to the models."""


_REFUSED = (msgspec.ValidationError, msgspec.DecodeError)
_json = msgspec.json.encode


def _pattern(annotation: Any) -> str:
    # pydantic's (Rust) `$` is the end of the text; Python's also matches before a final newline.
    pattern: str = annotation.__metadata__[0].pattern
    return pattern.removesuffix("$") + r"\Z"


# msgspec types by the annotation text of the models' fields (`from __future__ import annotations` keeps
# them as text). A field type missing here fails at import, not at run time.
_TYPES: dict[str, Any] = {
    "int": int,
    "bool": bool,
    "EpochMs": Annotated[int, msgspec.Meta(ge=0)],
    "MarketCode": Annotated[str, msgspec.Meta(min_length=1)],
    "Name": Annotated[str, msgspec.Meta(pattern=_pattern(Name))],
    "Side": fields.Side,
    "Change": fields.Change,
    "StreamType": fields.StreamType,
    "MarketState": fields.MarketState,
    "MarketWarning": fields.MarketWarning,
    **{
        name: Annotated[str, msgspec.Meta(pattern=_pattern(getattr(fields, name)))]
        for name in ("DashDate", "CompactDate", "ColonTime", "CompactTime")
    },
}
_DECIMALS = {"WireDecimal", "DecimalStr"}


def _annotations(model: type[BaseModel]) -> dict[str, str]:
    found: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        found.update(getattr(cls, "__annotations__", {}))
    return {name: found[name] for name in model.model_fields}


def _is_decimal(annotation: str) -> bool:
    return annotation.removesuffix(" | None") in _DECIMALS


def _struct(
    name: str,
    model: type[BaseModel],
    *,
    decimal: Any,
    keys: Mapping[str, str] | None = None,
    units: Any = None,
    only_decimals: bool = False,
    shadow_keys: Iterable[str] = (),
    tag_field: str | None = None,
) -> type[msgspec.Struct]:
    """A Struct with `model`'s fields, named as in `keys`: decimals as `decimal`, the list of levels as
    `units` if that is `msgspec.Raw`, else as `list[units]`; other types as in the model; absent optional
    fields are None. `shadow_keys` become
    extra fields (`shadow_<key>`) that tell whether a key is present. With `tag_field`, the model's literal
    field is the tag of a tagged union."""
    specs: list[tuple[str, Any, Any]] = []
    tag: str | None = None
    for field, text in _annotations(model).items():
        base = text.removesuffix(" | None")
        kind: Any
        if base in _DECIMALS:
            kind = decimal
        elif base.startswith("list["):
            kind = units if units is msgspec.Raw else list[units]
        elif only_decimals:
            continue
        elif base.startswith("Literal["):
            value = base.removeprefix("Literal['").removesuffix("']")
            if tag_field is not None:
                tag = value
                continue
            kind = Literal[value]
        else:
            kind = _TYPES[base]
        if text != base and kind is not msgspec.Raw:  # a Raw of `null` says null itself
            kind = Union[kind, None]  # noqa: UP007 (a type expression evaluated at run time)
        required = model.model_fields[field].is_required()
        specs.append((field, kind, msgspec.NODEFAULT if required else None))
    rename = {field: keys[field] for field, _, _ in specs} if keys else {}
    for key in shadow_keys:
        specs.append((f"shadow_{key}", msgspec.Raw, None))
        rename[f"shadow_{key}"] = key
    tagging: dict[str, Any] = {"tag_field": tag_field, "tag": tag} if tag_field else {}
    return msgspec.defstruct(name, specs, rename=rename or None, kw_only=True, **tagging)


def _getter(names: Iterable[str]) -> Callable[[Any], tuple[Any, ...]]:
    """`operator.attrgetter` that returns a tuple for any number of names."""
    names = tuple(names)
    if not names:
        return lambda _: ()
    get = operator.attrgetter(*names)
    return (lambda obj: (get(obj),)) if len(names) == 1 else get


# -- ingest: WS frame -> Kafka record -----------------------------------------------------------------


@dataclass(slots=True)  # not frozen: a frozen dataclass takes 1 µs longer to build
class WsRecord:
    """A trade, ticker or orderbook frame turned into its Kafka record."""

    kind: str
    topic: Topic
    market: str
    timestamp: int
    """The frame's message time (exchange clock)."""
    value: bytes
    """`serialize(record_from_ws(parse_ws_frame(raw), ...))`, byte for byte."""
    sequential_id: int | None = None
    trade_timestamp: int | None = None
    """Both set for trades only."""


# The orderbook's levels are handled as bytes. A level's *skeleton* is the level with the number characters
# taken out; checking it against the expected one proves the keys, their order, the compact layout and that
# every value is made of number characters (no exponent). With the structure taken out instead, what is left
# is the flat array of the values, which msgspec reads as numbers (JSON's number grammar) or as texts.
if tuple(OrderbookUnit.model_fields) != tuple(WsOrderbookUnit.model_fields):
    raise ImportError("OrderbookUnit and WsOrderbookUnit must list the same fields in the same order")
_NUMBER_CHARS = b"0123456789.-"
_STRUCTURE_CHARS = b'"{}:_abcdefghijklmnopqrstuvwxyz'
_RECORD_LEVEL = b"{" + b",".join(b'"%s":"%%b"' % f.encode() for f in OrderbookUnit.model_fields) + b"}"
_NUMBERS = msgspec.json.Decoder(list[float])


@functools.lru_cache(maxsize=512)
def _repeated(item: bytes, count: int) -> bytes:
    """`[item,item,...]`: level skeletons, and the template of `count` record levels."""
    return b"[" + b",".join([item] * count) + b"]"


def _level_values(levels: bytes, skeleton: bytes) -> bytes:
    """The flat JSON array of the levels' values, after checking the levels' skeleton and that they are
    all JSON numbers."""
    count = levels.count(b"{")
    if levels.translate(None, _NUMBER_CHARS) != _repeated(skeleton, count):
        raise _Undecided
    values = levels.translate(None, _STRUCTURE_CHARS)
    if len(_NUMBERS.decode(values)) != len(OrderbookUnit.model_fields) * count:
        raise _Undecided
    return values


class _RecordWriter:
    """One frame kind in one format: decodes the frame, then writes its record through a `%(name)b`
    template that has the record's fields in the record model's order, keyed by where each value comes from
    (a frame field, `RECEIVED`, `SOURCE`)."""

    def __init__(
        self, model: type[WsModel], record: type[RecordModel], table: dict[str, str], *, simple: bool
    ) -> None:
        def keys_of(m: type[WsModel]) -> dict[str, str]:
            return {f: m.SIMPLE_KEYS[f] if simple else f for f in m.model_fields}

        keys = keys_of(model)
        other_format = {k for f, s in model.SIMPLE_KEYS.items() for k in (f, s)} - set(keys.values())
        name = f"{model.__name__}{'Simple' if simple else 'Default'}"
        self.typed = _struct(
            name,
            model,
            decimal=float,
            keys=keys,
            units=msgspec.Raw,
            shadow_keys=sorted(other_format),
            tag_field=keys["type"],
        )
        self._texts = msgspec.json.Decoder(
            _struct(
                f"{name}Texts", model, decimal=msgspec.Raw, keys=keys, units=msgspec.Raw, only_decimals=True
            )
        )
        self._shadows = _getter(f for f in self.typed.__struct_fields__ if f.startswith("shadow_"))
        self._level_skeleton = (
            b"{" + b",".join(b'"%s":' % k.encode() for k in keys_of(WsOrderbookUnit).values()) + b"}"
        )
        self.kind = model.KIND
        self.topic = record.TOPIC
        self.trade = model is WsTrade

        decimals = [f for f, t in _annotations(model).items() if _is_decimal(t)]
        required = [f for f in decimals if model.model_fields[f].is_required()]
        optional = [f for f in decimals if f not in required]
        # The same names read the texts (`Raw`) and the typed frame (floats, None when absent or null).
        self._get_required = _getter(required)
        self._get_optional = _getter(optional)
        # What an absent optional decimal becomes: null, or the model's default (`level`: "0").
        self._absent = {
            f: b"null" if (d := model.model_fields[f].default) is None else _json(plain_notation(d))
            for f in optional
        }
        sources = [table.get(f, f) for f in record.model_fields if f != "kind"]
        special = {RECEIVED, SOURCE, "market", "orderbook_units", *decimals}
        plain = [f for f in sources if f not in special]
        self._plain_values = _getter(plain)
        # `bytes % mapping` looks its keys up as bytes
        self._plain = [f.encode() for f in plain]
        self._required = [f.encode() for f in required]
        self._optional = [f.encode() for f in optional]
        self._market = "market" in sources  # the orderbook's: its code without the depth suffix
        self._levels = "orderbook_units" in sources

        # Two templates: for frames that have every optional decimal (the usual case) their texts go in
        # quoted, like the required ones; otherwise they go in as JSON written here (null, the default).
        def template(quoted: set[str]) -> bytes:
            parts = [f'"kind":"{model.KIND}"']
            for field, source in zip((f for f in record.model_fields if f != "kind"), sources, strict=True):
                quote = '"' if source in quoted else ""
                parts.append(f'"{field}":{quote}%({source})b{quote}')
            return ("{" + ",".join(parts) + "}").encode()

        self._template_complete = template(set(decimals))
        self._template = template(set(required))

    def write(self, raw: bytes, frame: Any, received_ms: int, source: bytes) -> WsRecord:
        shadows = self._shadows(frame)
        if shadows.count(None) != len(shadows):
            raise _Undecided
        texts: Any = self._texts.decode(raw)
        required = self._get_required(texts)
        optional = self._get_optional(texts)
        optional_typed = self._get_optional(frame)
        values: dict[bytes, Any] = dict(zip(self._plain, map(_json, self._plain_values(frame)), strict=True))
        values[_RECEIVED] = b"%d" % received_ms
        values[_SOURCE] = source
        if None in optional or None in optional_typed:
            template = self._template
            texts_in = required
            self._write_incomplete(values, optional, optional_typed)
        else:
            template = self._template_complete
            texts_in = required + optional
            values.update(zip(self._optional, optional, strict=True))
        _check_written_as_is(b",".join(texts_in))
        values.update(zip(self._required, required, strict=True))
        market: str = frame.code
        if self._market:
            market = split_depth(market)[0]
            values[b"market"] = _json(market)
        if self._levels:
            values[b"orderbook_units"] = _record_levels(bytes(texts.orderbook_units), self._level_skeleton)
        return WsRecord(
            kind=self.kind,
            topic=self.topic,
            market=market,
            timestamp=frame.timestamp,
            value=template % values,
            sequential_id=frame.sequential_id if self.trade else None,
            trade_timestamp=frame.trade_timestamp if self.trade else None,
        )

    def _write_incomplete(
        self, values: dict[bytes, Any], texts: tuple[Any, ...], typed: tuple[Any, ...]
    ) -> None:
        for key, raw_text, value in zip(self._optional, texts, typed, strict=True):
            if raw_text is None:
                values[key] = self._absent[key.decode()]
            elif value is None:
                values[key] = b"null"
            else:
                text = bytes(raw_text)
                _check_written_as_is(text)
                values[key] = b'"%b"' % text


_RECEIVED, _SOURCE = RECEIVED.encode(), SOURCE.encode()


def _check_written_as_is(numbers: bytes) -> None:
    """Raises unless the models write these comma-separated WS numbers as they are: not with an exponent
    (written out in plain notation), not the integer `-0` (an int, so `0`)."""
    if b"e" in numbers or b"E" in numbers or b",-0," in b"," + numbers + b",":
        raise _Undecided


def _record_levels(levels: bytes, skeleton: bytes) -> bytes:
    """WS levels (`skeleton` says in which format) written as the record's levels."""
    values = _level_values(levels, skeleton)[1:-1]
    _check_written_as_is(values)
    texts = values.split(b",") if values else []
    return _repeated(_RECORD_LEVEL, len(texts) // len(OrderbookUnit.model_fields)) % tuple(texts)


@dataclass(frozen=True, slots=True)
class _WsFormat:
    decoder: msgspec.json.Decoder[Any]
    writers: dict[type, _RecordWriter]


def _ws_format(*, simple: bool) -> _WsFormat:
    writers = {}
    for model, record, table in (
        (WsTrade, TradeRecord, TRADE_FROM_WS),
        (WsTicker, TickerRecord, TICKER_FROM_WS),
        (WsOrderbook, OrderbookRecord, ORDERBOOK_FROM_WS),
    ):
        writer = _RecordWriter(model, record, table, simple=simple)
        writers[writer.typed] = writer
    return _WsFormat(msgspec.json.Decoder(Union[tuple(writers)]), writers)  # noqa: UP007


_DEFAULT = _ws_format(simple=False)
_SIMPLE = _ws_format(simple=True)
_SOURCES: dict[str, bytes] = {}
"""Sources the models have validated, as JSON (a handful: `ws`, `rest-backfill`, ...)."""


def ws_record(raw: bytes, *, received_ms: int, source: str) -> WsRecord | WsFrame:
    """The record of a trade, ticker or orderbook frame; any other valid frame, parsed (status, error, ...).

    Raises `FrameError` with the models' reason for an invalid frame.
    """
    fmt = _SIMPLE if raw.startswith(b'{"ty":') else _DEFAULT
    checked = _SOURCES.get(source)
    if checked is not None and type(received_ms) is int and received_ms >= 0:
        try:
            frame = fmt.decoder.decode(raw)
            return fmt.writers[type(frame)].write(raw, frame, received_ms, checked)
        except (_Undecided, *_REFUSED):
            pass
    LEFT_TO_MODELS["ingest"] += 1
    return _model_ws_record(raw, received_ms, source)


def _model_ws_record(raw: bytes, received_ms: int, source: str) -> WsRecord | WsFrame:
    frame = parse_ws_frame(raw)
    if not isinstance(frame, WsTrade | WsTicker | WsOrderbook):
        return frame
    record = record_from_ws(frame, received_ms=received_ms, source=source)
    if len(_SOURCES) < 64:
        _SOURCES[source] = _json(source)
    out = WsRecord(record.kind, record.TOPIC, record.market, frame.timestamp, serialize(record))
    if isinstance(frame, WsTrade):
        out.sequential_id, out.trade_timestamp = frame.sequential_id, frame.trade_timestamp
    return out


# -- stream-sink: Kafka record -> Redis fields ------------------------------------------------------------


@dataclass(slots=True)
class StoredRecord:
    """What the sink needs of a trade, ticker or orderbook record."""

    kind: str
    market: str
    time_ms: int
    """`trade_timestamp` of a trade, `timestamp` of a ticker or orderbook: what orders them."""
    fields: tuple[str, ...]
    """The Redis hash or stream entry: field, value, field, value, ... (see `redis_fields`)."""
    sequential_id: int | None = None
    market_state: str | None = None


def redis_fields(record: MarketRecord) -> tuple[str, ...]:
    """Field/value pairs for Redis: every field but `kind`, null fields left out, decimals as their exact
    plain text, integers in decimal, the orderbook's `units` as compact JSON (an array of objects of
    decimal strings)."""
    pairs: list[str] = []
    for name, value in record.model_dump(mode="json", exclude={"kind"}, exclude_none=True).items():
        text = value if type(value) is str else _json(value).decode() if type(value) is list else str(value)
        pairs += (name, text)
    return tuple(pairs)


def _check_decimals(texts: list[str]) -> None:
    """Raises unless every text is a plain-notation JSON number (the models' decimal strings)."""
    written = _json(texts)
    # Only number characters inside the quotes; then, unquoted, JSON must read that many numbers.
    if written.translate(None, _NUMBER_CHARS) != _repeated(b'""', len(texts)):
        raise _Undecided
    if len(_NUMBERS.decode(written.translate(None, b'"'))) != len(texts):  # `[""]` reads as `[]`
        raise _Undecided


def _checked_levels(levels: msgspec.Raw) -> str:
    """The record's levels as they are, once checked canonical: the Redis value."""
    written = bytes(levels)
    _level_values(written, _RECORD_LEVEL.replace(b"%b", b""))
    return written.decode()


class _RecordReader:
    """One record topic: decodes the record, checks its decimal strings, lists its Redis fields."""

    def __init__(self, record: type[RecordModel]) -> None:
        self._decoder = msgspec.json.Decoder(_struct(record.__name__, record, decimal=str, units=msgspec.Raw))
        annotations = _annotations(record)
        self._decimals = _getter(f for f, t in annotations.items() if _is_decimal(t))
        self._fields = tuple(f for f in record.model_fields if f != "kind")
        self.kind = str(record.model_fields["kind"].default)
        self.trade = record is TradeRecord
        self.ticker = record is TickerRecord

    def read(self, value: bytes) -> StoredRecord:
        record: Any = self._decoder.decode(value)
        _check_decimals([d for d in self._decimals(record) if d is not None])
        pairs: list[str] = []
        for name in self._fields:
            field = getattr(record, name)
            if field is None:
                continue
            if name == "units":
                field = _checked_levels(field)
            elif type(field) is not str:
                field = str(field)
            pairs += (name, field)
        return StoredRecord(
            kind=self.kind,
            market=record.market,
            time_ms=record.trade_timestamp if self.trade else record.timestamp,
            fields=tuple(pairs),
            sequential_id=record.sequential_id if self.trade else None,
            market_state=record.market_state if self.ticker else None,
        )


_READERS = {record.TOPIC: _RecordReader(record) for record in (TradeRecord, TickerRecord, OrderbookRecord)}


def stored_record(topic: Topic, value: bytes) -> StoredRecord:
    """The trade, ticker or orderbook record `value` read from `topic`, ready for Redis.

    Raises `RecordError` (a `ValueError`) with the models' reason when it does not fit the contract.
    """
    reader = _READERS.get(topic)
    if reader is None:
        raise RecordError(f"no Redis fields for records of {topic}")
    try:
        return reader.read(value)
    except (_Undecided, *_REFUSED):
        pass
    LEFT_TO_MODELS["sink"] += 1
    record = deserialize_record(topic, value)
    if not isinstance(record, TradeRecord | TickerRecord | OrderbookRecord):
        raise RecordError(f"a {type(record).__name__} on topic {topic}")
    stored = StoredRecord(record.kind, record.market, record.timestamp or 0, redis_fields(record))
    if isinstance(record, TradeRecord):
        stored.time_ms, stored.sequential_id = record.trade_timestamp, record.sequential_id
    elif isinstance(record, TickerRecord):
        stored.market_state = record.market_state
    return stored
