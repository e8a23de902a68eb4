"""The REST quotation API (`/v1/...`): same paths, parameters, field sets, ordering, limits and error
bodies as Upbit, with a `Remaining-Req` header on every answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

from upbit_sim import candles as cdl
from upbit_sim import wire
from upbit_sim.appkey import SIM
from upbit_sim.market import Candle, MarketState, rate
from upbit_sim.numfmt import DAY_MS, dash_date, dumps, price_num
from upbit_sim.ticks import supported_levels, tick_size

if TYPE_CHECKING:
    from upbit_sim.server import Simulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MINUTE_UNITS = (1, 3, 5, 10, 15, 30, 60, 240)
GROUPS = (
    ("/v1/market/", "market"),
    ("/v1/ticker", "ticker"),
    ("/v1/candles/", "candles"),
    ("/v1/trades/", "crix-trades"),
    ("/v1/orderbook", "orderbook"),
)


class ApiError(Exception):
    def __init__(self, status: int, message: str, name: int | str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.name = status if name is None else name


def json_response(obj: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=dumps(obj).encode(), status=status, headers={"Content-Type": "application/json;charset=UTF-8"}
    )


def error_body(status: int, message: str, name: int | str | None = None) -> dict[str, Any]:
    return {"error": {"name": status if name is None else name, "message": message}}


def group_of(path: str) -> str | None:
    for prefix, group in GROUPS:
        if path.startswith(prefix):
            return group
    return None


@web.middleware
async def rest_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    group = group_of(request.path)
    if group is None:
        return await handler(request)
    sim: Simulator = request.app[SIM]
    now = time.monotonic()
    stats = sim.rest_stats
    stats[f"group_{group}"] += 1
    faults = sim.faults
    if faults.rest_slow is not None and faults.rest_slow.take(now):
        faults.counters["rest_slow"] += 1
        await asyncio.sleep(faults.rest_slow.delay_ms / 1000)
    remaining: int | str = 0
    resp: web.StreamResponse
    if faults.rest_error is not None and faults.rest_error.take(now):
        faults.counters["rest_error"] += 1
        resp = sim.rest_error_response(faults.rest_error.status, 10.0)
    else:
        ip = request.remote or "?"
        with_origin = sim.cfg.origin_rate_limit and "Origin" in request.headers
        verdict = sim.rest_limiter.check(
            ip,
            (ip, group, with_origin),
            now,
            limit=1 if with_origin else None,
            window=10.0 if with_origin else None,
        )
        remaining = verdict.remaining
        if verdict.status != 200:
            stats["rate_limited_429" if verdict.status == 429 else "blocked_418"] += 1
            resp = sim.rest_error_response(verdict.status, verdict.block_seconds)
        else:
            try:
                resp = await handler(request)
            except ApiError as exc:
                resp = json_response(error_body(exc.status, exc.message, exc.name), exc.status)
    resp.headers["Remaining-Req"] = f"group={group}; min=600; sec={remaining}"
    resp.headers["Limit-By-Ip"] = "Yes"
    stats[f"status_{resp.status}"] += 1
    return resp


# ------------------------------------------------------------------ parameters
def _sim(request: web.Request) -> Simulator:
    sim: Simulator = request.app[SIM]
    return sim


def _markets(sim: Simulator, raw: str | None, name: str = "markets") -> list[MarketState]:
    if not raw:
        raise ApiError(400, f"{name} is required")
    out = []
    for code in (c.strip() for c in raw.split(",")):
        m = sim.market(code)
        if m is None:
            raise ApiError(404, "Code not found")
        out.append(m)
    return out


def _count(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    try:
        n = int(raw)
    except ValueError:
        raise ApiError(400, "count must be an integer") from None
    if n < 1:
        raise ApiError(400, "count must be at least 1")
    return min(n, maximum)  # Upbit answers a larger count with `maximum` items


def _bool(raw: str | None) -> bool:
    if raw is None or raw.lower() == "false":
        return False
    if raw.lower() == "true":
        return True
    raise ApiError(400, "expected true or false")


def parse_to(raw: str | None, now: int) -> int:
    """ISO 8601 `to` (exclusive end); read as UTC unless it carries an offset."""
    if raw is None or raw == "":
        return now + 1
    text = raw.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, f"to is not an ISO 8601 time: {raw}") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() * 1000)


# ------------------------------------------------------------------ handlers
async def market_all(request: web.Request) -> web.Response:
    sim = _sim(request)
    q = request.query
    details = _bool(q.get("is_details", q.get("isDetails")))
    out = []
    for m in sim.listed_markets():
        item: dict[str, Any] = {
            "market": m.code,
            "korean_name": m.info.korean_name,
            "english_name": m.info.english_name,
        }
        if details:
            item["market_event"] = {"warning": m.info.warning, "caution": dict(m.info.caution)}
        out.append(item)
    return json_response(out)


async def ticker(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.now_ms()
    return json_response(
        [t for m in _markets(sim, request.query.get("markets")) if (t := wire.rest_ticker(m, now))]
    )


async def ticker_all(request: web.Request) -> web.Response:
    sim = _sim(request)
    raw = request.query.get("quote_currencies")
    if not raw:
        raise ApiError(400, "quote_currencies is required")
    quotes = [q.strip().upper() for q in raw.split(",")]
    if any(q not in ("KRW", "BTC", "USDT") for q in quotes):
        raise ApiError(404, "Code not found")
    now = sim.now_ms()
    return json_response(
        [t for q in quotes for m in sim.listed_markets() if m.quote == q and (t := wire.rest_ticker(m, now))]
    )


def _candle_item(m: MarketState, c: Candle) -> dict[str, Any]:
    return {
        "market": m.code,
        **wire.candle_fields(c),
        "timestamp": c.last,
        "candle_acc_trade_price": c.val,
        "candle_acc_trade_volume": c.vol,
    }


def _candle_params(request: web.Request) -> tuple[Simulator, MarketState, int, int]:
    sim = _sim(request)
    q = request.query
    m = _markets(sim, q.get("market"), "market")[0]
    return sim, m, parse_to(q.get("to"), sim.now_ms()), _count(q.get("count"), 1, 200)


async def candles_seconds(request: web.Request) -> web.Response:
    _, m, to, count = _candle_params(request)
    return json_response([_candle_item(m, c) for c in cdl.seconds(m, to, count)])


async def candles_minutes(request: web.Request) -> web.Response:
    try:
        unit = int(request.match_info["unit"])
    except ValueError:
        unit = 0
    if unit not in MINUTE_UNITS:
        raise ApiError(400, f"unit must be one of {', '.join(map(str, MINUTE_UNITS))}")
    sim, m, to, count = _candle_params(request)
    return json_response(
        [{**_candle_item(m, c), "unit": unit} for c in cdl.minutes(m, sim.cfg.seed, unit, to, count)]
    )


async def candles_days(request: web.Request) -> web.Response:
    sim, m, to, count = _candle_params(request)
    convert = request.query.get("converting_price_unit")
    if convert not in (None, "KRW"):
        raise ApiError(400, "converting_price_unit must be KRW")
    krw_btc = sim.market("KRW-BTC") if convert and m.quote == "BTC" else None
    krw_closes = {d.start: d.close for d in cdl.day_list(krw_btc)} if krw_btc else {}
    out = []
    for c in cdl.days(m, to, count):
        signed = c.close - c.pcp
        item = {
            **_candle_item(m, c),
            "prev_closing_price": Decimal(price_num(c.pcp)),
            "change_price": Decimal(price_num(signed)),
            "change_rate": rate(signed, c.pcp),
        }
        if c.start in krw_closes:
            item["converted_trade_price"] = Decimal(price_num((c.close * krw_closes[c.start]).normalize()))
        out.append(item)
    return json_response(out)


def _periods(key: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        _, m, to, count = _candle_params(request)
        return json_response(
            [
                {**_candle_item(m, c), "first_day_of_period": dash_date(c.start)}
                for c in cdl.periods(m, key, to, count)
            ]
        )

    return handler


def _time_of_day(raw: str) -> int:
    text = raw.replace(":", "")
    if len(text) != 6 or not text.isdigit():
        raise ApiError(400, "to must be HHmmss or HH:mm:ss")
    h, mi, s = int(text[:2]), int(text[2:4]), int(text[4:])
    if h > 23 or mi > 59 or s > 59:
        raise ApiError(400, "to must be HHmmss or HH:mm:ss")
    return (h * 3600 + mi * 60 + s) * 1000


async def trades_ticks(request: web.Request) -> web.Response:
    sim = _sim(request)
    q = request.query
    m = _markets(sim, q.get("market"), "market")[0]
    count = _count(q.get("count"), 1, 500)
    now = sim.now_ms()
    day = now - now % DAY_MS
    if (raw_days := q.get("days_ago")) is not None:
        try:
            days_ago = int(raw_days)
        except ValueError:
            raise ApiError(400, "days_ago must be an integer from 1 to 7") from None
        if not 1 <= days_ago <= 7:
            raise ApiError(400, "days_ago must be an integer from 1 to 7")
        day -= days_ago * DAY_MS
    end = day + DAY_MS
    if (raw_to := q.get("to")) is not None:
        end = day + _time_of_day(raw_to)
    cursor = None
    if (raw_cursor := q.get("cursor")) is not None:
        try:
            cursor = int(raw_cursor)
        except ValueError:
            raise ApiError(400, "cursor must be a sequential_id") from None
    hi = m.trades_before(end, cursor)
    lo = m.trades_before(day, None)
    picked = m.trades[max(lo, hi - count) : hi]
    return json_response([wire.rest_trade(t, m.code) for t in reversed(picked)])


def _level(raw: str | None, m: MarketState) -> Decimal:
    if raw is None or raw == "":
        return Decimal(0)
    try:
        level = Decimal(raw)
    except InvalidOperation:
        raise ApiError(400, "level must be a number") from None
    if level and level not in supported_levels(m.quote, m.ref_price()):
        raise ApiError(400, f"level {raw} is not supported for {m.code}")
    return level


async def orderbook(request: web.Request) -> web.Response:
    sim = _sim(request)
    q = request.query
    markets = _markets(sim, q.get("markets"))
    count = _count(q.get("count"), 30, 30)
    return json_response(
        [b for m in markets if (b := wire.rest_orderbook(m, count, _level(q.get("level"), m)))]
    )


async def orderbook_instruments(request: web.Request) -> web.Response:
    sim = _sim(request)
    out = []
    for m in _markets(sim, request.query.get("markets")):
        price = m.ref_price()
        out.append(
            {
                "market": m.code,
                "quote_currency": m.quote,
                "tick_size": format(tick_size(m.quote, price), "f"),
                "supported_levels": [format(x, "f") for x in supported_levels(m.quote, price)],
            }
        )
    return json_response(out)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/v1/market/all", market_all),
        web.get("/v1/ticker", ticker),
        web.get("/v1/ticker/all", ticker_all),
        web.get("/v1/candles/seconds", candles_seconds),
        web.get("/v1/candles/minutes/{unit}", candles_minutes),
        web.get("/v1/candles/days", candles_days),
        web.get("/v1/candles/weeks", _periods("week")),
        web.get("/v1/candles/months", _periods("month")),
        web.get("/v1/candles/years", _periods("year")),
        web.get("/v1/trades/ticks", trades_ticks),
        web.get("/v1/orderbook", orderbook),
        web.get("/v1/orderbook/instruments", orderbook_instruments),
    ]
