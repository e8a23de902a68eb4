"""Synthetic market series for tests and the benchmark: a pure random walk, or returns with a planted
autocorrelation. The indicator columns are independent noise (the ML package never computes an indicator;
the pattern to find, when there is one, is in the closes)."""

from __future__ import annotations

import numpy as np

from cryptoflow_ml.features import INPUT_COLUMNS, INTERVAL_MS, MarketSeries

START_MS = 1_735_689_600_000  # 2025-01-01T00:00Z


def series(
    market: str, *, periods: int, autocorrelation: float = 0.0, interval: str = "1d", seed: int = 0
) -> MarketSeries:
    """Log returns r_t = a * r_{t-1} + e_t (a = `autocorrelation`; 0 is a random walk)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 0.02, periods)
    returns = np.empty(periods)
    previous = 0.0
    for t in range(periods):
        previous = autocorrelation * previous + noise[t]
        returns[t] = previous
    close = 1000.0 * np.exp(np.cumsum(returns))
    columns = {name: close * (1 + rng.normal(0, 0.01, periods)) for name in INPUT_COLUMNS}
    columns["close"] = close
    columns["rsi_14"] = rng.uniform(20, 80, periods)
    columns["bb_percent_b"] = rng.uniform(-0.2, 1.2, periods)
    columns["macd"] = close * rng.normal(0, 0.01, periods)
    columns["macd_signal"] = close * rng.normal(0, 0.01, periods)
    columns["atr_14"] = close * rng.uniform(0.01, 0.05, periods)
    columns["volume_zscore_30d"] = rng.normal(0, 1, periods)
    starts = START_MS + np.arange(periods, dtype=np.int64) * INTERVAL_MS[interval]
    return MarketSeries(market, interval, starts, columns)


def markets(
    count: int, *, periods: int, autocorrelation: float = 0.0, interval: str = "1d", seed: int = 0
) -> list[MarketSeries]:
    quotes = ("KRW", "BTC", "USDT")
    return [
        series(
            f"{quotes[i % 3]}-C{i:03d}",
            periods=periods,
            autocorrelation=autocorrelation,
            interval=interval,
            seed=seed * 1000 + i,
        )
        for i in range(count)
    ]
