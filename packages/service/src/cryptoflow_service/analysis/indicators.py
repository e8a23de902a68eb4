"""Pure indicator math on exact decimals: moving-average crosses, RSI, ATR and the trend score.

Inputs are oldest-first sequences. Nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Literal

PLACES = Decimal("1e-10")
"""Stored precision of derived values (MAs, RSI, ATR): far below any tick size."""
HUNDRED = Decimal(100)

CrossKind = Literal["golden_cross", "dead_cross"]


@dataclass(frozen=True, slots=True)
class Cross:
    index: int
    """Index (into the input) of the candle on which the cross happened."""
    kind: CrossKind
    short_ma: Decimal
    long_ma: Decimal


def sma(values: Sequence[Decimal], window: int) -> Decimal | None:
    """Mean of the last `window` values, or None without enough of them."""
    if window < 1 or len(values) < window:
        return None
    return (sum(values[-window:], Decimal(0)) / window).quantize(PLACES)


def crosses(closes: Sequence[Decimal], short: int, long: int) -> list[Cross]:
    """Every candle on which the short MA moved to the other side of the long MA.

    The sides are compared exactly (`short_sum * long` against `long_sum * short`, no division). A candle on
    which the MAs are equal is on neither side: a cross is the first candle on the *other* side than the
    last one seen, so a touch without a crossing is not a cross, and a cross through a tie counts once.
    """
    if not 1 <= short < long:
        raise ValueError(f"need 1 <= short < long, got {short}/{long}")
    found: list[Cross] = []
    last_side = 0
    for index in range(long - 1, len(closes)):
        short_sum = sum(closes[index - short + 1 : index + 1], Decimal(0))
        long_sum = sum(closes[index - long + 1 : index + 1], Decimal(0))
        difference = short_sum * long - long_sum * short
        side = (difference > 0) - (difference < 0)
        if side == 0:
            continue
        if last_side and side != last_side:
            found.append(
                Cross(
                    index=index,
                    kind="golden_cross" if side > 0 else "dead_cross",
                    short_ma=(short_sum / short).quantize(PLACES),
                    long_ma=(long_sum / long).quantize(PLACES),
                )
            )
        last_side = side
    return found


def rsi(closes: Sequence[Decimal], period: int = 14) -> Decimal | None:
    """Wilder's RSI of the last close (0-100), or None with fewer than `period + 1` closes."""
    if len(closes) < period + 1:
        return None
    changes = [current - previous for previous, current in pairwise(closes)]
    gain = sum((max(change, Decimal(0)) for change in changes[:period]), Decimal(0)) / period
    loss = sum((max(-change, Decimal(0)) for change in changes[:period]), Decimal(0)) / period
    for change in changes[period:]:
        gain = (gain * (period - 1) + max(change, Decimal(0))) / period
        loss = (loss * (period - 1) + max(-change, Decimal(0))) / period
    if loss == 0:
        return HUNDRED if gain > 0 else Decimal(50)
    return (HUNDRED - HUNDRED / (1 + gain / loss)).quantize(PLACES)


def atr(
    highs: Sequence[Decimal], lows: Sequence[Decimal], closes: Sequence[Decimal], period: int = 14
) -> Decimal | None:
    """Wilder's average true range of the last candle, or None with fewer than `period + 1` candles."""
    if not len(highs) == len(lows) == len(closes) or len(closes) < period + 1:
        return None
    ranges = [
        max(highs[i] - lows[i], abs(highs[i] - closes[i - 1]), abs(lows[i] - closes[i - 1]))
        for i in range(1, len(closes))
    ]
    value = sum(ranges[:period], Decimal(0)) / period
    for true_range in ranges[period:]:
        value = (value * (period - 1) + true_range) / period
    return value.quantize(PLACES)


def percent_change(old: Decimal, new: Decimal) -> Decimal | None:
    if old == 0:
        return None
    return ((new - old) / old * HUNDRED).quantize(PLACES)


@dataclass(frozen=True, slots=True)
class TrendScore:
    score: Decimal
    trend: Literal["up", "down", "sideways"]
    top_pick: bool


def trend_score(
    *,
    close: Decimal,
    ma_5: Decimal | None,
    ma_20: Decimal | None,
    ma_60: Decimal | None,
    rsi_14: Decimal | None,
    change_percent_20d: Decimal | None,
) -> TrendScore:
    """A 0-100 score of how cleanly a market trends up:

    - alignment, 40: 10 each for close > MA5, MA5 > MA20, MA20 > MA60, close > MA60;
    - RSI, 30: full at 60, falling linearly to 0 at 20 and at 100 (strong but not overbought);
    - momentum, 30: 1.5 points per % gained over 20 days, capped at 30.

    `up` = close > MA20 > MA60 (MA5 > MA20 while MA60 is missing), `down` the mirror, else `sideways`.
    A top pick trends up with a score of at least 70 and an RSI under 80.
    """
    pairs = [(close, ma_5), (ma_5, ma_20), (ma_20, ma_60), (close, ma_60)]
    alignment = sum(10 for high, low in pairs if high is not None and low is not None and high > low)
    rsi_points = Decimal(0)
    if rsi_14 is not None:
        rsi_points = max(Decimal(0), 30 * (1 - abs(rsi_14 - 60) / 40))
    momentum = Decimal(0)
    if change_percent_20d is not None:
        momentum = min(Decimal(30), max(Decimal(0), change_percent_20d * Decimal("1.5")))
    score = (alignment + rsi_points + momentum).quantize(Decimal("0.01"))

    trend: Literal["up", "down", "sideways"] = "sideways"
    if ma_20 is not None and ma_60 is not None:
        if close > ma_20 > ma_60:
            trend = "up"
        elif close < ma_20 < ma_60:
            trend = "down"
    elif ma_5 is not None and ma_20 is not None:
        trend = "up" if ma_5 > ma_20 else "down" if ma_5 < ma_20 else "sideways"
    top_pick = trend == "up" and score >= 70 and rsi_14 is not None and rsi_14 < 80
    return TrendScore(score=score, trend=trend, top_pick=top_pick)
