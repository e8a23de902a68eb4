"""Features per market and interval, from columns read from the candle and indicator marts.

Nothing here computes an indicator: moving averages, RSI, MACD, Bollinger %B, ATR and the volume z-score
come from `mart.indicators` / `mart.indicators_1m` (the one indicator engine). What this module adds are
plain transformations of those columns and of the closes: log returns over 1/3/7/14/30 periods, the log
ratio of the close to each moving average, MACD and ATR scaled by the close, the day of week, and the
market's quote currency (the market-level feature that lets one model be pooled across markets).

A row's features use only its own candle and the candles before it (closed candles only); its target is
whether the next period's close is above its close (NaN while that candle has not closed or is missing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DAY_MS = 86_400_000
INTERVAL_MS: dict[str, int] = {"1d": DAY_MS, "1m": 60_000}

# The mart columns a series carries (NULL = NaN). `close` is the candle's trade_price.
INPUT_COLUMNS = (
    "close",
    "ma_5",
    "ma_20",
    "ma_60",
    "rsi_14",
    "macd",
    "macd_signal",
    "bb_percent_b",
    "atr_14",
    "volume_zscore_30d",
)
RETURN_PERIODS = (1, 3, 7, 14, 30)
MA_PERIODS = (5, 20, 60)
QUOTES = ("KRW", "BTC", "USDT")

FEATURES: tuple[str, ...] = (
    *(f"log_return_{k}" for k in RETURN_PERIODS),
    *(f"log_close_over_ma_{n}" for n in MA_PERIODS),
    "rsi_14",
    "macd_over_close",
    "macd_signal_over_close",
    "bb_percent_b",
    "atr_14_over_close",
    "volume_zscore_30d",
    *(f"day_of_week_{d}" for d in range(7)),
    *(f"quote_{q}" for q in QUOTES),
)


def features_sha256(features: Sequence[str] = FEATURES) -> str:
    """The hash of the feature list (and its order), recorded with every model."""
    return hashlib.sha256("\n".join(features).encode()).hexdigest()


def interval_ms(interval: str) -> int:
    try:
        return INTERVAL_MS[interval]
    except KeyError:
        raise ValueError(f"unknown interval {interval!r}; choose from {', '.join(INTERVAL_MS)}") from None


@dataclass(frozen=True)
class MarketSeries:
    """One market's candles on one interval, oldest first: candle start times (ms, UTC) and the mart columns
    of `INPUT_COLUMNS` as floats (NaN where the mart has NULL)."""

    market: str
    interval: str
    start_ms: IntArray
    columns: Mapping[str, FloatArray]


@dataclass(frozen=True)
class FeatureFrame:
    """Rows of features: the market, the feature time (start of the row's candle, ms), the features, and
    the target (1.0 next close up, 0.0 not up, NaN unknown)."""

    market: npt.NDArray[np.str_]
    time_ms: IntArray
    x: FloatArray
    y: FloatArray

    def __len__(self) -> int:
        return len(self.time_ms)

    def select(self, mask: npt.NDArray[np.bool_]) -> FeatureFrame:
        return FeatureFrame(self.market[mask], self.time_ms[mask], self.x[mask], self.y[mask])

    @property
    def labelled(self) -> npt.NDArray[np.bool_]:
        return ~np.isnan(self.y)


def _shift(values: FloatArray, periods: int) -> FloatArray:
    """values[t - periods] at t (NaN before the start)."""
    out = np.full_like(values, np.nan)
    out[periods:] = values[:-periods]
    return out


def market_features(series: MarketSeries, *, closed_before_ms: int | None = None) -> FeatureFrame:
    """The feature rows of one market. Candles that end after `closed_before_ms` (still open) are ignored;
    rows that lack a feature (too little history, a missing candle in a window) are left out."""
    step = interval_ms(series.interval)
    starts = np.asarray(series.start_ms, dtype=np.int64)
    keep = np.ones(len(starts), dtype=bool) if closed_before_ms is None else starts + step <= closed_before_ms
    starts = starts[keep]
    if len(starts) == 0:
        return _empty()
    if np.any(np.diff(starts) <= 0):
        raise ValueError(f"{series.market}: candle times must be strictly increasing")
    if np.any((starts - starts[0]) % step):
        raise ValueError(f"{series.market}: candle times are not on the {series.interval} grid")
    # A regular grid, so that a shift by k rows is a shift by k periods; a missing candle is a NaN row.
    slot = (starts - starts[0]) // step
    size = int(slot[-1]) + 1
    grid: dict[str, FloatArray] = {}
    for name in INPUT_COLUMNS:
        column = np.full(size, np.nan)
        column[slot] = np.asarray(series.columns[name], dtype=np.float64)[keep]
        grid[name] = column
    present = np.zeros(size, dtype=bool)
    present[slot] = True
    times = starts[0] + np.arange(size, dtype=np.int64) * step
    close = grid["close"]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_close = np.log(close)
        parts: list[FloatArray] = [log_close - _shift(log_close, k) for k in RETURN_PERIODS]
        parts += [log_close - np.log(grid[f"ma_{n}"]) for n in MA_PERIODS]
        parts += [
            grid["rsi_14"] / 100.0,
            grid["macd"] / close,
            grid["macd_signal"] / close,
            grid["bb_percent_b"],
            grid["atr_14"] / close,
            grid["volume_zscore_30d"],
        ]
    day_of_week = ((times // DAY_MS) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    parts += [(day_of_week == d).astype(np.float64) for d in range(7)]
    quote = series.market.split("-", 1)[0]
    parts += [np.full(size, 1.0 if quote == q else 0.0) for q in QUOTES]
    x = np.column_stack(parts)
    next_close = np.full(size, np.nan)
    next_close[:-1] = close[1:]
    y = np.where(np.isnan(next_close), np.nan, (next_close > close).astype(np.float64))
    rows = present & np.all(np.isfinite(x), axis=1)
    return FeatureFrame(np.full(int(rows.sum()), series.market), times[rows], x[rows], y[rows])


def _empty() -> FeatureFrame:
    return FeatureFrame(
        np.empty(0, dtype=np.str_), np.empty(0, dtype=np.int64), np.empty((0, len(FEATURES))), np.empty(0)
    )


def pooled_features(series: Sequence[MarketSeries], *, closed_before_ms: int | None = None) -> FeatureFrame:
    """Every market's rows in one frame, ordered by (time, market): one model learns from all markets."""
    frames = [market_features(s, closed_before_ms=closed_before_ms) for s in series]
    frames = [f for f in frames if len(f)]
    if not frames:
        return _empty()
    market = np.concatenate([f.market for f in frames])
    time_ms = np.concatenate([f.time_ms for f in frames])
    order = np.lexsort((market, time_ms))
    return FeatureFrame(
        market[order],
        time_ms[order],
        np.concatenate([f.x for f in frames])[order],
        np.concatenate([f.y for f in frames])[order],
    )
