"""Candles for REST: seconds and minutes from the generated 1 s / 1 m buckets (plus minutes derived from
the coarse past), days from the day list, weeks/months/years folded from days. Newest first; buckets
without trades do not exist; `count` candles are returned, scanning back past empty buckets."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import UTC, datetime

from upbit_sim.history import coarse_minutes
from upbit_sim.market import Candle, MarketState, bucket_start, week_start
from upbit_sim.numfmt import DAY_MS


def _minutes_newest_first(m: MarketState, seed: int, before: int) -> Iterator[Candle]:
    """Every 1-minute candle with start < `before`, newest first: generated ones, then the coarse past."""
    i = bisect.bisect_left(m.c1m, before, key=lambda c: c.start)
    for k in range(i - 1, -1, -1):
        yield m.c1m[k]
    fine_day = m.fine_start - m.fine_start % DAY_MS
    coarse: list[tuple[Candle, int]] = []
    if m.coarse_today is not None:
        coarse.append((m.coarse_today, m.fine_start))
    for day in reversed(m.days):
        if day.start < fine_day:
            coarse.append((day, day.start + DAY_MS))
    for day, end in coarse:
        if day.start >= before:
            continue
        for c in reversed(coarse_minutes(m, seed, day, end)):
            if c.start < before:
                yield c


def _fold_newest_first(source: Iterator[Candle], key: int | str, count: int) -> list[Candle]:
    """Group newest-first candles into buckets (`key`: bucket size in ms, or 'week'/'month'/'year')."""
    out: list[Candle] = []
    agg: Candle | None = None
    for c in source:
        start = _period_start(c.start, key)
        if agg is not None and agg.start == start:
            agg.open = c.open
            agg.high = max(agg.high, c.high)
            agg.low = min(agg.low, c.low)
            agg.vol += c.vol
            agg.val += c.val
            agg.pcp = c.pcp
            continue
        if agg is not None:
            out.append(agg)
            if len(out) == count:
                return out
        agg = c.copy(start)
    if agg is not None and len(out) < count:
        out.append(agg)
    return out


def _period_start(ms: int, key: int | str) -> int:
    if isinstance(key, int):
        return bucket_start(ms, key)
    if key == "week":
        return week_start(ms)
    t = datetime.fromtimestamp(ms // 1000, UTC)
    first = (
        t.replace(day=1, hour=0, minute=0, second=0)
        if key == "month"
        else t.replace(month=1, day=1, hour=0, minute=0, second=0)
    )
    return int(first.timestamp()) * 1000


def seconds(m: MarketState, before: int, count: int) -> list[Candle]:
    i = bisect.bisect_left(m.c1s, before, key=lambda c: c.start)
    return list(reversed(m.c1s[max(0, i - count) : i]))


def minutes(m: MarketState, seed: int, unit: int, before: int, count: int) -> list[Candle]:
    unit_ms = unit * 60_000
    return _fold_newest_first(_minutes_newest_first(m, seed, before), unit_ms, count)


def day_list(m: MarketState) -> list[Candle]:
    """Closed days plus today (when it has traded), oldest first."""
    days = list(m.days)
    if m.day_has_trade or m.day.vol:
        days.append(m.day)
    return days


def days(m: MarketState, before: int, count: int) -> list[Candle]:
    out = [d for d in reversed(day_list(m)) if d.start < before]
    return out[:count]


def periods(m: MarketState, key: str, before: int, count: int) -> list[Candle]:
    source = (d for d in reversed(day_list(m)) if _period_start(d.start, key) < before)
    return _fold_newest_first(source, key, count)
