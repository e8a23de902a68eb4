"""The hot-path shortcuts (1.0.1) give exactly what the straightforward code gave: same records, same bytes,
same errors. Each reference below is the pre-1.0.1 way of doing it."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from cryptoflow_contracts.decimals import loads_exact, plain_notation
from cryptoflow_contracts.errors import RecordError
from cryptoflow_contracts.records import (
    OrderbookRecord,
    RecordModel,
    Source,
    TickerRecord,
    TradeRecord,
    deserialize_record,
    record_from_ws,
    serialize,
)
from cryptoflow_contracts.topics import Topic
from cryptoflow_contracts.ws import WsFrame, WsOrderbook, WsTicker, WsTrade, encode_ws_frame, parse_ws_frame

EDGE_DECIMALS = [
    "0", "-0", "0.0", "-0.00", "0E+3", "-0E-10", "1E-8", "1E-7", "1E-6", "0.000001", "0.0000001", "1E+2",
    "1.5E+3", "-1.5E-7", "123.00000000", "104862000.0", "0.12345678901234567", "98765432109876543",
    "12345678901234567890.123", "1E+30", "9.99E-30", "NaN", "-NaN", "NaN12", "sNaN", "Infinity", "-Infinity",
]  # fmt: skip


def _random_decimals(count: int) -> list[Decimal]:
    rng = random.Random(20261126)
    return [
        Decimal(f"{rng.choice('-+')}{rng.randrange(10 ** rng.randrange(1, 25))}E{rng.randrange(-30, 12)}")
        for _ in range(count)
    ]


@pytest.mark.parametrize("text", EDGE_DECIMALS)
def test_plain_notation_is_format_f(text: str) -> None:
    assert plain_notation(Decimal(text)) == format(Decimal(text), "f")


def test_plain_notation_is_format_f_for_random_decimals() -> None:
    for value in _random_decimals(20000):
        assert plain_notation(value) == format(value, "f"), value


def test_plain_notation_of_other_types_is_format_f() -> None:
    assert plain_notation(5) == format(5, "f") == "5.000000"


def _reference_record(frame: WsTrade | WsTicker | WsOrderbook, received_ms: Any, source: Any) -> RecordModel:
    """What record_from_ws did up to 1.0.0: validate the frame's values again."""
    renamed = {"market": "code", "price": "trade_price", "volume": "trade_volume", "side": "ask_bid"}
    model: type[RecordModel]
    if isinstance(frame, WsOrderbook):
        values: dict[str, Any] = {
            "market": frame.market,
            "units": [
                {
                    "ask_price": u.ask_price,
                    "ask_size": u.ask_size,
                    "bid_price": u.bid_price,
                    "bid_size": u.bid_size,
                }
                for u in frame.orderbook_units
            ],
        }
        model = OrderbookRecord
    else:
        values = {}
        model = TradeRecord if isinstance(frame, WsTrade) else TickerRecord
    for name in model.model_fields:
        if name not in values and name not in {"kind", "received_ms", "source"}:
            values[name] = getattr(frame, renamed.get(name, name))
    return model.model_validate(values | {"received_ms": received_ms, "source": source})


def _reference_json(record: BaseModel) -> bytes:
    """Pydantic's compact JSON with decimals as `format(d, "f")` (what 1.0.0 wrote), for ASCII samples."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, list):
            return [plain(item) for item in value]
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        return value

    return json.dumps(plain(record.model_dump()), separators=(",", ":"), ensure_ascii=False).encode()


def _same_record(record: BaseModel, reference: BaseModel) -> None:
    assert type(record) is type(reference)
    assert record == reference
    assert list(record.__dict__) == list(reference.__dict__)
    assert record.model_fields_set == reference.model_fields_set
    assert record.__pydantic_extra__ == reference.__pydantic_extra__
    assert record.__pydantic_private__ == reference.__pydantic_private__
    assert repr(record) == repr(reference)
    try:
        expected_hash = hash(reference)
    except TypeError:  # an orderbook holds a list
        with pytest.raises(TypeError):
            hash(record)
    else:
        assert hash(record) == expected_hash
    assert record.model_dump(exclude_unset=True) == reference.model_dump(exclude_unset=True)
    for name, value in record.__dict__.items():
        if isinstance(value, BaseModel):
            _same_record(value, reference.__dict__[name])
        elif isinstance(value, list):
            for item, expected in zip(value, reference.__dict__[name], strict=True):
                _same_record(item, expected)
        else:
            assert type(value) is type(reference.__dict__[name])


@pytest.fixture(scope="module")
def market_frames(ws_lines: dict[str, list[bytes]]) -> list[WsTrade | WsTicker | WsOrderbook]:
    out: list[WsTrade | WsTicker | WsOrderbook] = []
    for name in ("ws-trade.jsonl", "ws-ticker.jsonl", "ws-ticker-simple.jsonl", "ws-orderbook.jsonl"):
        for line in ws_lines[name]:
            frame = parse_ws_frame(line)
            assert isinstance(frame, WsTrade | WsTicker | WsOrderbook)
            out.append(frame)
            simple = parse_ws_frame(encode_ws_frame(frame, simple=True))
            assert isinstance(simple, WsTrade | WsTicker | WsOrderbook)
            out.append(simple)
    return out


@pytest.mark.parametrize("source", [Source.WS, "ws", Source.REPLAY, "replay", "my-test-source"])
def test_records_from_frames_are_the_validated_ones(
    market_frames: list[WsTrade | WsTicker | WsOrderbook], source: str
) -> None:
    assert len(market_frames) > 30
    for _ in range(2):  # the first call with a source validates it, later ones take the fast path
        for frame in market_frames:
            received_ms = frame.timestamp + 3
            record = record_from_ws(frame, received_ms=received_ms, source=source)
            reference = _reference_record(frame, received_ms, source)
            _same_record(record, reference)
            value = serialize(record)
            assert value == serialize(reference) == _reference_json(reference)
            back = deserialize_record(str(record.TOPIC), value)
            assert back == reference
            assert serialize(back) == value


@pytest.mark.parametrize(
    ("received_ms", "source"),
    [
        (-1, "ws"),
        (True, "ws"),
        (1.0, "ws"),
        ("1", "ws"),
        (0, "WS"),
        (0, ""),
        (0, "1ws"),
        (0, b"ws"),
        (0, None),
    ],
)
def test_wrong_arguments_fail_as_before(
    market_frames: list[WsTrade | WsTicker | WsOrderbook], received_ms: Any, source: Any
) -> None:
    for frame in market_frames[:1] + market_frames[-1:]:
        record_from_ws(frame, received_ms=0, source="ws")  # "ws" is known to the fast path now
        with pytest.raises(ValidationError) as expected:
            _reference_record(frame, received_ms, source)
        with pytest.raises(ValidationError) as got:
            record_from_ws(frame, received_ms=received_ms, source=source)
        assert got.value.errors() == expected.value.errors()
        assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("text", EDGE_DECIMALS[:21])
def test_edge_decimals_serialize_as_before(text: str) -> None:
    value = Decimal(text)
    record = TradeRecord(
        market="KRW-BTC", sequential_id=1, trade_timestamp=1, timestamp=None, received_ms=2, price=value,
        volume=value, side="BID", prev_closing_price=value, change="EVEN", change_price=value, source="ws",
    )  # fmt: skip
    written = serialize(record)
    assert written == _reference_json(record)
    assert f'"price":"{format(value, "f")}"'.encode() in written


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_REFERENCE_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def _outcome(decode: Callable[[Any], Any], raw: Any) -> str:
    try:
        return f"ok {decode(raw)!r}"
    except ValueError as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize(
    "text",
    [
        '{"a":1.50,"b":[1,2.0E-8],"c":{"d":null}}', "{}", ' {"a":1}', '{"a":1} ', '{"a":1}\n', '{"a":1}x',
        '{"a":1}{}', "{", '{"a":}', '{"a":NaN}', '{"a":-Infinity}', '{"a" 1}', "[1.5]", "1.5", "", " ", '"x"',
        '{"a":"\\ud800"}', '{"a":1,"a":2}',
    ],
)  # fmt: skip
def test_loads_exact_is_the_decoder(text: str) -> None:
    expected = _outcome(_REFERENCE_DECODER.decode, text)
    assert _outcome(loads_exact, text) == expected
    assert _outcome(loads_exact, text.encode()) == expected


def test_loads_exact_on_every_sample(ws_lines: dict[str, list[bytes]]) -> None:
    for lines in ws_lines.values():
        for line in lines:
            assert repr(loads_exact(line)) == repr(_REFERENCE_DECODER.decode(line.decode()))


def test_parse_ws_frame_is_model_validate(
    ws_frames: dict[str, list[WsFrame]], ws_lines: dict[str, list[bytes]]
) -> None:
    for name, frames in ws_frames.items():
        for frame, line in zip(frames, ws_lines[name], strict=True):
            reference = type(frame).model_validate(_REFERENCE_DECODER.decode(line.decode()))
            assert frame == reference
            assert repr(frame) == repr(reference)


@pytest.mark.parametrize("topic", [*Topic, *(str(topic) for topic in Topic)])
def test_deserialize_record_takes_topic_names_and_members(topic: str) -> None:
    with pytest.raises(RecordError, match=f"^{topic!s}"):
        deserialize_record(topic, b"{}")


@pytest.mark.parametrize("topic", ["upbit.nope", "", "UPBIT.TRADE"])
def test_deserialize_record_unknown_topic(topic: str) -> None:
    with pytest.raises(RecordError, match="unknown topic"):
        deserialize_record(topic, b"{}")
