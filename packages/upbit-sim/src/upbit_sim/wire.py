"""The three wire renderings of a market's state: DEFAULT WebSocket frames, SIMPLE WebSocket frames and
REST items. `upbit_sim.market` holds the state (and the cached JSON text these functions fill); every
frame and answer the simulator sends is built here, so a format question has one place to look.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from upbit_sim.market import DEPTH, ZERO, change_of, rate
from upbit_sim.numfmt import dash_date, dumps, iso_kst, iso_utc, num, price_num

if TYPE_CHECKING:
    from upbit_sim.market import Candle, MarketState, Trade

_UNIT_D = '{{"ask_price":{},"bid_price":{},"ask_size":{},"bid_size":{}}}'
_UNIT_S = '{{"ap":{},"bp":{},"as":{},"bs":{}}}'
# DEFAULT key -> SIMPLE key, every frame type (the ticker's `trade_date` is the exception: `tdt`).
SIMPLE_KEYS: dict[str, str] = {
    "type": "ty", "code": "cd", "timestamp": "tms", "stream_type": "st", "trade_date": "td",
    "trade_time": "ttm", "trade_timestamp": "ttms", "trade_price": "tp", "trade_volume": "tv",
    "ask_bid": "ab", "prev_closing_price": "pcp", "change": "c", "change_price": "cp",
    "sequential_id": "sid", "best_ask_price": "bap", "best_ask_size": "bas", "best_bid_price": "bbp",
    "best_bid_size": "bbs", "opening_price": "op", "high_price": "hp", "low_price": "lp",
    "acc_trade_price": "atp", "signed_change_price": "scp", "change_rate": "cr", "signed_change_rate": "scr",
    "acc_trade_volume": "atv", "acc_ask_volume": "aav", "acc_bid_volume": "abv",
    "highest_52_week_price": "h52wp", "highest_52_week_date": "h52wdt", "lowest_52_week_price": "l52wp",
    "lowest_52_week_date": "l52wdt", "market_state": "ms", "is_trading_suspended": "its",
    "delisting_date": "dd", "market_warning": "mw", "acc_trade_price_24h": "atp24h",
    "acc_trade_volume_24h": "atv24h", "total_ask_size": "tas", "total_bid_size": "tbs",
    "orderbook_units": "obu", "ask_price": "ap", "bid_price": "bp", "ask_size": "as", "bid_size": "bs",
    "level": "lv", "candle_date_time_utc": "cdttmu", "candle_date_time_kst": "cdttmk",
    "candle_acc_trade_volume": "catv", "candle_acc_trade_price": "catp",
}  # fmt: skip


# ----------------------------------------------------------------- orderbook
def _units(m: MarketState, n: int, simple: bool) -> str:
    """The first `n` orderbook units as JSON, re-encoding only the units that changed."""
    asks, bids = m.asks, m.bids
    cache, stale = (m.units_s, m.stale_s) if simple else (m.units_d, m.stale_d)
    template = _UNIT_S if simple else _UNIT_D
    if m.all_stale[simple]:
        m.all_stale[simple] = False
        k = min(DEPTH, len(asks), len(bids))
        cache[:k] = [template.format(a.ps, b.ps, a.ss, b.ss) for a, b in zip(asks[:k], bids[:k], strict=True)]
    else:
        for i in stale:
            if i < len(asks) and i < len(bids):
                a, b = asks[i], bids[i]
                cache[i] = template.format(a.ps, b.ps, a.ss, b.ss)
    stale.clear()
    return ",".join(cache[:n])


def orderbook_frame(
    m: MarketState, simple: bool, depth: int, level: Decimal, stream: str, *, now: int
) -> bytes:
    ts = m.book_ts or now
    if level:
        units = m.grouped_book(level, depth)
        ta = sum((u[2] for u in units), ZERO)
        tb = sum((u[3] for u in units), ZERO)
        if simple:
            body = ",".join(
                f'{{"ap":{price_num(a)},"bp":{price_num(b)},"as":{num(sa)},"bs":{num(sb)}}}'
                for a, b, sa, sb in units
            )
        else:
            body = ",".join(
                f'{{"ask_price":{price_num(a)},"bid_price":{price_num(b)},"ask_size":{num(sa)},"bid_size":{num(sb)}}}'
                for a, b, sa, sb in units
            )
        lv = price_num(level)
    else:
        n = min(depth, len(m.asks), len(m.bids))
        ta, tb = m.depth_totals(n)
        body = _units(m, n, simple)
        lv = "0"
    if simple:
        return (
            f'{{"ty":"orderbook","cd":"{m.code}","tms":{ts},"tas":{num(ta)},"tbs":{num(tb)},'
            f'"obu":[{body}],"lv":{lv},"st":"{stream}"}}'
        ).encode()
    return (
        f'{{"type":"orderbook","code":"{m.code}","timestamp":{ts},"total_ask_size":{num(ta)},'
        f'"total_bid_size":{num(tb)},"orderbook_units":[{body}],"level":{lv},"stream_type":"{stream}"}}'
    ).encode()


def rest_orderbook(m: MarketState, depth: int, level: Decimal) -> dict[str, object] | None:
    if not m.asks or not m.bids:
        return None
    units = m.grouped_book(level, depth)
    return {
        "market": m.code,
        "timestamp": m.book_ts,
        "total_ask_size": sum((u[2] for u in units), ZERO),
        "total_bid_size": sum((u[3] for u in units), ZERO),
        "orderbook_units": [
            {"ask_price": a, "bid_price": b, "ask_size": sa, "bid_size": sb} for a, b, sa, sb in units
        ],
        "level": level if level else 0,
    }


# ----------------------------------------------------------------- trades
def _numbers(t: Trade) -> tuple[str, str, str, str, str, str]:
    s = t.strs
    if s is None:
        s = t.strs = (
            price_num(t.price),
            num(t.vol),
            price_num(t.bap),
            num(t.bas),
            price_num(t.bbp),
            num(t.bbs),
        )
    return s


def rest_trade(t: Trade, code: str) -> dict[str, object]:
    """The `/v1/trades/ticks` item (`change_price` is signed here, unlike in WS frames)."""
    return {
        "market": code,
        "trade_date_utc": dash_date(t.ts),
        "trade_time_utc": iso_utc(t.ts)[11:],
        "timestamp": t.ts,
        "trade_price": Decimal(price_num(t.price)),
        "trade_volume": t.vol,
        "prev_closing_price": Decimal(price_num(t.pcp)),
        "change_price": Decimal(price_num(t.price - t.pcp)),
        "ask_bid": "BID" if t.bid else "ASK",
        "sequential_id": t.seq,
    }


def trade_frame(m: MarketState, t: Trade, simple: bool, stream: str, now: int) -> bytes:
    ck = m.clock.at(t.ts)
    ps, vs, baps, bass, bbps, bbss = _numbers(t)
    if t.pcp is m.day.pcp:
        change, cp, _, _, _ = _rate_strings(m, t.price)
        pcps = _ticker_prefix(m)[3]
    else:
        change, cp, pcps = change_of(t.price, t.pcp), price_num(abs(t.price - t.pcp)), price_num(t.pcp)
    ab = "BID" if t.bid else "ASK"
    if simple:
        return (
            f'{{"ty":"trade","cd":"{m.code}","tms":{now},"td":"{ck.dash_date}","ttm":"{ck.colon_time}",'
            f'"ttms":{t.ts},"tp":{ps},"tv":{vs},"ab":"{ab}","pcp":{pcps},"c":"{change}","cp":{cp},'
            f'"sid":{t.seq},"bap":{baps},"bas":{bass},"bbp":{bbps},"bbs":{bbss},"st":"{stream}"}}'
        ).encode()
    return (
        f'{{"type":"trade","code":"{m.code}","timestamp":{now},"trade_date":"{ck.dash_date}",'
        f'"trade_time":"{ck.colon_time}","trade_timestamp":{t.ts},"trade_price":{ps},"trade_volume":{vs},'
        f'"ask_bid":"{ab}","prev_closing_price":{pcps},"change":"{change}","change_price":{cp},'
        f'"sequential_id":{t.seq},"best_ask_price":{baps},"best_ask_size":{bass},"best_bid_price":{bbps},'
        f'"best_bid_size":{bbss},"stream_type":"{stream}"}}'
    ).encode()


# ----------------------------------------------------------------- tickers
def _static52(m: MarketState) -> tuple[str, str]:
    """The 52-week and state fields as DEFAULT and SIMPLE JSON (cached until the state changes)."""
    s = m.static52
    if s is None:
        dd = "null" if m.delisting_date is None else f'"{m.delisting_date}"'
        warn = "CAUTION" if m.info.warning else "NONE"
        h, l_ = price_num(m.h52), price_num(m.l52)
        s = m.static52 = (
            f'"highest_52_week_price":{h},"highest_52_week_date":"{m.h52_date}",'
            f'"lowest_52_week_price":{l_},"lowest_52_week_date":"{m.l52_date}",'
            f'"market_state":"{m.state}","is_trading_suspended":false,"delisting_date":{dd},'
            f'"market_warning":"{warn}"',
            f'"h52wp":{h},"h52wdt":"{m.h52_date}","l52wp":{l_},"l52wdt":"{m.l52_date}",'
            f'"ms":"{m.state}","its":false,"dd":{dd},"mw":"{warn}"',
        )
    return s


def _ticker_prefix(m: MarketState) -> tuple[str, str, str, str]:
    """(DEFAULT up to trade_price, SIMPLE up to tp, SIMPLE open/high/low, prev close) as JSON text."""
    p = m.prefix
    if p is None:
        day = m.day
        o, h, l_, pcp = price_num(day.open), price_num(day.high), price_num(day.low), price_num(day.pcp)
        p = m.prefix = (
            f'{{"type":"ticker","code":"{m.code}","opening_price":{o},"high_price":{h},"low_price":{l_},',
            f'{{"ty":"ticker","cd":"{m.code}","op":{o},"hp":{h},"lp":{l_},',
            "",
            pcp,
        )
    return p


def _rate_strings(m: MarketState, price: Decimal) -> tuple[str, str, str, str, str]:
    r = m.rates.get(price)
    if r is None:
        pcp = m.day.pcp
        signed = price - pcp
        cr = rate(abs(signed), pcp)
        r = (
            change_of(price, pcp),
            price_num(abs(signed)),
            price_num(signed),
            num(cr),
            num(cr if signed >= 0 else -cr),
        )
        if len(m.rates) > 4096:
            m.rates.clear()
        m.rates[price] = r
    return r


def ticker_frame(m: MarketState, simple: bool, stream: str, now: int) -> bytes | None:
    t = m.ticker_trade
    if t is None:
        return None
    day = m.day
    ck = m.clock.at(t.ts)
    change, cp, scp, cr, scr = _rate_strings(m, t.price)
    v24, p24 = m.acc_24h(t.ts)  # as of the last trade: REST and WS agree
    ab = "BID" if t.bid else "ASK"
    head_d, head_s, _, pcps = _ticker_prefix(m)
    ps, vs = _numbers(t)[:2]
    static_d, static_s = _static52(m)
    if simple:
        return (
            f'{head_s}"tp":{ps},"pcp":{pcps},"atp":{num(day.val)},"c":"{change}","cp":{cp},"scp":{scp},'
            f'"cr":{cr},"scr":{scr},"ab":"{ab}","tv":{vs},"atv":{num(day.vol)},"tdt":"{ck.compact_date}",'
            f'"ttm":"{ck.compact_time}","ttms":{t.ts},"aav":{num(day.ask)},"abv":{num(day.bid)},'
            f'{static_s},"tms":{now},"atp24h":{num(p24)},"atv24h":{num(v24)},"st":"{stream}"}}'
        ).encode()
    return (
        f'{head_d}"trade_price":{ps},"prev_closing_price":{pcps},"acc_trade_price":{num(day.val)},'
        f'"change":"{change}","change_price":{cp},"signed_change_price":{scp},"change_rate":{cr},'
        f'"signed_change_rate":{scr},"ask_bid":"{ab}","trade_volume":{vs},"acc_trade_volume":{num(day.vol)},'
        f'"trade_date":"{ck.compact_date}","trade_time":"{ck.compact_time}","trade_timestamp":{t.ts},'
        f'"acc_ask_volume":{num(day.ask)},"acc_bid_volume":{num(day.bid)},{static_d},"timestamp":{now},'
        f'"acc_trade_price_24h":{num(p24)},"acc_trade_volume_24h":{num(v24)},"stream_type":"{stream}"}}'
    ).encode()


def rest_ticker(m: MarketState, now: int) -> dict[str, object] | None:
    """The `/v1/ticker` item: the figures of the last ticker frame, REST field set."""
    t = m.ticker_trade
    if t is None:
        return None
    day = m.day
    ck = m.clock.at(t.ts)
    kst = iso_kst(t.ts)
    pcp = day.pcp
    signed = t.price - pcp
    cr = rate(abs(signed), pcp)
    v24, p24 = m.acc_24h(t.ts)  # as of the last trade: REST and WS agree
    return {
        "market": m.code,
        "trade_date": ck.compact_date,
        "trade_time": ck.compact_time,
        "trade_date_kst": kst[:10].replace("-", ""),
        "trade_time_kst": kst[11:].replace(":", ""),
        "trade_timestamp": t.ts,
        "opening_price": Decimal(price_num(day.open)),
        "high_price": Decimal(price_num(day.high)),
        "low_price": Decimal(price_num(day.low)),
        "trade_price": Decimal(price_num(t.price)),
        "prev_closing_price": Decimal(price_num(pcp)),
        "change": change_of(t.price, pcp),
        "change_price": Decimal(price_num(abs(signed))),
        "change_rate": cr,
        "signed_change_price": Decimal(price_num(signed)),
        "signed_change_rate": cr if signed >= 0 else -cr,
        "trade_volume": t.vol,
        "acc_trade_price": day.val,
        "acc_trade_price_24h": p24,
        "acc_trade_volume": day.vol,
        "acc_trade_volume_24h": v24,
        "highest_52_week_price": Decimal(price_num(m.h52)),
        "highest_52_week_date": m.h52_date,
        "lowest_52_week_price": Decimal(price_num(m.l52)),
        "lowest_52_week_date": m.l52_date,
        "timestamp": now,
    }


# ----------------------------------------------------------------- candles
def candle_fields(c: Candle) -> dict[str, object]:
    """The times and prices every candle shows, in REST answers and WebSocket frames alike."""
    return {
        "candle_date_time_utc": iso_utc(c.start),
        "candle_date_time_kst": iso_kst(c.start),
        "opening_price": Decimal(price_num(c.open)),
        "high_price": Decimal(price_num(c.high)),
        "low_price": Decimal(price_num(c.low)),
        "trade_price": Decimal(price_num(c.close)),
    }


def candle_frame(m: MarketState, unit: str, simple: bool, stream: str, now: int) -> bytes | None:
    c = m.live_candle(unit)
    if c is None:
        return None
    obj: dict[str, object] = {
        "type": f"candle.{unit}",
        "code": m.code,
        **candle_fields(c),
        "candle_acc_trade_volume": c.vol,
        "candle_acc_trade_price": c.val,
        "timestamp": now,
        "stream_type": stream,
    }
    if simple:
        obj = {SIMPLE_KEYS[key]: value for key, value in obj.items()}
    return dumps(obj).encode()
