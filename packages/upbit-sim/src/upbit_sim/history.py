"""The synthetic past, deterministic for a seed.

- Day candles for `history_days` full days before the start of the run, a random walk that ends near the
  market's reference price and chains through `prev_closing_price`.
- The day in progress before the "fine" window is one coarse aggregate (open, high, low, volume, value).
- Minute candles of that coarse past are derived on demand from each day candle: a path from the day's
  open to its close that touches its high and low, with the day's volume spread over the minutes.
- From `fine_start` (a few minutes before the run) on, the engine itself generates trades, so trades,
  candles and tickers are exact aggregates of each other from there.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from upbit_sim.market import Candle, Level, MarketState, Trade
from upbit_sim.numfmt import DAY_MS
from upbit_sim.ticks import round_to_tick, step_down, step_up, tick_size

VOL_Q = Decimal("1E-8")
_KRW_PER_QUOTE = {"KRW": 1.0, "BTC": 104_862_000.0, "USDT": 1452.0}


def daily_notional(state: MarketState) -> float:
    """A typical day's traded value in the quote currency (KRW-BTC trades ~300 billion KRW a day)."""
    krw = 3.0e11 * math.pow(state.info.weight, 1.6)
    if state.quote != "KRW":
        krw *= 0.01
    return krw / _KRW_PER_QUOTE[state.quote]


def _vol(x: float) -> Decimal:
    """A size from a random float: 8 decimals, at least one unit, no trailing zeros."""
    return max(VOL_Q, Decimal(int(x * 1e8)).scaleb(-8)).normalize()


def _typical(quote: str, o: Decimal, h: Decimal, l_: Decimal, c: Decimal) -> Decimal:
    return round_to_tick(quote, (o + h + l_ + c) / 4)


def _candle(
    quote: str, start: int, ohlc: tuple[Decimal, Decimal, Decimal, Decimal], vol: Decimal, last: int
) -> Candle:
    o, h, l_, c = ohlc
    k = Candle(start, o)
    k.high, k.low, k.close, k.vol, k.last = h, l_, c, vol, last
    k.val = vol * _typical(quote, o, h, l_, c)
    return k


def build_past(
    state: MarketState, seed: int, fine_start: int, history_days: int, listed_now: bool = False
) -> Decimal:
    """Fill `state.days` and the coarse part of the day containing `fine_start`; return the price at
    `fine_start` (where the generated trades take over). A market `listed_now` has no past at all."""
    quote = state.quote
    rng = random.Random(f"{seed}:{state.code}:days")
    sigma = rng.uniform(0.015, 0.05) if state.code.endswith("-BTC") else rng.uniform(0.025, 0.08)
    state.sigma = sigma / math.sqrt(86_400 * 3)  # per generated event, roughly
    notional = daily_notional(state)
    today = fine_start - fine_start % DAY_MS
    p_ref = float(state.info.price)
    # closes of the full days, newest last, walking backwards from the reference price
    closes = [p_ref]
    for _ in range(history_days):
        closes.append(closes[-1] / math.exp(rng.gauss(0.0, sigma)))
    closes.reverse()  # closes[0] is the close of the day before the first candle
    prev = state.info.price if listed_now else round_to_tick(quote, Decimal(repr(closes[0])))
    for i in range(history_days):
        start = today - (history_days - i) * DAY_MS
        close = round_to_tick(quote, Decimal(repr(closes[i + 1])))
        o = prev
        hi = round_to_tick(quote, max(o, close) * Decimal(repr(1 + abs(rng.gauss(0, sigma / 2)))), up=True)
        lo = round_to_tick(quote, min(o, close) * Decimal(repr(1 - min(0.5, abs(rng.gauss(0, sigma / 2))))))
        vol = _vol(notional / float(close) * rng.lognormvariate(0, 0.35))
        c = _candle(quote, start, (o, hi, lo, close), vol, start + DAY_MS - rng.randint(1, 59_000))
        c.pcp = prev
        c.bid = _vol(float(vol) * rng.uniform(0.45, 0.55))
        c.ask = vol - c.bid
        state.days.append(c)
        prev = close
    # the coarse part of the current day: [today, fine_start)
    state.start_day(today, prev)
    state.fine_start = fine_start
    frac = 0.0 if listed_now else (fine_start - today) / DAY_MS
    price = prev
    if frac > 0:
        move = rng.gauss(0, sigma * math.sqrt(frac))
        price = round_to_tick(quote, prev * Decimal(repr(math.exp(move))))
        hi = round_to_tick(
            quote, max(prev, price) * Decimal(repr(1 + abs(rng.gauss(0, sigma * frac / 2)))), up=True
        )
        lo = round_to_tick(
            quote, min(prev, price) * Decimal(repr(1 - min(0.5, abs(rng.gauss(0, sigma * frac / 2)))))
        )
        vol = _vol(notional * frac / float(price) * rng.lognormvariate(0, 0.2))
        day = _candle(quote, today, (prev, hi, lo, price), vol, fine_start - rng.randint(1, 30_000))
        day.pcp = prev
        day.bid = _vol(float(vol) * rng.uniform(0.45, 0.55))
        day.ask = vol - day.bid
        state.day = day
        state.coarse_today = day.copy()
    # rolling-24h share of the coarse past: yesterday (whole) and today's coarse part
    for c in state.days[-1:] + ([state.coarse_today] if state.coarse_today else []):
        end = fine_start if c is state.coarse_today else c.start + DAY_MS
        state.coarse_segments.append((c.start, end, c.vol, c.val))
    state.refresh_52w()
    return price


def last_past_trade(state: MarketState, seed: int, price: Decimal) -> Trade:
    """The last trade of the synthetic past, at `price` (the close of today's coarse part, else of the
    last day candle) and at that candle's last-trade time: what the ticker shows until the market's first
    generated trade. Not a stored trade (`/v1/trades/ticks` keeps only generated ones)."""
    last = state.coarse_today or (state.days[-1] if state.days else None)
    ts = state.fine_start - 1 if last is None else last.last
    rng = random.Random(f"{seed}:{state.code}:last")
    vol = _vol(daily_notional(state) / 20_000 / float(price) * rng.lognormvariate(0, 1))
    if last is not None:
        vol = min(vol, last.vol)
    a, b = state.asks[0], state.bids[0]
    # a BID: it printed at the best ask, where the book now starts
    return Trade(
        ts,
        ts * 10_000,
        price,
        vol,
        bid=True,
        pcp=state.day.pcp if last is None else last.pcp,
        bap=a.price,
        bas=a.size,
        bbp=b.price,
        bbs=b.size,
    )


@dataclass(frozen=True, slots=True)
class _CoarseDay:
    """What the minutes of a coarse day are derived from (hashable: the derivation is cached)."""

    code: str
    quote: str
    seed: int
    start: int
    end: int
    ohlc: tuple[Decimal, Decimal, Decimal, Decimal]
    vol: Decimal
    val: Decimal
    weight: float


def coarse_minutes(state: MarketState, seed: int, day: Candle, end: int) -> list[Candle]:
    """Plausible 1-minute candles of a coarse day (`day` covers [day.start, end)), oldest first.
    Their volumes and values add up exactly to the day's."""
    spec = _CoarseDay(
        state.code, state.quote, seed, day.start, end,
        (day.open, day.high, day.low, day.close), day.vol, day.val, state.info.weight,
    )  # fmt: skip
    return list(_coarse_minutes(spec))


@lru_cache(maxsize=256)
def _coarse_minutes(spec: _CoarseDay) -> tuple[Candle, ...]:
    code, quote, seed, start, end = spec.code, spec.quote, spec.seed, spec.start, spec.end
    o, h, l_, c = spec.ohlc
    vol, val, weight = spec.vol, spec.val, spec.weight
    n = (end - start) // 60_000
    if n <= 0:
        return ()
    rng = random.Random(f"{seed}:{code}:minutes:{start}")
    # Brownian bridge from 0 to 0, laid over the straight line open -> close
    walk = [0.0]
    for _ in range(n):
        walk.append(walk[-1] + rng.gauss(0, 1))
    bridge = [w - walk[-1] * i / n for i, w in enumerate(walk)]
    fo, fh, fl, fc = float(o), float(h), float(l_), float(c)
    line = [fo + (fc - fo) * i / n for i in range(n + 1)]
    up = min(((fh - line[i]) / b for i, b in enumerate(bridge) if b > 0), default=0.0)
    down = min(((line[i] - fl) / -b for i, b in enumerate(bridge) if b < 0), default=0.0)
    path = [line[i] + (b * up if b > 0 else b * down) for i, b in enumerate(bridge)]
    prices = [min(h, max(l_, round_to_tick(quote, Decimal(repr(p))))) for p in path]
    prices[0], prices[-1] = o, c
    top = max(range(n + 1), key=lambda i: path[i])
    bottom = min(range(n + 1), key=lambda i: path[i])
    prices[top], prices[bottom] = h, l_
    activity = min(0.97, 0.25 + weight)
    active = [
        i for i in range(n) if rng.random() < activity or i in (0, n - 1, min(top, n - 1), min(bottom, n - 1))
    ]
    weights = [rng.expovariate(1.0) for _ in active]
    total = sum(weights)
    out: list[Candle] = []
    left = vol
    for k, i in enumerate(active):
        share = left if k == len(active) - 1 else min(left, _vol(float(vol) * weights[k] / total))
        left -= share
        po, pc = prices[i], prices[i + 1]
        hi, lo = max(po, pc), min(po, pc)
        if i == top or i + 1 == top:
            hi = h
        if i == bottom or i + 1 == bottom:
            lo = l_
        ms = start + i * 60_000
        out.append(_candle(quote, ms, (po, hi, lo, pc), max(share, VOL_Q), ms + rng.randint(0, 59_999)))
    # scale the values so that they add up to the day's exactly (the last minute takes the rounding)
    total_val = sum((mc.val for mc in out), Decimal(0))
    if total_val:
        factor = val / total_val
        for mc in out[:-1]:
            mc.val = (mc.val * factor).quantize(VOL_Q).normalize()
        out[-1].val = val - sum((mc.val for mc in out[:-1]), Decimal(0))
    return tuple(out)


def initial_book(state: MarketState, price: Decimal, rng: random.Random, levels: int) -> None:
    """Build `levels` price levels per side around `price` (best ask at `price`)."""
    quote = state.quote
    tick = tick_size(quote, price)
    gap = max(1, round(float(price) * 2e-5 / float(tick)))
    notional = daily_notional(state) / 2000
    asks: list[Level] = []
    p = price
    for _ in range(levels):
        asks.append(Level(p, _vol(notional / float(p) * rng.lognormvariate(0, 1))))
        p = step_up(quote, p, rng.randint(1, gap * 2))
    bids: list[Level] = []
    p = step_down(quote, price)
    for _ in range(levels):
        bids.append(Level(p, _vol(notional / float(p) * rng.lognormvariate(0, 1))))
        p = step_down(quote, p, rng.randint(1, gap * 2))
    state.asks, state.bids = asks, bids
    state.book_changed()
