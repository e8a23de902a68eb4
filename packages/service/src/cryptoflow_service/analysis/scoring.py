"""The trend score: pure logic on exact decimals over the indicators the batch engine computed (the
service computes no indicator of its own). Nothing here touches a database."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

PLACES = Decimal("1e-10")
"""Stored precision of the service's derived values (percent changes, ratios): far below any tick size."""
HUNDRED = Decimal(100)


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
