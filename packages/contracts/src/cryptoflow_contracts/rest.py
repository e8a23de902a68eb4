"""Upbit REST quotation responses (`https://api.upbit.com/v1/...`), and the `Remaining-Req` header.

Decode bodies with `parse_rest_list` / `parse_rest_error` (exact decimals, see
`cryptoflow_contracts.decimals`). Unknown extra keys are ignored; wrong types are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cryptoflow_contracts.decimals import DecimalStr, WireDecimal, loads_exact
from cryptoflow_contracts.errors import ResponseError, describe_validation_error
from cryptoflow_contracts.fields import (
    CandleDateTime,
    Change,
    ColonTime,
    CompactDate,
    CompactTime,
    DashDate,
    EpochMs,
    MarketCode,
    MarketWarning,
    Side,
)
from cryptoflow_contracts.markets import quote_of

__all__ = [
    "REST_ENDPOINTS",
    "MarketCaution",
    "MarketEvent",
    "RemainingReq",
    "RestCandle",
    "RestCandleDay",
    "RestCandleMinute",
    "RestCandleMonth",
    "RestCandleSecond",
    "RestCandleWeek",
    "RestCandleYear",
    "RestError",
    "RestErrorBody",
    "RestMarket",
    "RestModel",
    "RestOrderbook",
    "RestOrderbookInstrument",
    "RestOrderbookUnit",
    "RestTicker",
    "RestTradeTick",
    "parse_rest_error",
    "parse_rest_list",
    "rest_model_for",
]


class RestModel(BaseModel):
    """Base of every REST model: immutable, strict types, unknown keys ignored."""

    model_config = ConfigDict(frozen=True, strict=True, extra="ignore", use_attribute_docstrings=True)


class MarketCaution(RestModel):
    """`market_event.caution` flags (the reasons for an investment caution). A flag Upbit does not send
    counts as false."""

    model_config = ConfigDict(populate_by_name=True)

    price_fluctuations: bool = Field(False, alias="PRICE_FLUCTUATIONS")
    trading_volume_soaring: bool = Field(False, alias="TRADING_VOLUME_SOARING")
    deposit_amount_soaring: bool = Field(False, alias="DEPOSIT_AMOUNT_SOARING")
    global_price_differences: bool = Field(False, alias="GLOBAL_PRICE_DIFFERENCES")
    concentration_of_small_accounts: bool = Field(False, alias="CONCENTRATION_OF_SMALL_ACCOUNTS")

    @property
    def flagged(self) -> bool:
        return any(getattr(self, name) for name in type(self).model_fields)


class MarketEvent(RestModel):
    warning: bool
    """Investment warning (투자유의)."""
    caution: MarketCaution = MarketCaution()


class RestMarket(RestModel):
    """`GET /v1/market/all?is_details=true`. `market_event` replaced `market_warning` on 2024-11-20;
    both are accepted so old recordings still decode."""

    market: MarketCode
    korean_name: str
    english_name: str
    market_event: MarketEvent | None = None
    market_warning: MarketWarning | None = None
    """Before 2024-11-20 only."""

    @property
    def quote_currency(self) -> str:
        return quote_of(self.market)

    @property
    def is_warning(self) -> bool:
        """The investment warning flag, from whichever field the response had."""
        if self.market_event is not None:
            return self.market_event.warning
        return self.market_warning == "CAUTION"


class RestTicker(RestModel):
    """`GET /v1/ticker` and `/v1/ticker/all`. `change_price`/`change_rate` are absolute, `signed_*` signed."""

    market: MarketCode
    trade_date: CompactDate
    """UTC, `yyyyMMdd`."""
    trade_time: CompactTime
    """UTC, `HHmmss`."""
    trade_date_kst: CompactDate
    trade_time_kst: CompactTime
    trade_timestamp: EpochMs
    opening_price: WireDecimal
    high_price: WireDecimal
    low_price: WireDecimal
    trade_price: WireDecimal
    prev_closing_price: WireDecimal
    change: Change
    change_price: WireDecimal
    change_rate: WireDecimal
    signed_change_price: WireDecimal
    signed_change_rate: WireDecimal
    trade_volume: WireDecimal
    acc_trade_price: WireDecimal
    acc_trade_price_24h: WireDecimal
    acc_trade_volume: WireDecimal
    acc_trade_volume_24h: WireDecimal
    highest_52_week_price: WireDecimal
    highest_52_week_date: DashDate
    lowest_52_week_price: WireDecimal
    lowest_52_week_date: DashDate
    timestamp: EpochMs


class RestCandle(RestModel):
    """Fields every candle endpoint returns. Lists are newest first; buckets without trades are missing."""

    market: MarketCode
    candle_date_time_utc: CandleDateTime
    candle_date_time_kst: CandleDateTime
    opening_price: WireDecimal
    high_price: WireDecimal
    low_price: WireDecimal
    trade_price: WireDecimal
    """Close."""
    timestamp: EpochMs
    """Time of the candle's last tick."""
    candle_acc_trade_price: WireDecimal
    candle_acc_trade_volume: WireDecimal


class RestCandleSecond(RestCandle):
    """`GET /v1/candles/seconds` (last 3 months only)."""


class RestCandleMinute(RestCandle):
    """`GET /v1/candles/minutes/{unit}`."""

    unit: int
    """1, 3, 5, 10, 15, 30, 60 or 240."""


class RestCandleDay(RestCandle):
    """`GET /v1/candles/days`; days are UTC days (09:00 KST)."""

    prev_closing_price: WireDecimal | None = None
    change_price: WireDecimal | None = None
    """Signed here, unlike WS `change_price` (pitfall 2)."""
    change_rate: WireDecimal | None = None
    converted_trade_price: WireDecimal | None = None
    """Only with `converting_price_unit=KRW`."""


class RestCandleWeek(RestCandle):
    """`GET /v1/candles/weeks`."""

    first_day_of_period: DashDate


class RestCandleMonth(RestCandle):
    """`GET /v1/candles/months`."""

    first_day_of_period: DashDate


class RestCandleYear(RestCandle):
    """`GET /v1/candles/years`."""

    first_day_of_period: DashDate


class RestTradeTick(RestModel):
    """`GET /v1/trades/ticks`, newest first, at most 7 days back."""

    market: MarketCode
    trade_date_utc: DashDate
    trade_time_utc: ColonTime
    timestamp: EpochMs
    """The trade's time (the WS `trade_timestamp`)."""
    trade_price: WireDecimal
    trade_volume: WireDecimal
    prev_closing_price: WireDecimal
    change_price: WireDecimal
    """Signed here, unlike WS `change_price` (pitfall 2)."""
    ask_bid: Side
    sequential_id: int


class RestOrderbookUnit(RestModel):
    ask_price: WireDecimal
    bid_price: WireDecimal
    ask_size: WireDecimal
    bid_size: WireDecimal


class RestOrderbook(RestModel):
    """`GET /v1/orderbook`: a top-N snapshot per market."""

    market: MarketCode
    timestamp: EpochMs
    total_ask_size: WireDecimal
    total_bid_size: WireDecimal
    orderbook_units: list[RestOrderbookUnit]
    level: WireDecimal
    """Price grouping; 0 = the native tick."""


class RestOrderbookInstrument(RestModel):
    """`GET /v1/orderbook/instruments`: the tick size and allowed `level`s of a market (sent as strings)."""

    market: MarketCode
    quote_currency: str | None = None
    tick_size: DecimalStr
    supported_levels: list[DecimalStr]


class RestErrorBody(RestModel):
    name: int | str
    """A number or a code such as `invalid_price_bid`."""
    message: str


class RestError(RestModel):
    """`{"error":{"name":...,"message":...}}`, e.g. 404 `Code not found`."""

    error: RestErrorBody


_M = TypeVar("_M", bound=RestModel)


def _decode(raw: bytes | str) -> Any:
    try:
        return loads_exact(raw)
    except ValueError as exc:
        raise ResponseError(f"not valid JSON: {exc}") from None


def parse_rest_list(raw: bytes | str, model: type[_M]) -> list[_M]:
    """Decode a REST body that is a JSON array of `model` (every quotation endpoint returns one)."""
    data = _decode(raw)
    if not isinstance(data, list):
        raise ResponseError(f"expected a JSON array of {model.__name__}, got {type(data).__name__}")
    items = []
    for index, item in enumerate(data):
        try:
            items.append(model.model_validate(item))
        except ValidationError as exc:
            raise ResponseError(describe_validation_error(exc, what=f"{model.__name__}[{index}]")) from None
    return items


def parse_rest_error(raw: bytes | str) -> RestError:
    try:
        return RestError.model_validate(_decode(raw))
    except ValidationError as exc:
        raise ResponseError(describe_validation_error(exc, what="RestError")) from None


REST_ENDPOINTS: Mapping[str, type[RestModel]] = {
    "market/all": RestMarket,
    "ticker": RestTicker,
    "ticker/all": RestTicker,
    "candles/seconds": RestCandleSecond,
    "candles/minutes": RestCandleMinute,
    "candles/days": RestCandleDay,
    "candles/weeks": RestCandleWeek,
    "candles/months": RestCandleMonth,
    "candles/years": RestCandleYear,
    "trades/ticks": RestTradeTick,
    "orderbook": RestOrderbook,
    "orderbook/instruments": RestOrderbookInstrument,
}
"""Each quotation endpoint (path below `/v1/`, minute candles without their unit) and the model of the
items of its JSON array."""


def rest_model_for(endpoint: str) -> type[RestModel]:
    """The item model of an endpoint: `ticker`, `/v1/ticker/all`, `candles/minutes/5`, ...; `KeyError`
    naming the known endpoints otherwise."""
    key = endpoint.strip().strip("/").removeprefix("v1/")
    if key.startswith("candles/minutes/") and key.rpartition("/")[2].isdigit():
        key = "candles/minutes"
    model = REST_ENDPOINTS.get(key)
    if model is None:
        raise KeyError(f"unknown REST endpoint {endpoint!r}; known: {', '.join(REST_ENDPOINTS)}")
    return model


@dataclass(frozen=True, slots=True)
class RemainingReq:
    """`Remaining-Req: group=<g>; min=<n>; sec=<n>`: what is left of a REST rate-limit group.

    `sec` (left in the current second) is what to throttle on. `min` is deprecated and fixed upstream:
    it is kept for logging only; nothing should depend on it (it may be absent: None).
    """

    group: str
    sec: int
    min: int | None = None

    @classmethod
    def parse(cls, header_value: str) -> RemainingReq:
        fields: dict[str, str] = {}
        for part in header_value.split(";"):
            key, sep, value = part.partition("=")
            if not sep:
                if part.strip():
                    raise ResponseError(f"Remaining-Req: {part.strip()!r} is not key=value")
                continue
            fields[key.strip()] = value.strip()
        group = fields.get("group")
        if not group:
            raise ResponseError(f"Remaining-Req: no group in {header_value!r}")
        return cls(group=group, sec=_count(fields, "sec", header_value), min=_optional_count(fields, "min"))


def _count(fields: dict[str, str], key: str, header_value: str) -> int:
    value = _optional_count(fields, key)
    if value is None:
        raise ResponseError(f"Remaining-Req: no {key} in {header_value!r}")
    return value


def _optional_count(fields: dict[str, str], key: str) -> int | None:
    value = fields.get(key)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()):
        raise ResponseError(f"Remaining-Req: {key}={value!r} is not a non-negative integer")
    return int(value)
