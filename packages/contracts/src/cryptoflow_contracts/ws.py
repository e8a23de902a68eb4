"""Upbit WebSocket frames (`wss://api.upbit.com/websocket/v1`), DEFAULT and SIMPLE formats.

Every data model is named and keyed by the DEFAULT field names; the SIMPLE short keys are accepted too
(`AliasChoices`), so both formats decode to equal models. Unknown extra keys are ignored; wrong types are
refused. Numbers are exact `Decimal`s: decode frames with `parse_ws_frame`, not `model_validate_json`
(see `cryptoflow_contracts.decimals`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import AliasChoices, AliasGenerator, BaseModel, ConfigDict, StringConstraints, ValidationError

from cryptoflow_contracts.decimals import WireDecimal, loads_exact
from cryptoflow_contracts.errors import FrameError, describe_validation_error
from cryptoflow_contracts.fields import (
    CandleDateTime,
    Change,
    ColonTime,
    CompactDate,
    CompactTime,
    DashDate,
    EpochMs,
    MarketCode,
    MarketState,
    MarketWarning,
    Side,
    StreamType,
)

__all__ = [
    "WsCandle",
    "WsError",
    "WsErrorBody",
    "WsFrame",
    "WsListSubscriptions",
    "WsModel",
    "WsOrderbook",
    "WsOrderbookUnit",
    "WsStatus",
    "WsSubscription",
    "WsTicker",
    "WsTrade",
    "encode_ws_frame",
    "parse_ws_frame",
    "split_depth",
]


def _add_simple_keys(keys: Mapping[str, str]) -> Callable[[dict[str, Any]], None]:
    def annotate(schema: dict[str, Any]) -> None:
        for name, prop in schema.get("properties", {}).items():
            if keys[name] != name:
                prop["x-simple-key"] = keys[name]

    return annotate


def _ws_config(keys: Mapping[str, str]) -> ConfigDict:
    """Accept the DEFAULT name or the SIMPLE key of each field; a name missing from `keys` fails at import."""
    return ConfigDict(
        alias_generator=AliasGenerator(validation_alias=lambda name: AliasChoices(name, keys[name])),
        json_schema_extra=_add_simple_keys(keys),
    )


class WsModel(BaseModel):
    """Base of every WebSocket model: immutable, strict types, unknown keys ignored."""

    model_config = ConfigDict(frozen=True, strict=True, extra="ignore", use_attribute_docstrings=True)

    KIND: ClassVar[str] = ""
    """What `cryptoflow-contracts decode` prints as `kind`."""
    SIMPLE_KEYS: ClassVar[Mapping[str, str]] = {}
    """DEFAULT field name -> SIMPLE key (identity for keys that have no short form)."""


_TRADE_KEYS = {
    "type": "ty",
    "code": "cd",
    "trade_price": "tp",
    "trade_volume": "tv",
    "ask_bid": "ab",
    "prev_closing_price": "pcp",
    "change": "c",
    "change_price": "cp",
    "trade_date": "td",
    "trade_time": "ttm",
    "trade_timestamp": "ttms",
    "timestamp": "tms",
    "sequential_id": "sid",
    "best_ask_price": "bap",
    "best_ask_size": "bas",
    "best_bid_price": "bbp",
    "best_bid_size": "bbs",
    "stream_type": "st",
}


class WsTrade(WsModel):
    """One fill. `sequential_id` is unique per trade but NOT ordered (pitfall 4)."""

    model_config = _ws_config(_TRADE_KEYS)
    KIND: ClassVar[str] = "trade"
    SIMPLE_KEYS: ClassVar[Mapping[str, str]] = _TRADE_KEYS

    type: Literal["trade"]
    code: MarketCode
    trade_price: WireDecimal
    trade_volume: WireDecimal
    ask_bid: Side
    prev_closing_price: WireDecimal
    change: Change
    change_price: WireDecimal
    """Absolute value in WS frames (pitfall 2); the direction is in `change`."""
    trade_date: DashDate
    trade_time: ColonTime
    trade_timestamp: EpochMs
    timestamp: EpochMs
    """Message time."""
    sequential_id: int
    best_ask_price: WireDecimal | None = None
    best_ask_size: WireDecimal | None = None
    best_bid_price: WireDecimal | None = None
    best_bid_size: WireDecimal | None = None
    stream_type: StreamType

    @property
    def market(self) -> str:
        return self.code


_TICKER_KEYS = {
    "type": "ty",
    "code": "cd",
    "opening_price": "op",
    "high_price": "hp",
    "low_price": "lp",
    "trade_price": "tp",
    "prev_closing_price": "pcp",
    "change": "c",
    "change_price": "cp",
    "signed_change_price": "scp",
    "change_rate": "cr",
    "signed_change_rate": "scr",
    "trade_volume": "tv",
    "acc_trade_volume": "atv",
    "acc_trade_volume_24h": "atv24h",
    "acc_trade_price": "atp",
    "acc_trade_price_24h": "atp24h",
    "trade_date": "tdt",
    "trade_time": "ttm",
    "trade_timestamp": "ttms",
    "ask_bid": "ab",
    "acc_ask_volume": "aav",
    "acc_bid_volume": "abv",
    "highest_52_week_price": "h52wp",
    "highest_52_week_date": "h52wdt",
    "lowest_52_week_price": "l52wp",
    "lowest_52_week_date": "l52wdt",
    "market_state": "ms",
    "is_trading_suspended": "its",
    "delisting_date": "dd",
    "market_warning": "mw",
    "timestamp": "tms",
    "stream_type": "st",
}


class WsTicker(WsModel):
    """Current price and day statistics; the day starts at 00:00 UTC, `*_24h` fields are rolling."""

    model_config = _ws_config(_TICKER_KEYS)
    KIND: ClassVar[str] = "ticker"
    SIMPLE_KEYS: ClassVar[Mapping[str, str]] = _TICKER_KEYS

    type: Literal["ticker"]
    code: MarketCode
    opening_price: WireDecimal
    high_price: WireDecimal
    low_price: WireDecimal
    trade_price: WireDecimal
    prev_closing_price: WireDecimal
    change: Change
    change_price: WireDecimal
    """Absolute (pitfall 2); `signed_change_price` carries the sign."""
    signed_change_price: WireDecimal
    change_rate: WireDecimal
    signed_change_rate: WireDecimal
    trade_volume: WireDecimal
    acc_trade_volume: WireDecimal
    acc_trade_volume_24h: WireDecimal
    acc_trade_price: WireDecimal
    acc_trade_price_24h: WireDecimal
    trade_date: CompactDate
    trade_time: CompactTime
    trade_timestamp: EpochMs
    ask_bid: Side
    acc_ask_volume: WireDecimal
    acc_bid_volume: WireDecimal
    highest_52_week_price: WireDecimal
    highest_52_week_date: DashDate
    lowest_52_week_price: WireDecimal
    lowest_52_week_date: DashDate
    market_state: MarketState
    is_trading_suspended: bool | None = None
    """Deprecated by Upbit; kept optional so frames without it still decode."""
    delisting_date: DashDate | None = None
    market_warning: MarketWarning | None = None
    """Deprecated by Upbit; kept optional so frames without it still decode."""
    timestamp: EpochMs
    stream_type: StreamType

    @property
    def market(self) -> str:
        return self.code


_UNIT_KEYS = {"ask_price": "ap", "bid_price": "bp", "ask_size": "as", "bid_size": "bs"}


class WsOrderbookUnit(WsModel):
    """One level of the book: the n-th best ask and the n-th best bid."""

    model_config = _ws_config(_UNIT_KEYS)
    SIMPLE_KEYS: ClassVar[Mapping[str, str]] = _UNIT_KEYS

    ask_price: WireDecimal
    bid_price: WireDecimal
    ask_size: WireDecimal
    bid_size: WireDecimal


_ORDERBOOK_KEYS = {
    "type": "ty",
    "code": "cd",
    "timestamp": "tms",
    "total_ask_size": "tas",
    "total_bid_size": "tbs",
    "orderbook_units": "obu",
    "level": "lv",
    "stream_type": "st",
}


class WsOrderbook(WsModel):
    """A full top-N snapshot (no deltas, no sequence numbers): every frame replaces the book.

    `code` is kept as sent; a depth suffix (`KRW-BTC.15`) is split into `market` and `depth`.
    """

    model_config = _ws_config(_ORDERBOOK_KEYS)
    KIND: ClassVar[str] = "orderbook"
    SIMPLE_KEYS: ClassVar[Mapping[str, str]] = _ORDERBOOK_KEYS

    type: Literal["orderbook"]
    code: MarketCode
    timestamp: EpochMs
    total_ask_size: WireDecimal
    """Sum over the levels sent, not the whole book."""
    total_bid_size: WireDecimal
    orderbook_units: list[WsOrderbookUnit]
    """Best level first."""
    level: WireDecimal = Decimal(0)
    """Price grouping; 0 = the native tick."""
    stream_type: StreamType

    @property
    def market(self) -> str:
        return split_depth(self.code)[0]

    @property
    def depth(self) -> int | None:
        """The N of a `code.N` subscription, None when the code has no suffix."""
        return split_depth(self.code)[1]


def split_depth(code: str) -> tuple[str, int | None]:
    """`KRW-BTC.15` -> (`KRW-BTC`, 15); a code without a depth suffix -> (code, None)."""
    market, _, depth = code.rpartition(".")
    return (market, int(depth)) if market and depth.isascii() and depth.isdigit() else (code, None)


_CANDLE_KEYS = {
    "type": "ty",
    "code": "cd",
    "candle_date_time_utc": "cdttmu",
    "candle_date_time_kst": "cdttmk",
    "opening_price": "op",
    "high_price": "hp",
    "low_price": "lp",
    "trade_price": "tp",
    "candle_acc_trade_volume": "catv",
    "candle_acc_trade_price": "catp",
    "timestamp": "tms",
    "stream_type": "st",
}


class WsCandle(WsModel):
    """A candle bucket (`candle.1s` ... `candle.240m`). The same bucket can arrive again; the latest wins."""

    model_config = _ws_config(_CANDLE_KEYS)
    KIND: ClassVar[str] = "candle"
    SIMPLE_KEYS: ClassVar[Mapping[str, str]] = _CANDLE_KEYS

    type: Annotated[str, StringConstraints(pattern=r"^candle\.\d+[sm]$")]
    code: MarketCode
    candle_date_time_utc: CandleDateTime
    """Bucket start, UTC."""
    candle_date_time_kst: CandleDateTime
    opening_price: WireDecimal
    high_price: WireDecimal
    low_price: WireDecimal
    trade_price: WireDecimal
    """Close."""
    candle_acc_trade_volume: WireDecimal
    candle_acc_trade_price: WireDecimal
    timestamp: EpochMs
    stream_type: StreamType

    @property
    def market(self) -> str:
        return self.code


class WsStatus(WsModel):
    """`{"status":"UP"}`, sent every 10 s after a text `PING`."""

    KIND: ClassVar[str] = "status"

    status: str


class WsErrorBody(WsModel):
    name: str
    """`INVALID_AUTH`, `WRONG_FORMAT`, `NO_TICKET`, `NO_TYPE`, `NO_CODES` or `INVALID_PARAM`."""
    message: str


class WsError(WsModel):
    """`{"error":{"name":...,"message":...}}`."""

    KIND: ClassVar[str] = "error"

    error: WsErrorBody


class WsSubscription(WsModel):
    type: str
    codes: list[str]
    level: WireDecimal | None = None


class WsListSubscriptions(WsModel):
    """The reply to `{"method":"LIST_SUBSCRIPTIONS"}`."""

    KIND: ClassVar[str] = "list_subscriptions"

    method: Literal["LIST_SUBSCRIPTIONS"]
    result: list[WsSubscription]
    ticket: str | None = None


WsFrame: TypeAlias = WsTrade | WsTicker | WsOrderbook | WsCandle | WsStatus | WsError | WsListSubscriptions

_BY_TYPE: dict[str, type[WsModel]] = {"trade": WsTrade, "ticker": WsTicker, "orderbook": WsOrderbook}


def _frame_model(data: dict[str, Any]) -> type[WsModel]:
    frame_type = data.get("type", data.get("ty"))
    if frame_type is not None:
        if isinstance(frame_type, str):
            model = _BY_TYPE.get(frame_type)
            if model is not None:
                return model
            if frame_type.startswith("candle."):
                return WsCandle
        raise FrameError(f"unknown frame type {frame_type!r}")
    if "status" in data:
        return WsStatus
    if "error" in data:
        return WsError
    if data.get("method") == "LIST_SUBSCRIPTIONS":
        return WsListSubscriptions
    raise FrameError("not an Upbit frame: it has no 'type'/'ty', 'status', 'error' or 'method' key")


def parse_ws_frame(raw: bytes | bytearray | str) -> WsFrame:
    """Decode one frame (UTF-8 JSON bytes as Upbit sends them, or text) into its model.

    Raises `FrameError` (a `ValueError`) whose `.reason` names the offending field for anything else.
    """
    try:
        data = loads_exact(raw)
    except ValueError as exc:
        raise FrameError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        kind = (
            "array (JSON_LIST/SIMPLE_LIST formats are not supported)" if isinstance(data, list) else "scalar"
        )
        raise FrameError(f"frame is a JSON {kind}, expected an object")
    model = _frame_model(data)
    try:
        frame: WsFrame = model.__pydantic_validator__.validate_python(data)
    except ValidationError as exc:
        raise FrameError(describe_validation_error(exc, what=model.KIND)) from None
    return frame


def _to_wire(model: WsModel, simple: bool) -> dict[str, Any]:
    keys = model.SIMPLE_KEYS
    out: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, WsModel):
            value = _to_wire(value, simple)
        elif isinstance(value, list):
            value = [_to_wire(item, simple) if isinstance(item, WsModel) else item for item in value]
        out[keys.get(name, name) if simple else name] = value
    return out


def _json_exact(value: Any) -> str:
    # json.dumps cannot write a Decimal as a number without going through float: write it by hand.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_json_exact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json_exact(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def encode_ws_frame(frame: WsFrame, *, simple: bool = False) -> bytes:
    """The wire bytes Upbit would send for `frame`, in the DEFAULT or SIMPLE format, numbers exact.

    For producers of synthetic traffic (the simulator, tests); `parse_ws_frame` reads them back equal.
    """
    return _json_exact(_to_wire(frame, simple)).encode()
