"""Decimals stay exact from the raw JSON text to the serialized record: no binary float on the way."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from cryptoflow_contracts.decimals import DecimalStr, WireDecimal, loads_exact
from cryptoflow_contracts.records import TradeRecord, deserialize_record, record_from_ws, serialize
from cryptoflow_contracts.ws import WsTrade, parse_ws_frame

# Each is written back exactly as read. 0.12345678901234567 and the 17-digit values do not survive a
# float; 123.00000000 keeps its scale.
EXACT_TEXTS = [
    "0.1",
    "123.00000000",
    "104862000",
    "104862000.0",
    "0.12345678901234567",
    "12345678901234567.5",
    "98765432109876543",
    "315447885926.8626",
    "0.00000001",
    "-16.0",
]


def _trade_with(price: str, volume: str) -> bytes:
    return (
        '{"type":"trade","code":"KRW-BTC","timestamp":1773278128154,"trade_date":"2026-03-12",'
        '"trade_time":"01:15:28","trade_timestamp":1773278128150,"trade_price":' + price + ","
        '"trade_volume":' + volume + ',"ask_bid":"BID","prev_closing_price":104215000.0,"change":"RISE",'
        '"change_price":647000.0,"sequential_id":17732781281500001,"stream_type":"REALTIME"}'
    ).encode()


@pytest.mark.parametrize("text", EXACT_TEXTS)
def test_numbers_keep_their_digits_from_frame_to_record_bytes(text: str) -> None:
    frame = parse_ws_frame(_trade_with(text, text))
    assert isinstance(frame, WsTrade)
    assert frame.trade_price == Decimal(text)
    assert format(frame.trade_price, "f") == text  # same digits and scale, not just an equal value
    value = serialize(record_from_ws(frame, received_ms=0))
    assert f'"price":"{text}"'.encode() in value
    assert f'"volume":"{text}"'.encode() in value
    record = deserialize_record("upbit.trade", value)
    assert isinstance(record, TradeRecord)
    assert format(record.price, "f") == text
    assert serialize(record) == value


def test_a_float_would_have_lost_these_digits() -> None:
    # Why loads_exact exists: these are the values a float round trip changes.
    assert Decimal(repr(float("0.12345678901234567"))) != Decimal("0.12345678901234567")
    assert int(float(17732781281500001)) != 17732781281500001


@pytest.mark.parametrize(
    ("text", "written"), [("1e-8", "0.00000001"), ("1.0E-4", "0.00010"), ("1E+2", "100"), ("-1.5e3", "-1500")]
)
def test_exponent_forms_keep_their_value_and_are_written_plainly(text: str, written: str) -> None:
    frame = parse_ws_frame(_trade_with(text, "1"))
    assert isinstance(frame, WsTrade)
    assert frame.trade_price == Decimal(text)
    value = serialize(record_from_ws(frame, received_ms=0))
    assert f'"price":"{written}"'.encode() in value
    record = deserialize_record("upbit.trade", value)
    assert isinstance(record, TradeRecord)
    assert record.price == Decimal(text)


def test_sequential_id_beyond_2_pow_53_is_exact() -> None:
    frame = parse_ws_frame(_trade_with("1", "1"))
    assert isinstance(frame, WsTrade)
    assert frame.sequential_id == 17732781281500001
    assert b'"sequential_id":17732781281500001' in serialize(record_from_ws(frame, received_ms=0))


def test_loads_exact_types() -> None:
    data = loads_exact(b'{"a": 0.1, "b": 104862000, "c": 1e-8, "d": [123.00000000], "e": "x"}')
    assert data == {
        "a": Decimal("0.1"),
        "b": 104862000,
        "c": Decimal("1E-8"),
        "d": [Decimal("123.00000000")],
        "e": "x",
    }
    assert type(data["b"]) is int
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        with pytest.raises(ValueError, match="is not a JSON number"):
            loads_exact(constant)


class _Wire(BaseModel):
    value: WireDecimal


class _Stored(BaseModel):
    value: DecimalStr
    maybe: Annotated[DecimalStr | None, "optional"] = None


@pytest.mark.parametrize("bad", [0.1, True, "0.1", Decimal("NaN"), Decimal("Infinity"), None, [1]])
def test_wire_decimal_refuses_anything_but_decimal_and_int(bad: object) -> None:
    with pytest.raises(ValidationError, match="Input should be a JSON number"):
        _Wire(value=bad)


def test_wire_decimal_accepts_decimal_and_int() -> None:
    assert _Wire(value=Decimal("0.1")).value == Decimal("0.1")
    assert _Wire(value=104862000).value == Decimal(104862000)
    assert _Wire.model_validate_json('{"value": 7}').value == 7  # integers are exact in any parser


@pytest.mark.parametrize("good", [Decimal("0.1"), 5, "0.1", "-3", "1E-8", "123.00000000"])
def test_decimal_str_accepts_decimal_int_and_numeric_strings(good: object) -> None:
    assert _Stored(value=good).value == Decimal(str(good))


@pytest.mark.parametrize("bad", [0.1, False, "abc", "NaN", "1_000", " 1", "0x10", "", Decimal("NaN")])
def test_decimal_str_refuses_floats_and_non_numbers(bad: object) -> None:
    with pytest.raises(ValidationError, match="Input should be a decimal"):
        _Stored(value=bad)


def test_decimal_str_from_json_must_be_a_string() -> None:
    assert _Stored.model_validate_json('{"value": "0.12345678901234567"}').value == Decimal(
        "0.12345678901234567"
    )
    with pytest.raises(ValidationError, match="decimal written as a JSON string"):
        _Stored.model_validate_json('{"value": 0.1}')


def test_decimals_serialize_as_json_strings() -> None:
    dumped = json.loads(_Stored(value=Decimal("123.00000000")).model_dump_json())
    assert dumped == {"value": "123.00000000", "maybe": None}
