"""One market's state: its order book, today's figures, candles and trades.

Everything a WebSocket frame or a REST answer shows comes from this state, so the two always agree; the
renderings themselves (DEFAULT and SIMPLE frames, REST items) are in `upbit_sim.wire`. Prices and sizes are
exact `Decimal`s; their JSON text is cached where frames are built often (the caches are filled by `wire`
and invalidated here when the state changes).
"""

from __future__ import annotations

import bisect
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from upbit_sim.catalog import MarketInfo
from upbit_sim.numfmt import DAY_MS, Clock, dash_date, num, price_num

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
        self.units_d: list[str] = [""] * DEPTH  # cached JSON of each orderbook unit
        self.units_s: list[str] = [""] * DEPTH
        self.stale_d: set[int] = set()  # units whose DEFAULT / SIMPLE JSON must be re-encoded
        self.stale_s: set[int] = set()
        self.all_stale = [True, True]  # indexed by `simple`
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
        self.static52: tuple[str, str] | None = None  # DEFAULT / SIMPLE JSON of the 52-week and state fields
        # rolling 24 h: exact sums over live minutes + a pro-rated share of the coarse past
        self._v24 = self._p24 = ZERO
        self._m24 = 0  # index of the oldest 1m candle still inside the window
        self.coarse_segments: list[tuple[int, int, Decimal, Decimal]] = []
        self._coarse24_sec = -1
        self._coarse24 = (ZERO, ZERO)
        self.fixed_24h: tuple[Decimal, Decimal] | None = None  # replay: the last ticker frame's figures
        self.rates: dict[Decimal, tuple[str, str, str, str, str]] = {}
        self.prefix: tuple[str, str, str, str] | None = None  # ticker JSON around trade_price
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
            self.stale_d.add(i)
            self.stale_s.add(i)
        lvl.set_size(size)

    def book_changed(self) -> None:
        """Levels were inserted or removed: every unit and total is recomputed on the next frame."""
        self.all_stale[0] = self.all_stale[1] = True
        self._totals = None

    def depth_totals(self, n: int) -> tuple[Decimal, Decimal]:
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

    # ----------------------------------------------------------------- trades
    def start_day(self, start: int, pcp: Decimal) -> None:
        """Open a new UTC day: figures reset, `prev_closing_price` is the last close."""
        self.day = Candle(start, pcp, pcp)
        self.day.last = start
        self.day_has_trade = False
        self.day_end = start + DAY_MS
        self.rates.clear()
        self.prefix = None
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
        self.static52 = None

    def set_state(self, state: str, delisting_date: str | None = None) -> None:
        self.state = state
        self.delisting_date = delisting_date
        self.static52 = None

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
            self.prefix = None
        self.day_has_trade = True
        if price > day.high or price < day.low:
            self.prefix = None
        day.add(ts, price, vol, value)
        if bid:
            day.bid += vol
        else:
            day.ask += vol
        if price > self.h52:
            self.h52, self.h52_date = price, dash_date(ts)
            self.static52 = None
        elif price < self.l52:
            self.l52, self.l52_date = price, dash_date(ts)
            self.static52 = None
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

    def trades_before(self, end_ts: int, cursor: int | None) -> int:
        """Index just past the newest stored trade with ts < end_ts (and seq < cursor when given)."""
        hi = bisect.bisect_left(self.trades, end_ts, key=lambda t: t.ts)
        if cursor is not None:
            hi = min(hi, bisect.bisect_left(self.trades, cursor, key=lambda t: t.seq))
        return hi
