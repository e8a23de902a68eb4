"""Reads of the live state in Redis, shaped for the API (plain dicts: this is the hot read path).

Layout (written by `cryptoflow-stream-sink`, names from `cryptoflow_contracts.redis_keys`):
- `ticker:{M}`: hash of a `TickerRecord`'s fields.
- `trades:{M}`: stream; each entry holds a `TradeRecord`'s fields (auto ids: insertion order).
- `orderbook:{M}`: hash of an `OrderbookRecord`'s fields; `units` is a JSON array of
  `{ask_price, ask_size, bid_price, bid_size}` decimal strings, best level first.
- `markets`: hash market -> JSON object of strings `{quote_currency, last_seen_ms, status?, status_ms?}`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, cast, get_args, get_origin

import redis
from pydantic import BaseModel
from redis.client import Pipeline
from redis.commands.core import Script

from cryptoflow_contracts.records import OrderbookUnit, TickerRecord, TradeRecord
from cryptoflow_contracts.redis_keys import MARKETS_KEY, orderbook_key, ticker_key, trades_key
from cryptoflow_service.common.fields import DECIMAL_STRING_PATTERN, decimal_string
from cryptoflow_service.common.markets import quote_of
from cryptoflow_service.common.redis import get_redis
from cryptoflow_service.common.timeutils import now_ms


def _types(annotation: Any) -> set[Any]:
    """The bare types of a field annotation: `DecimalStr | None` -> {Decimal, NoneType}."""
    if get_origin(annotation) is Annotated:
        return _types(get_args(annotation)[0])
    args = get_args(annotation)
    return {t for arg in args for t in _types(arg)} if args else {annotation}


def _fields(model: type[BaseModel], *, of: type) -> frozenset[str]:
    """The fields of a contracts record whose type, optional or not, is `of`."""
    return frozenset(name for name, field in model.model_fields.items() if of in _types(field.annotation))


# The field lists come from the contracts' records, as the sink writes them: a field added there is
# served here with its type's formatting, without a second list to keep in step.
_SHAPED_APART = frozenset({"kind", "market", "units", "sequential_id"})
TICKER_DECIMALS = _fields(TickerRecord, of=Decimal)
TRADE_DECIMALS = _fields(TradeRecord, of=Decimal)
TIMES = (_fields(TickerRecord, of=int) | _fields(TradeRecord, of=int)) - _SHAPED_APART
"""The UTC-millisecond fields: every integer but the trade id."""
TICKER_TEXTS = frozenset(TickerRecord.model_fields) - TICKER_DECIMALS - TIMES - _SHAPED_APART
TRADE_TEXTS = frozenset(TradeRecord.model_fields) - TRADE_DECIMALS - TIMES - _SHAPED_APART
UNIT_DECIMALS = tuple(sorted(OrderbookUnit.model_fields))
_PLAIN_DECIMAL = re.compile(DECIMAL_STRING_PATTERN)


def _decimal(text: str) -> str | None:
    """Plain fixed-point text, or None for anything that is not a finite number. `str(Decimal)` may use an
    exponent (`1E-8`); the API never does."""
    if _PLAIN_DECIMAL.match(text):
        return text
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return decimal_string(number) if number.is_finite() else None


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _pick(fields: Mapping[str, str], decimals: frozenset[str], texts: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in decimals:
            number = _decimal(value)
            if number is not None:
                out[name] = number
        elif name in TIMES:
            moment = _int(value)
            if moment is not None:
                out[name] = moment
        elif name in texts:
            out[name] = value
    return out


def _with_age(record: dict[str, Any], now: int) -> dict[str, Any]:
    """`age_ms`: how long ago CryptoFlow received this data (or the exchange stamped it, if older data
    carries no receive time)."""
    updated = record.get("received_ms") or record.get("timestamp") or record.get("trade_timestamp")
    record["age_ms"] = max(0, now - updated) if updated is not None else None
    return record


def ticker_record(market: str, fields: Mapping[str, str], now: int) -> dict[str, Any]:
    record = {"market": market, "quote": quote_of(market), **_pick(fields, TICKER_DECIMALS, TICKER_TEXTS)}
    return _with_age(record, now)


def ticker(*, market: str) -> dict[str, Any] | None:
    """The latest ticker of `market`, or None when Redis has none."""
    return ticker_from(market=market, fields=cast(dict[str, str], get_redis().hgetall(ticker_key(market))))


def queue_ticker(pipe: Pipeline, *, market: str) -> None:
    """`ticker`'s read, queued in a pipeline the caller sends (with the throttle counters, see
    `common.throttling.check_with_reads`); `ticker_from` shapes its reply."""
    pipe.hgetall(ticker_key(market))


def ticker_from(*, market: str, fields: Mapping[str, str]) -> dict[str, Any] | None:
    return ticker_record(market, fields, now_ms()) if fields else None


def tickers(*, markets: Iterable[str] | None = None, quote: str | None = None) -> list[dict[str, Any]]:
    """Latest tickers of `markets` (default: every market in the registry), optionally of one quote
    currency, sorted by market. Markets without a ticker are left out. Two round trips at most."""
    client = get_redis()
    wanted = sorted(set(markets) if markets is not None else cast(list[str], client.hkeys(MARKETS_KEY)))
    if quote is not None:
        wanted = [market for market in wanted if quote_of(market) == quote]
    if not wanted:
        return []
    rows = cast(list[list[str]], _hgetall_many(client)(keys=[ticker_key(market) for market in wanted]))
    now = now_ms()
    return [
        ticker_record(market, dict(zip(row[::2], row[1::2], strict=True)), now)
        for market, row in zip(wanted, rows, strict=True)
        if row
    ]


@functools.cache
def _hgetall_many(client: redis.Redis) -> Script:
    """HGETALL of every key in one reply: for 200 tickers ~20% faster than a pipeline of HGETALLs, which
    redis-py parses and converts reply by reply."""
    return client.register_script(
        "local rows = {} for i, key in ipairs(KEYS) do rows[i] = redis.call('HGETALL', key) end return rows"
    )


def trades(*, market: str, limit: int, since_ms: int | None = None) -> list[dict[str, Any]]:
    """The newest `limit` trades of `market` (trade time >= `since_ms` if given), newest first by
    (`trade_timestamp`, `sequential_id`): Upbit's ids are unique but not ordered."""
    entries = cast(list[tuple[str, dict[str, str]]], get_redis().xrevrange(trades_key(market), count=limit))
    now = now_ms()
    out: list[dict[str, Any]] = []
    for stream_id, fields in entries:
        record = _pick(fields, TRADE_DECIMALS, TRADE_TEXTS)
        sequential_id = _int(fields.get("sequential_id", ""))
        if sequential_id is None or "trade_timestamp" not in record:
            continue  # not a trade record: nothing a client could order or deduplicate
        if since_ms is not None and record["trade_timestamp"] < since_ms:
            continue
        record.update(market=market, sequential_id=sequential_id, stream_id=stream_id)
        out.append(_with_age(record, now))
    out.sort(key=lambda trade: (trade["trade_timestamp"], trade["sequential_id"]), reverse=True)
    return out


def orderbook(*, market: str) -> dict[str, Any] | None:
    """The latest order book snapshot of `market` with its best bid/ask and spread, or None."""
    return orderbook_from(
        market=market, fields=cast(dict[str, str], get_redis().hgetall(orderbook_key(market)))
    )


def queue_orderbook(pipe: Pipeline, *, market: str) -> None:
    """`orderbook`'s read, queued in a pipeline the caller sends; `orderbook_from` shapes its reply."""
    pipe.hgetall(orderbook_key(market))


def orderbook_from(*, market: str, fields: Mapping[str, str]) -> dict[str, Any] | None:
    if not fields:
        return None
    record: dict[str, Any] = {"market": market}
    for name in ("total_ask_size", "total_bid_size", "level"):
        if name in fields and (number := _decimal(fields[name])) is not None:
            record[name] = number
    for name in ("timestamp", "received_ms"):
        if name in fields and (moment := _int(fields[name])) is not None:
            record[name] = moment
    if "stream_type" in fields:
        record["stream_type"] = fields["stream_type"]
    units = _units(fields.get("units", "[]"))
    record["units"] = units
    best_ask = Decimal(units[0]["ask_price"]) if units else None
    best_bid = Decimal(units[0]["bid_price"]) if units else None
    record["best_ask_price"] = decimal_string(best_ask) if best_ask is not None else None
    record["best_bid_price"] = decimal_string(best_bid) if best_bid is not None else None
    record["spread"] = (
        decimal_string(best_ask - best_bid) if best_ask is not None and best_bid is not None else None
    )
    return _with_age(record, now_ms())


def _units(raw: str) -> list[dict[str, str]]:
    try:
        parsed = json.loads(raw, parse_float=Decimal)
    except ValueError:
        return []
    units: list[dict[str, str]] = []
    for item in parsed if isinstance(parsed, list) else []:
        if not isinstance(item, dict):
            continue
        unit = {name: _decimal(str(item[name])) for name in UNIT_DECIMALS if name in item}
        if all(unit.get(name) is not None for name in UNIT_DECIMALS):
            units.append({name: str(unit[name]) for name in UNIT_DECIMALS})
    return units


def registry() -> dict[str, dict[str, Any]]:
    """Every market the hot path has seen: market -> `{quote, status, last_seen_ms, status_ms}`."""
    raw = cast(dict[str, str], get_redis().hgetall(MARKETS_KEY))
    return {market: registry_entry(market, value) for market, value in raw.items()}


def registry_get(*, market: str) -> dict[str, Any] | None:
    value = cast(str | None, get_redis().hget(MARKETS_KEY, market))
    return None if value is None else registry_entry(market, value)


def registry_entry(market: str, value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = {}
    if not isinstance(parsed, dict):
        parsed = {}
    status = parsed.get("status")
    return {
        "market": market,
        "quote": str(parsed.get("quote_currency") or quote_of(market)),
        "status": str(status) if status else None,
        "last_seen_ms": _int(str(parsed.get("last_seen_ms", ""))),
        "status_ms": _int(str(parsed.get("status_ms", ""))),
    }


def market_known(*, market: str) -> bool:
    """Whether the hot path knows `market`: in the registry, or with any live key."""
    return bool(known_markets(markets=[market]))


def known_markets(*, markets: Iterable[str]) -> set[str]:
    """Those of `markets` the hot path knows (in the registry, or with any live key), in one round trip."""
    codes = list(dict.fromkeys(markets))
    if not codes:
        return set()
    pipe = get_redis().pipeline(transaction=False)
    pipe.hmget(MARKETS_KEY, codes)
    for market in codes:
        pipe.exists(ticker_key(market), trades_key(market), orderbook_key(market))
    in_registry, *keys = pipe.execute()
    return {
        market
        for market, entry, count in zip(codes, in_registry, keys, strict=True)
        if entry is not None or int(count) > 0
    }
