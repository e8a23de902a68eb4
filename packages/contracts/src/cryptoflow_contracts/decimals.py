"""Exact decimals: a price or size goes from the JSON text to a `Decimal` without ever being a binary float.

Pydantic's own JSON parser reads every JSON number with a fraction or exponent as a float before a
`Decimal` field sees it (`0.12345678901234567` comes out as `0.12345678901234566`, and
`123.00000000` loses its scale). So:

- `loads_exact` parses JSON with `parse_float=Decimal` (the C scanner hands over the number's text);
  models then validate the Python objects. `parse_ws_frame` and the REST parsers use it.
- `WireDecimal` is a JSON *number* on the wire (Upbit frames and responses). It accepts `Decimal` and
  `int`, and refuses `float`, `bool` and `str`. Validating raw JSON directly with pydantic
  (`model_validate_json`) fails loudly for fractional numbers instead of silently rounding them.
- `DecimalStr` is a decimal written as a JSON *string* (our Kafka records). From JSON only strings are
  accepted, so `model_validate_json` is exact; from Python, `Decimal`, `int` and numeric strings.

Both serialize to JSON as strings in plain notation (`format(d, "f")`): the digits and the scale are kept,
an exponent is written out (`1e-8` -> `"0.00000001"`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

# JSON's number grammar; every finite `str(Decimal)` matches it too.
DECIMAL_PATTERN = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)
# The scanner `_DECODER.decode` calls (set in JSONDecoder.__init__, missing from typeshed).
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def loads_exact(raw: bytes | bytearray | str) -> Any:
    """Parse JSON text (UTF-8 bytes or str); numbers with a fraction or exponent become `Decimal`,
    integers stay `int`. Raises `ValueError` (`json.JSONDecodeError` or `UnicodeDecodeError`)."""
    text = raw if isinstance(raw, str) else raw.decode("utf-8")
    if text[:1] == "{":
        # What `decode` does for text without surrounding whitespace, minus its Python-level checks.
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:
            pass  # `decode` raises the usual JSONDecodeError
        else:
            if end == len(text):
                return value
    return _DECODER.decode(text)


def _int_to_decimal() -> core_schema.CoreSchema:
    return core_schema.no_info_after_validator_function(Decimal, core_schema.int_schema(strict=True))


_STRING_DECIMAL = core_schema.no_info_after_validator_function(
    Decimal, core_schema.str_schema(strict=True, pattern=DECIMAL_PATTERN)
)


def plain_notation(value: Any) -> str:
    """`format(value, "f")`: plain notation, never exponents ("0.00000001", not str()'s "1E-8"), same
    digits and scale. str() is three times faster and identical whenever it writes no exponent."""
    if type(value) is Decimal:
        text = str(value)
        if "E" not in text:
            return text
    return format(value, "f")


# Declaring the str result spares pydantic a type check per value.
_TO_STRING = core_schema.plain_serializer_function_ser_schema(
    plain_notation, info_arg=False, return_schema=core_schema.str_schema(), when_used="json"
)


def _wire_decimal_from_json(value: Any) -> Decimal:
    # Only reached through model_validate_json, whose parser has already turned 0.1 into a float.
    if type(value) is int:
        return Decimal(value)
    raise PydanticCustomError(
        "wire_decimal_json",
        "Input should be an integer here: fractional JSON numbers must be parsed with "
        "cryptoflow_contracts.decimals.loads_exact (pydantic's JSON parser goes through float)",
    )


class _WireDecimal:
    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        python = core_schema.union_schema(
            [core_schema.decimal_schema(strict=True, allow_inf_nan=False), _int_to_decimal()],
            mode="left_to_right",
            custom_error_type="wire_decimal",
            custom_error_message="Input should be a JSON number (Decimal or int, never float)",
        )
        return core_schema.json_or_python_schema(
            json_schema=core_schema.no_info_plain_validator_function(_wire_decimal_from_json),
            python_schema=python,
            serialization=_TO_STRING,
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "number"}


class _DecimalStr:
    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        python = core_schema.union_schema(
            [
                core_schema.decimal_schema(strict=True, allow_inf_nan=False),
                _int_to_decimal(),
                _STRING_DECIMAL,
            ],
            mode="left_to_right",
            custom_error_type="decimal_str",
            custom_error_message="Input should be a decimal (Decimal, int or numeric string, never float)",
        )
        json_mode = core_schema.union_schema(
            [_STRING_DECIMAL, _int_to_decimal()],
            mode="left_to_right",
            custom_error_type="decimal_str_json",
            custom_error_message='Input should be a decimal written as a JSON string, e.g. "0.1"',
        )
        return core_schema.json_or_python_schema(
            json_schema=json_mode, python_schema=python, serialization=_TO_STRING
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": DECIMAL_PATTERN}


WireDecimal = Annotated[Decimal, _WireDecimal()]
DecimalStr = Annotated[Decimal, _DecimalStr()]
