"""One market's state: its order book, today's figures, candles and trades, and the frames made from them.

Everything a WebSocket frame or a REST answer shows comes from this state, so the two always agree.
Prices and sizes are exact `Decimal`s; their JSON text is cached where frames are built often.
"""

from __future__ import annotations

import bisect
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from upbit_sim.catalog import MarketInfo
from upbit_sim.numfmt import DAY_MS, Clock, dash_date, dumps, iso_kst, iso_utc, num, price_num

ZERO = Decimal(0)
RATE_Q = Decimal("1E-10")
DEPTH = 30
CANDLE_UNITS: dict[str, int] = {
    "1s": 1_000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "10m": 600_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "60m": 3_600_000,
    "240m": 14_400_000,
}
WEEK_MS = 7 * DAY_MS
_EPOCH_MONDAY_MS = 4 * DAY_MS  # 1970-01-05 was a Monday


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


class Level:
    """One price level on one side of the book; `ps`/`ss` are the cached JSON numbers."""

    __slots__ = ("pf", "price", "ps", "size", "ss")

    def __init__(self, price: Decimal, size: Decimal) -> None:
        self.price = price
        self.pf = float(price)  # only for the generator's random choices
        self.ps = price_num(price)
        self.size = size
        self.ss = num(size)

    def set_size(self, size: Decimal) -> None:
        self.size = size
        self.ss = num(size)


class Candle:
    """An OHLCV bucket. Day candles also carry `pcp` and the taker-side split of the volume."""

    __slots__ = ("ask", "bid", "close", "high", "last", "low", "open", "pcp", "start", "val", "vol")

    def __init__(self, start: int, price: Decimal, pcp: Decimal = ZERO) -> None:
        self.start = start
        self.open = self.high = self.low = self.close = price
        self.vol = self.val = self.ask = self.bid = ZERO
        self.last = start
        self.pcp = pcp

    def add(self, ts: int, price: Decimal, vol: Decimal, value: Decimal) -> None:
        if price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        self.close = price
        self.vol += vol
        self.val += value
        self.last = ts

    def merge(self, other: Candle) -> None:
        """Fold a later candle into this one."""
        self.high = max(self.high, other.high)
        self.low = min(self.low, other.low)
        self.close = other.close
        self.vol += other.vol
        self.val += other.val
        self.ask += other.ask
        self.bid += other.bid
        self.last = other.last

    def copy(self, start: int | None = None) -> Candle:
        c = Candle(self.start if start is None else start, self.open, self.pcp)
        c.high, c.low, c.close = self.high, self.low, self.close
        c.vol, c.val, c.ask, c.bid, c.last = self.vol, self.val, self.ask, self.bid, self.last
        return c

    def fields(self) -> dict[str, object]:
        """The times and prices every candle shows, in REST answers and WebSocket frames alike."""
        return {
            "candle_date_time_utc": iso_utc(self.start),
            "candle_date_time_kst": iso_kst(self.start),
            "opening_price": Decimal(price_num(self.open)),
            "high_price": Decimal(price_num(self.high)),
            "low_price": Decimal(price_num(self.low)),
            "trade_price": Decimal(price_num(self.close)),
        }


class Trade:
    """One fill. `ba*`/`bb*` are the top of the book right after it (what the WS trade frame shows);
    `strs` caches the JSON numbers of price, volume and that top of book."""

    __slots__ = ("bap", "bas", "bbp", "bbs", "bid", "pcp", "price", "seq", "strs", "ts", "vol")

    def __init__(
        self,
        ts: int,
        seq: int,
        price: Decimal,
        vol: Decimal,
        *,
        bid: bool,
        pcp: Decimal,
        bap: Decimal,
        bas: Decimal,
        bbp: Decimal,
        bbs: Decimal,
    ) -> None:
        self.ts, self.seq, self.price, self.vol, self.bid, self.pcp = ts, seq, price, vol, bid, pcp
        self.bap, self.bas, self.bbp, self.bbs = bap, bas, bbp, bbs
        self.strs: tuple[str, str, str, str, str, str] | None = None

    def numbers(self) -> tuple[str, str, str, str, str, str]:
        s = self.strs
        if s is None:
            s = self.strs = (
                price_num(self.price),
                num(self.vol),
                price_num(self.bap),
                num(self.bas),
                price_num(self.bbp),
                num(self.bbs),
            )
        return s

    def rest(self, code: str) -> dict[str, object]:
        """The `/v1/trades/ticks` item (`change_price` is signed here, unlike in WS frames)."""
        return {
            "market": code,
            "trade_date_utc": dash_date(self.ts),
            "trade_time_utc": iso_utc(self.ts)[11:],
            "timestamp": self.ts,
            "trade_price": Decimal(price_num(self.price)),
            "trade_volume": self.vol,
            "prev_closing_price": Decimal(price_num(self.pcp)),
            "change_price": Decimal(price_num(self.price - self.pcp)),
            "ask_bid": "BID" if self.bid else "ASK",
            "sequential_id": self.seq,
        }


def bucket_start(ms: int, unit_ms: int) -> int:
    return ms - ms % unit_ms


def week_start(ms: int) -> int:
    return ms - (ms - _EPOCH_MONDAY_MS) % WEEK_MS


def change_of(price: Decimal, pcp: Decimal) -> str:
    return "RISE" if price > pcp else "FALL" if price < pcp else "EVEN"


def rate(change: Decimal, pcp: Decimal) -> Decimal:
    return (change / pcp).quantize(RATE_Q, rounding=ROUND_HALF_UP) if pcp else ZERO


class MarketState:
    """Live state of one market. The engine mutates it; encoders and REST handlers read it."""

    def __init__(self, info: MarketInfo, index: int, clock: Clock) -> None:
        self.info = info
        self.code = info.code
        self.quote = info.quote
        self.index = index
        self.clock = clock
        self.state = "ACTIVE"
        self.delisting_date: str | None = None
        self.asks: list[Level] = []
        self.bids: list[Level] = []
        self._units_d: list[str] = [""] * DEPTH  # cached JSON of each orderbook unit
        self._units_s: list[str] = [""] * DEPTH
        self._stale_d: set[int] = set()  # units whose DEFAULT / SIMPLE JSON must be re-encoded
        self._stale_s: set[int] = set()
        self._all_stale = [True, True]  # indexed by `simple`
        self._totals: tuple[Decimal, Decimal] | None = None
        self.book_ts = 0
        # days: closed day candles, oldest first; `day` is the current (UTC) day
        self.days: list[Candle] = []
        self.day = Candle(0, info.price, info.price)
        self.day_has_trade = False
        self.day_end = 0
        # the synthetic past before `fine_start` exists as day candles only (see history.py)
        self.fine_start = 0
        self.coarse_today: Candle | None = None
        self.c1s: list[Candle] = []
        self.c1m: list[Candle] = []
        self.trades: list[Trade] = []
        self.trades_evicted = 0
        self.trades_generated = 0
        self.trades_at_start = 0  # generated before the run (the fine window)
        self.last_trade: Trade | None = None
        # the last trade of the synthetic past (history.py): tickers exist before the first generated trade
        self.seed_trade: Trade | None = None
        self.h52 = self.l52 = info.price
        self.h52_date = self.l52_date = ""
        self._static52 = ""
        self._static52_simple = ""
        # rolling 24 h: exact sums over live minutes + a pro-rated share of the coarse past
        self._v24 = self._p24 = ZERO
        self._m24 = 0  # index of the oldest 1m candle still inside the window
        self.coarse_segments: list[tuple[int, int, Decimal, Decimal]] = []
        self._coarse24_sec = -1
        self._coarse24 = (ZERO, ZERO)
        self.fixed_24h: tuple[Decimal, Decimal] | None = None  # replay: the last ticker frame's figures
        self._rates: dict[Decimal, tuple[str, str, str, str, str]] = {}
        self._prefix: tuple[str, str, str, str] | None = None  # ticker JSON around trade_price
        # generator knobs (floats only drive random choices, never prices)
        self.fair = float(info.price)
        self.sigma = 0.0002
        self.candle_dirty = False
        self.candle_next = 0

    @property
    def ticker_trade(self) -> Trade | None:
        """The trade a ticker shows: the last generated one, else the last one of the synthetic past."""
        return self.last_trade if self.last_trade is not None else self.seed_trade

    # ----------------------------------------------------------------- book
    def ref_price(self) -> Decimal:
        """The best ask, else the last trade, else the listing price (for tick sizes and levels)."""
        if self.asks:
            return self.asks[0].price
        return self.last_trade.price if self.last_trade is not None else self.info.price

    def resize(self, ask: bool, i: int, size: Decimal) -> None:
        """Change one level's size (keeps the cached unit JSON and the depth-30 totals current)."""
        lvl = (self.asks if ask else self.bids)[i]
        if i < DEPTH:
            if self._totals is not None:
                delta = size - lvl.size
                ta, tb = self._totals
                self._totals = (ta + delta, tb) if ask else (ta, tb + delta)
            self._stale_d.add(i)
            self._stale_s.add(i)
        lvl.set_size(size)

    def book_changed(self) -> None:
        """Levels were inserted or removed: every unit and total is recomputed on the next frame."""
        self._all_stale[0] = self._all_stale[1] = True
        self._totals = None

    def _units(self, n: int, simple: bool) -> str:
        """The first `n` orderbook units as JSON, re-encoding only the units that changed."""
        asks, bids = self.asks, self.bids
        cache, stale = (self._units_s, self._stale_s) if simple else (self._units_d, self._stale_d)
        template = _UNIT_S if simple else _UNIT_D
        if self._all_stale[simple]:
            self._all_stale[simple] = False
            k = min(DEPTH, len(asks), len(bids))
            cache[:k] = [
                template.format(a.ps, b.ps, a.ss, b.ss) for a, b in zip(asks[:k], bids[:k], strict=True)
            ]
        else:
            for i in stale:
                if i < len(asks) and i < len(bids):
                    a, b = asks[i], bids[i]
                    cache[i] = template.format(a.ps, b.ps, a.ss, b.ss)
        stale.clear()
        return ",".join(cache[:n])

    def _depth_totals(self, n: int) -> tuple[Decimal, Decimal]:
        if n == DEPTH and self._totals is not None:
            return self._totals
        ta = tb = ZERO
        for i in range(n):
            ta += self.asks[i].size
            tb += self.bids[i].size
        if n == DEPTH:
            self._totals = (ta, tb)
        return ta, tb

    def grouped_book(self, level: Decimal, depth: int) -> list[tuple[Decimal, Decimal, Decimal, Decimal]]:
        """(ask price, bid price, ask size, bid size) per unit, best first, grouped by `level` if non-zero."""
        if not level:
            return [
                (a.price, b.price, a.size, b.size)
                for a, b in zip(self.asks[:depth], self.bids[:depth], strict=True)
            ]
        asks: dict[Decimal, Decimal] = {}
        bids: dict[Decimal, Decimal] = {}
        for a in self.asks:
            p = ((a.price / level).to_integral_value(rounding=ROUND_CEILING) * level).normalize()
            asks[p] = asks.get(p, ZERO) + a.size
        for b in self.bids:
            p = ((b.price / level).to_integral_value(rounding=ROUND_FLOOR) * level).normalize()
            bids[p] = bids.get(p, ZERO) + b.size
        a_items = sorted(asks.items())
        b_items = sorted(bids.items(), reverse=True)
        n = min(depth, len(a_items), len(b_items))
        return [(a_items[i][0], b_items[i][0], a_items[i][1], b_items[i][1]) for i in range(n)]

    def orderbook_payload(self, simple: bool, depth: int, level: Decimal, stream: str, now: int) -> bytes:
        ts = self.book_ts or now
        if level:
            units = self.grouped_book(level, depth)
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
            n = min(depth, len(self.asks), len(self.bids))
            ta, tb = self._depth_totals(n)
            body = self._units(n, simple)
            lv = "0"
        if simple:
            return (
                f'{{"ty":"orderbook","cd":"{self.code}","tms":{ts},"tas":{num(ta)},"tbs":{num(tb)},'
                f'"obu":[{body}],"lv":{lv},"st":"{stream}"}}'
            ).encode()
        return (
            f'{{"type":"orderbook","code":"{self.code}","timestamp":{ts},"total_ask_size":{num(ta)},'
            f'"total_bid_size":{num(tb)},"orderbook_units":[{body}],"level":{lv},"stream_type":"{stream}"}}'
        ).encode()

    def rest_orderbook(self, depth: int, level: Decimal) -> dict[str, object] | None:
        if not self.asks or not self.bids:
            return None
        units = self.grouped_book(level, depth)
        return {
            "market": self.code,
            "timestamp": self.book_ts,
            "total_ask_size": sum((u[2] for u in units), ZERO),
            "total_bid_size": sum((u[3] for u in units), ZERO),
            "orderbook_units": [
                {"ask_price": a, "bid_price": b, "ask_size": sa, "bid_size": sb} for a, b, sa, sb in units
            ],
            "level": level if level else 0,
        }

    # ----------------------------------------------------------------- trades
    def start_day(self, start: int, pcp: Decimal) -> None:
        """Open a new UTC day: figures reset, `prev_closing_price` is the last close."""
        self.day = Candle(start, pcp, pcp)
        self.day.last = start
        self.day_has_trade = False
        self.day_end = start + DAY_MS
        self._rates.clear()
        self._prefix = None
        self.refresh_52w()

    def roll_day(self, ts: int) -> None:
        while ts >= self.day_end:
            if self.day_has_trade or self.day.vol:
                self.days.append(self.day)
            self.start_day(self.day_end, self.day.close)

    def refresh_52w(self) -> None:
        """52-week high/low over the day candles of the last 52 weeks (today included)."""
        horizon = self.day.start - 364 * DAY_MS
        hi, hi_day, lo, lo_day = self.day.high, self.day.start, self.day.low, self.day.start
        for c in reversed(self.days):
            if c.start < horizon:
                break
            if c.high > hi:
                hi, hi_day = c.high, c.start
            if c.low < lo:
                lo, lo_day = c.low, c.start
        self.h52, self.h52_date, self.l52, self.l52_date = hi, dash_date(hi_day), lo, dash_date(lo_day)
        self._render_static()

    def _render_static(self) -> None:
        dd = "null" if self.delisting_date is None else f'"{self.delisting_date}"'
        warn = "CAUTION" if self.info.warning else "NONE"
        h, l_ = price_num(self.h52), price_num(self.l52)
        self._static52 = (
            f'"highest_52_week_price":{h},"highest_52_week_date":"{self.h52_date}",'
            f'"lowest_52_week_price":{l_},"lowest_52_week_date":"{self.l52_date}",'
            f'"market_state":"{self.state}","is_trading_suspended":false,"delisting_date":{dd},'
            f'"market_warning":"{warn}"'
        )
        self._static52_simple = (
            f'"h52wp":{h},"h52wdt":"{self.h52_date}","l52wp":{l_},"l52wdt":"{self.l52_date}",'
            f'"ms":"{self.state}","its":false,"dd":{dd},"mw":"{warn}"'
        )

    def set_state(self, state: str, delisting_date: str | None = None) -> None:
        self.state = state
        self.delisting_date = delisting_date
        self._render_static()

    def apply_trade(
        self, ts: int, seq: int, price: Decimal, vol: Decimal, bid: bool, *, price_s: str | None = None
    ) -> Trade:
        """Book a fill into today's figures, the rolling 24 h, the 1 s / 1 m candles and the trade list."""
        if ts >= self.day_end:
            self.roll_day(ts)
        value = price * vol
        day = self.day
        if not self.day_has_trade and not day.vol:
            day.open = day.high = day.low = price
            self._prefix = None
        self.day_has_trade = True
        if price > day.high or price < day.low:
            self._prefix = None
        day.add(ts, price, vol, value)
        if bid:
            day.bid += vol
        else:
            day.ask += vol
        if price > self.h52:
            self.h52, self.h52_date = price, dash_date(ts)
            self._render_static()
        elif price < self.l52:
            self.l52, self.l52_date = price, dash_date(ts)
            self._render_static()
        # 1 s and 1 m candles
        c = self.c1s[-1] if self.c1s else None
        sec = ts - ts % 1000
        if c is None or c.start != sec:
            c = Candle(sec, price)
            self.c1s.append(c)
        c.add(ts, price, vol, value)
        c = self.c1m[-1] if self.c1m else None
        minute = ts - ts % 60_000
        if c is None or c.start != minute:
            c = Candle(minute, price)
            self.c1m.append(c)
            self._expire_24h(ts)
        c.add(ts, price, vol, value)
        self._v24 += vol
        self._p24 += value
        a, b = self.asks[0], self.bids[0]
        t = Trade(ts, seq, price, vol, bid=bid, pcp=day.pcp, bap=a.price, bas=a.size, bbp=b.price, bbs=b.size)
        t.strs = (price_num(price) if price_s is None else price_s, num(vol), a.ps, a.ss, b.ps, b.ss)
        self.trades.append(t)
        self.trades_generated += 1
        self.last_trade = t
        self.candle_dirty = True
        return t

    def _expire_24h(self, now: int) -> None:
        horizon = now - DAY_MS
        c1m = self.c1m
        while self._m24 < len(c1m) and c1m[self._m24].start + 60_000 <= horizon:
            old = c1m[self._m24]
            self._v24 -= old.vol
            self._p24 -= old.val
            self._m24 += 1

    def trim(self, max_trades: int, keep_from: int) -> None:
        """Bound memory: drop the oldest trades past `max_trades` and 1 s candles older than `keep_from`."""
        extra = len(self.trades) - max_trades
        if extra > 0:
            del self.trades[:extra]
            self.trades_evicted += extra
        if self.c1s and self.c1s[0].start < keep_from:
            cut = bisect.bisect_left(self.c1s, keep_from, key=lambda c: c.start)
            del self.c1s[:cut]

    def acc_24h(self, now: int) -> tuple[Decimal, Decimal]:
        if self.fixed_24h is not None:
            return self.fixed_24h
        sec = now // 1000
        if sec != self._coarse24_sec:
            self._coarse24_sec = sec
            self._expire_24h(now)
            lo = now - DAY_MS
            v = p = ZERO
            for t0, t1, vol, val in self.coarse_segments:
                overlap = min(t1, now) - max(t0, lo)
                if overlap <= 0:
                    continue
                share = Decimal(overlap) / Decimal(t1 - t0)
                v += vol * share
                p += val * share
            self._coarse24 = (v.quantize(Decimal("1E-8")), p.quantize(Decimal("1E-8")))
        cv, cp = self._coarse24
        return cv + self._v24, cp + self._p24

    # ----------------------------------------------------------------- frames
    def trade_payload(self, t: Trade, simple: bool, stream: str, now: int) -> bytes:
        ck = self.clock.at(t.ts)
        ps, vs, baps, bass, bbps, bbss = t.numbers()
        if t.pcp is self.day.pcp:
            change, cp, _, _, _ = self._rate_strings(t.price)
            pcps = self._ticker_prefix()[3]
        else:
            change, cp, pcps = change_of(t.price, t.pcp), price_num(abs(t.price - t.pcp)), price_num(t.pcp)
        ab = "BID" if t.bid else "ASK"
        if simple:
            return (
                f'{{"ty":"trade","cd":"{self.code}","tms":{now},"td":"{ck.dash_date}","ttm":"{ck.colon_time}",'
                f'"ttms":{t.ts},"tp":{ps},"tv":{vs},"ab":"{ab}","pcp":{pcps},"c":"{change}","cp":{cp},'
                f'"sid":{t.seq},"bap":{baps},"bas":{bass},"bbp":{bbps},"bbs":{bbss},"st":"{stream}"}}'
            ).encode()
        return (
            f'{{"type":"trade","code":"{self.code}","timestamp":{now},"trade_date":"{ck.dash_date}",'
            f'"trade_time":"{ck.colon_time}","trade_timestamp":{t.ts},"trade_price":{ps},"trade_volume":{vs},'
            f'"ask_bid":"{ab}","prev_closing_price":{pcps},"change":"{change}","change_price":{cp},'
            f'"sequential_id":{t.seq},"best_ask_price":{baps},"best_ask_size":{bass},"best_bid_price":{bbps},'
            f'"best_bid_size":{bbss},"stream_type":"{stream}"}}'
        ).encode()

    def _ticker_prefix(self) -> tuple[str, str, str, str]:
        """(DEFAULT up to trade_price, SIMPLE up to tp, SIMPLE open/high/low, prev close) as JSON text."""
        p = self._prefix
        if p is None:
            day = self.day
            o, h, l_, pcp = price_num(day.open), price_num(day.high), price_num(day.low), price_num(day.pcp)
            p = self._prefix = (
                f'{{"type":"ticker","code":"{self.code}","opening_price":{o},"high_price":{h},"low_price":{l_},',
                f'{{"ty":"ticker","cd":"{self.code}","op":{o},"hp":{h},"lp":{l_},',
                "",
                pcp,
            )
        return p

    def _rate_strings(self, price: Decimal) -> tuple[str, str, str, str, str]:
        r = self._rates.get(price)
        if r is None:
            pcp = self.day.pcp
            signed = price - pcp
            cr = rate(abs(signed), pcp)
            r = (
                change_of(price, pcp),
                price_num(abs(signed)),
                price_num(signed),
                num(cr),
                num(cr if signed >= 0 else -cr),
            )
            if len(self._rates) > 4096:
                self._rates.clear()
            self._rates[price] = r
        return r

    def ticker_payload(self, simple: bool, stream: str, now: int) -> bytes | None:
        t = self.ticker_trade
        if t is None:
            return None
        day = self.day
        ck = self.clock.at(t.ts)
        change, cp, scp, cr, scr = self._rate_strings(t.price)
        v24, p24 = self.acc_24h(t.ts)  # as of the last trade: REST and WS agree
        ab = "BID" if t.bid else "ASK"
        head_d, head_s, _, pcps = self._ticker_prefix()
        ps, vs = t.numbers()[:2]
        if simple:
            return (
                f'{head_s}"tp":{ps},"pcp":{pcps},"atp":{num(day.val)},"c":"{change}","cp":{cp},"scp":{scp},'
                f'"cr":{cr},"scr":{scr},"ab":"{ab}","tv":{vs},"atv":{num(day.vol)},"tdt":"{ck.compact_date}",'
                f'"ttm":"{ck.compact_time}","ttms":{t.ts},"aav":{num(day.ask)},"abv":{num(day.bid)},'
                f'{self._static52_simple},"tms":{now},"atp24h":{num(p24)},"atv24h":{num(v24)},"st":"{stream}"}}'
            ).encode()
        return (
            f'{head_d}"trade_price":{ps},"prev_closing_price":{pcps},"acc_trade_price":{num(day.val)},'
            f'"change":"{change}","change_price":{cp},"signed_change_price":{scp},"change_rate":{cr},'
            f'"signed_change_rate":{scr},"ask_bid":"{ab}","trade_volume":{vs},"acc_trade_volume":{num(day.vol)},'
            f'"trade_date":"{ck.compact_date}","trade_time":"{ck.compact_time}","trade_timestamp":{t.ts},'
            f'"acc_ask_volume":{num(day.ask)},"acc_bid_volume":{num(day.bid)},{self._static52},"timestamp":{now},'
            f'"acc_trade_price_24h":{num(p24)},"acc_trade_volume_24h":{num(v24)},"stream_type":"{stream}"}}'
        ).encode()

    def rest_ticker(self, now: int) -> dict[str, object] | None:
        """The `/v1/ticker` item: the figures of the last ticker frame, REST field set."""
        t = self.ticker_trade
        if t is None:
            return None
        day = self.day
        ck = self.clock.at(t.ts)
        kst = iso_kst(t.ts)
        pcp = day.pcp
        signed = t.price - pcp
        cr = rate(abs(signed), pcp)
        v24, p24 = self.acc_24h(t.ts)  # as of the last trade: REST and WS agree
        return {
            "market": self.code,
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
            "highest_52_week_price": Decimal(price_num(self.h52)),
            "highest_52_week_date": self.h52_date,
            "lowest_52_week_price": Decimal(price_num(self.l52)),
            "lowest_52_week_date": self.l52_date,
            "timestamp": now,
        }

    # ----------------------------------------------------------------- candles
    def live_candle(self, unit: str) -> Candle | None:
        """The newest bucket of a WS candle unit (built from the 1 s / 1 m candles)."""
        if unit == "1s":
            return self.c1s[-1] if self.c1s else None
        if not self.c1m:
            return None
        unit_ms = CANDLE_UNITS[unit]
        last = self.c1m[-1]
        start = bucket_start(last.start, unit_ms)
        if unit_ms == 60_000:
            return last
        agg: Candle | None = None
        for c in self.c1m[bisect.bisect_left(self.c1m, start, key=lambda c: c.start) :]:
            if agg is None:
                agg = c.copy(start)
            else:
                agg.merge(c)
        return agg

    def candle_payload(self, unit: str, simple: bool, stream: str, now: int) -> bytes | None:
        c = self.live_candle(unit)
        if c is None:
            return None
        obj: dict[str, object] = {
            "type": f"candle.{unit}",
            "code": self.code,
            **c.fields(),
            "candle_acc_trade_volume": c.vol,
            "candle_acc_trade_price": c.val,
            "timestamp": now,
            "stream_type": stream,
        }
        if simple:
            obj = {SIMPLE_KEYS[key]: value for key, value in obj.items()}
        return dumps(obj).encode()

    def trades_before(self, end_ts: int, cursor: int | None) -> int:
        """Index just past the newest stored trade with ts < end_ts (and seq < cursor when given)."""
        hi = bisect.bisect_left(self.trades, end_ts, key=lambda t: t.ts)
        if cursor is not None:
            hi = min(hi, bisect.bisect_left(self.trades, cursor, key=lambda t: t.seq))
        return hi
