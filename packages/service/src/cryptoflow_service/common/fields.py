"""Serializer fields for the wire format: decimals as strings, times as epoch ms (+ ISO 8601)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cryptoflow_service.common.markets import MARKET_PATTERN, normalize_market
from cryptoflow_service.common.timeutils import iso, parse_time, to_ms

DECIMAL_STRING_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
DECIMAL_SCHEMA = {
    "type": "string",
    "format": "decimal",
    "pattern": DECIMAL_STRING_PATTERN,
    "example": "104862000.5",
}
EPOCH_MS_SCHEMA = {"type": "integer", "format": "int64", "description": "UTC epoch milliseconds"}
TIME_PARAM_DESCRIPTION = "UTC epoch milliseconds or ISO 8601 (`2026-03-12T01:15:25Z`; no offset = UTC)"


def decimal_string(value: Decimal | str) -> str:
    """Fixed-point text, never an exponent: `Decimal('1E+2')` -> `'100'`. Strings pass as they are."""
    return value if isinstance(value, str) else format(value, "f")


@extend_schema_field(DECIMAL_SCHEMA)
class DecimalStringField(serializers.Field):  # type: ignore[type-arg]
    """An exact decimal in an answer, written as a JSON string with all its digits.

    Output fields here are not `read_only`: drf-spectacular marks every read-only field as required, and
    these answers have optional fields (`required=False`).
    """

    def to_representation(self, value: Decimal | str) -> str:
        return decimal_string(value)


SIGNIFICANT_DIGITS = 8
"""Indicator values on a price's scale (MAs, EMAs, MACD, Bollinger bands, ATR, volume means)."""
RATIO_PLACES = 2
"""Indicator values on a fixed scale (RSI 0-100, %B, z-scores, percentages)."""


def significant(value: Decimal, digits: int = SIGNIFICANT_DIGITS) -> str:
    """`value` rounded half-even to `digits` significant digits, fixed-point, no trailing fractional
    zeros: `104862345.678` -> `'104862350'`, `0.0000123456789` -> `'0.000012345679'`."""
    if value == 0:
        return "0"
    rounded = value.quantize(Decimal(1).scaleb(value.adjusted() - digits + 1), rounding=ROUND_HALF_EVEN)
    text = format(rounded, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def fixed(value: Decimal, places: int = RATIO_PLACES) -> str:
    """`value` rounded half-even to `places` decimals, all of them written: `65.0949` -> `'65.09'`."""
    return format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN), "f")


@extend_schema_field(
    {
        **DECIMAL_SCHEMA,
        "example": "104862350",
        "description": f"Rounded (half-even) to {SIGNIFICANT_DIGITS} significant digits.",
    }
)
class PriceScaleField(serializers.Field):  # type: ignore[type-arg]
    """An indicator on a price's scale, rounded once, here, for every endpoint."""

    def to_representation(self, value: Decimal) -> str:
        return significant(value)


@extend_schema_field(
    {**DECIMAL_SCHEMA, "example": "65.09", "description": f"Rounded (half-even) to {RATIO_PLACES} decimals."}
)
class RatioField(serializers.Field):  # type: ignore[type-arg]
    """An indicator on a fixed scale (RSI, %B, z-score, percent), rounded once, here, for every endpoint."""

    def to_representation(self, value: Decimal) -> str:
        return fixed(value)


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"})
class DecimalInputField(serializers.DecimalField):
    """An exact decimal in a request (string or number), echoed back as a string."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=40, decimal_places=20, **kwargs)

    def quantize(self, value: Decimal) -> Decimal:
        return value  # keep the digits as given (`0.5` stays `0.5`, not `0.50000000000000000000`)

    def to_representation(self, value: Decimal) -> str:
        return decimal_string(value)


@extend_schema_field(EPOCH_MS_SCHEMA)
class EpochMsField(serializers.Field):  # type: ignore[type-arg]
    def to_representation(self, value: datetime | int) -> int:
        return value if isinstance(value, int) else to_ms(value)  # Redis already holds epoch ms


@extend_schema_field({"type": "string", "format": "date-time"})
class IsoTimeField(serializers.Field):  # type: ignore[type-arg]
    def to_representation(self, value: datetime) -> str:
        return iso(value)


@extend_schema_field({"type": "string", "description": TIME_PARAM_DESCRIPTION})
class TimeParamField(serializers.Field):  # type: ignore[type-arg]
    """A query parameter holding a time; becomes an aware UTC datetime."""

    def to_internal_value(self, data: Any) -> datetime:
        try:
            return parse_time(str(data))
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: datetime) -> int:
        return to_ms(value)


@extend_schema_field({"type": "string", "pattern": MARKET_PATTERN, "example": "KRW-BTC"})
class MarketField(serializers.CharField):
    """A market code; case-insensitive on input, upper case after validation."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=40, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        market = normalize_market(text)
        if market is None:
            raise serializers.ValidationError(f"'{text[:40]}' is not a market code like KRW-BTC.")
        return market
