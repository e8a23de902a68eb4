"""mart.indicators and mart.indicators_1m equal TA-Lib (the reference every chart platform agrees with),
computed over the simulator's generated history for markets of every quote (tiny and huge prices), after
a first build and after incremental runs with new candles, a corrected old candle and gaps.

TA-Lib works in float64, the marts in exact numeric: every value must agree within 1e-9 relative.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import psycopg
import pytest
import talib
from psycopg import sql

from cryptoflow_batch.db import connect
from cryptoflow_batch.sql import load_sql
from cryptoflow_batch.transforms import CANDLES_1D, INDICATORS, INDICATORS_1M, run_transform
from upbit_sim.catalog import build_catalog
from upbit_sim.history import build_past, coarse_minutes
from upbit_sim.market import Candle, MarketState
from upbit_sim.numfmt import Clock

UTC = dt.UTC
SEED = 11
# KRW-BTC ~1e8 KRW, BTC-DOGE ~2e-6 BTC: the largest and smallest prices of the catalog, every quote.
MARKETS = ("KRW-BTC", "KRW-ETH", "KRW-PEPE", "BTC-ETH", "BTC-XRP", "BTC-DOGE", "USDT-BTC", "USDT-XRP")
MINUTE_MARKETS = ("KRW-BTC", "BTC-DOGE", "USDT-XRP")
HISTORY_DAYS = 400
FINE_START = int(dt.datetime(2026, 11, 1, 0, 5, tzinfo=UTC).timestamp() * 1000)
DAY_MS = 86_400_000
TOLERANCE = 1e-9
# A value that is a small difference of large ones (MACD of a flat stretch, %B near a band, a z-score
# near 0) is where float64 loses digits: TA-Lib's own error there is relative to the operands, so the
# error of those columns is measured against max(|value|, scale): the close for the MACD family, 1 for
# the ratios. Every other column: plain relative error.
PRICE_SCALED = {"macd", "macd_signal", "macd_hist"}
UNIT_SCALED = {"bb_percent_b", "volume_zscore_30d"}
COLUMNS = (
    "close", "ma_5", "ma_20", "ma_60", "ma_120", "ema_12", "ema_26", "macd", "macd_signal", "macd_hist",
    "rsi_14", "atr_14", "bb_middle", "bb_upper", "bb_lower", "bb_percent_b", "avg_volume_30d",
    "volume_zscore_30d", "golden_cross", "dead_cross",
)  # fmt: skip


def _history() -> dict[str, list[Candle]]:
    """The simulator's day candles of each market (its history generator, as upbit-sim serves them)."""
    infos = {info.code: info for info in build_catalog(40, SEED)}
    out = {}
    for i, code in enumerate(MARKETS):
        state = MarketState(infos[code], i, Clock())
        build_past(state, SEED, FINE_START, HISTORY_DAYS)
        out[code] = state.days
        if code in MINUTE_MARKETS:
            out[f"{code}/minutes"] = [m for day in state.days[-2:] for m in _minutes(state, day)]
    return out


def _minutes(state: MarketState, day: Candle) -> list[Candle]:
    return coarse_minutes(state, SEED, day, day.start + DAY_MS)


HISTORY = _history()


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, UTC)


def _payload(market: str, c: Candle) -> dict[str, Any]:
    return {
        "market": market,
        "candle_date_time_utc": _utc(c.start).strftime("%Y-%m-%dT%H:%M:%S"),
        "opening_price": c.open,
        "high_price": c.high,
        "low_price": c.low,
        "trade_price": c.close,
        "timestamp": c.last,
        "candle_acc_trade_price": c.val,
        "candle_acc_trade_volume": c.vol,
    }


def _json(candle: dict[str, Any]) -> str:
    # Decimals as JSON numbers (exact), strings quoted: the shape of Upbit's response.
    fields = (f'"{k}": "{v}"' if isinstance(v, str) else f'"{k}": {v}' for k, v in candle.items())
    return "{" + ", ".join(fields) + "}"


def _load_days(conn: psycopg.Connection, market: str, candles: Sequence[Candle]) -> None:
    """Day candles through the loader's SQL into the lake (a changed one gets a new ingest_seq)."""
    lo, hi = _utc(candles[0].start), _utc(candles[-1].start + DAY_MS)
    conn.execute("SELECT lake.ensure_month_partitions('lake.candles'::regclass, %s, %s)", (lo, hi))
    conn.execute(
        load_sql("lake/insert_candles"),
        {
            "endpoint": "candles/days",
            "market": market,
            "interval_start": lo,
            "interval_end": hi,
            "run_id": "test",
            "request": "/v1/candles/days",
            "collected_at": hi + dt.timedelta(minutes=1),
            "body": "[" + ",".join(_json(_payload(market, c)) for c in candles) + "]",
            "since": lo,
            "until": hi,
        },
    )
    conn.commit()


def _plant_minutes(conn: psycopg.Connection, market: str, candles: Sequence[Candle]) -> None:
    """Minute candles written straight into mart.candles_1m (as any writer of that table does)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO mart.candles_1m AS m (market, candle_start, opening_price, high_price, low_price,"
            " trade_price, volume, value, last_trade_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, now())"
            " ON CONFLICT (market, candle_start) DO UPDATE SET opening_price = EXCLUDED.opening_price,"
            " high_price = EXCLUDED.high_price, low_price = EXCLUDED.low_price,"
            " trade_price = EXCLUDED.trade_price, volume = EXCLUDED.volume, value = EXCLUDED.value,"
            " updated_at = now()",
            [
                (market, _utc(c.start), c.open, c.high, c.low, c.close, c.vol, c.val, _utc(c.last))
                for c in candles
            ],
        )
    conn.commit()


def _reference(candles: Sequence[Candle]) -> dict[str, list[Any]]:
    """Every indicator by TA-Lib over the candles (float64), NaN -> None, in the mart's column names."""
    close = np.array([float(c.close) for c in candles])
    high = np.array([float(c.high) for c in candles])
    low = np.array([float(c.low) for c in candles])
    volume = np.array([float(c.vol) for c in candles])
    macd, signal, hist = talib.MACD(close, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(close, 20, 2.0, 2.0, talib.MA_Type.SMA)
    ma5, ma20 = talib.SMA(close, 5), talib.SMA(close, 20)
    avg_volume, sd_volume = talib.SMA(volume, 30), talib.STDDEV(volume, 30, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        percent_b = np.where(upper > lower, (close - lower) / (upper - lower), np.nan)
        zscore = np.where(sd_volume > 0, (volume - avg_volume) / sd_volume, np.nan)
    series = {
        "close": close, "ma_5": ma5, "ma_20": ma20, "ma_60": talib.SMA(close, 60),
        "ma_120": talib.SMA(close, 120), "ema_12": talib.EMA(close, 12), "ema_26": talib.EMA(close, 26),
        "macd": macd, "macd_signal": signal, "macd_hist": hist, "rsi_14": talib.RSI(close, 14),
        "atr_14": talib.ATR(high, low, close, 14), "bb_middle": middle, "bb_upper": upper,
        "bb_lower": lower, "bb_percent_b": percent_b, "avg_volume_30d": avg_volume,
        "volume_zscore_30d": zscore,
    }  # fmt: skip
    out: dict[str, list[Any]] = {
        k: [None if math.isnan(x) else float(x) for x in v] for k, v in series.items()
    }
    out["golden_cross"], out["dead_cross"] = _crosses([c.close for c in candles])
    return out


def _crosses(closes: Sequence[Decimal]) -> tuple[list[bool], list[bool]]:
    """Golden / dead cross flags from exact means (TA-Lib has no cross function, and a float comparison
    of two equal means is a coin toss: tick-sized prices make equal means common)."""

    def sma(n: int) -> list[Fraction | None]:
        return [
            sum(map(Fraction, closes[i - n + 1 : i + 1])) / n if i >= n - 1 else None
            for i in range(len(closes))
        ]

    ma5, ma20 = sma(5), sma(20)
    golden, dead = [False], [False]
    for i in range(1, len(closes)):
        a, b, pa, pb = ma5[i], ma20[i], ma5[i - 1], ma20[i - 1]
        known = None not in (a, b, pa, pb)
        golden.append(known and a > b and pa <= pb)  # type: ignore[operator]
        dead.append(known and a < b and pa >= pb)  # type: ignore[operator]
    return golden, dead


@dataclass
class Tally:
    """What the comparisons covered (printed for the record)."""

    markets: set[str] = field(default_factory=set)
    rows: int = 0
    values: int = 0
    max_error: float = 0.0
    max_relative: float = 0.0
    worst: str = ""

    def report(self, what: str) -> str:
        return (
            f"TA-Lib comparison, {what}: {len(self.markets)} markets x {self.rows} candle rows"
            f" x {len(COLUMNS)} indicators = {self.values} non-NULL values checked,"
            f" max error {self.max_error:.3g} ({self.worst});"
            f" max plain relative error {self.max_relative:.3g}"
        )


def _compare(
    conn: psycopg.Connection, table: str, key: str, market: str, candles: Sequence[Candle], *, tally: Tally
) -> None:
    """The mart's rows of `market` equal TA-Lib over `candles` (the market's candles, oldest first)."""
    query = sql.SQL("SELECT {key}, {columns} FROM {table} WHERE market = %s ORDER BY {key}").format(
        key=sql.Identifier(key),
        columns=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
        table=sql.Identifier("mart", table),
    )
    rows = conn.execute(query, (market,)).fetchall()
    assert len(rows) == len(candles), (market, len(rows), len(candles))
    want = _reference(candles)
    for i, row in enumerate(rows):
        for name, have in zip(COLUMNS, row[1:], strict=True):
            expected = want[name][i]
            where = f"{table} {market} {row[0]} {name}"
            if isinstance(expected, bool):
                assert have is expected, (where, have, expected)
                continue
            if expected is None:
                assert have is None, (where, have)
                continue
            assert isinstance(have, Decimal), (where, have, expected)
            difference = abs(float(have) - expected)
            relative = difference / max(abs(expected), 1e-300)
            scale = float(candles[i].close) if name in PRICE_SCALED else 1.0 if name in UNIT_SCALED else 0.0
            error = difference / max(abs(expected), scale, 1e-300)
            tally.max_relative = max(tally.max_relative, relative)
            if error > tally.max_error:
                tally.max_error, tally.worst = error, f"{where}: {have} vs {expected!r}"
            assert error <= TOLERANCE, (where, have, expected, error)
            tally.values += 1
    tally.markets.add(market)
    tally.rows += len(rows)


@pytest.fixture
def conn(batch_dsn: str) -> Iterator[psycopg.Connection]:
    with connect(batch_dsn) as conn:
        yield conn


def _daily_run(conn: psycopg.Connection) -> None:
    run_transform(conn, CANDLES_1D)
    run_transform(conn, INDICATORS)


def _corrected(c: Candle, factor: str) -> Candle:
    fixed = Candle(c.start, c.open)
    fixed.close = c.close * Decimal(factor)
    fixed.high, fixed.low = max(c.high, fixed.close), min(c.low, fixed.close)
    fixed.vol, fixed.val, fixed.last = c.vol + 1, c.val, c.last
    return fixed


def test_daily_indicators_equal_talib_through_incremental_runs(
    conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    gap, late_gap = set(range(150, 153)), set(range(330, 334))
    days = {code: dict(enumerate(HISTORY[code])) for code in MARKETS}
    loaded: dict[str, dict[int, Candle]] = {code: {} for code in MARKETS}

    def load(code: str, indices: Sequence[int], source: dict[int, Candle] | None = None) -> None:
        candles = [(source or days[code])[i] for i in indices]
        for i, c in zip(indices, candles, strict=True):
            loaded[code][i] = c
        _load_days(conn, code, candles)

    def check(what: str) -> Tally:
        tally = Tally()
        for code in MARKETS:
            _compare(
                conn, "indicators", "day", code, [loaded[code][i] for i in sorted(loaded[code])], tally=tally
            )
        with capsys.disabled():
            print(f"\n{tally.report(what)}")
        return tally

    # A first build over 300 days with a gap of three missing days.
    for code in MARKETS:
        load(code, [i for i in range(300) if i not in gap])
    _daily_run(conn)
    check("first build, 300 days with a gap")

    # New days, one run per day, then ten at once.
    for day in range(300, 303):
        for code in MARKETS:
            load(code, [day])
        _daily_run(conn)
    for code in MARKETS:
        load(code, list(range(303, 313)))
    _daily_run(conn)
    check("after new days")

    # A corrected old candle (close, high, low, volume) in two markets, and one inside the MACD's seed.
    stamps = "SELECT market, day, updated_at FROM mart.indicators"
    before = {(m, d): t for m, d, t in conn.execute(stamps).fetchall()}
    corrections = {"KRW-BTC": (100, "1.07"), "BTC-DOGE": (200, "0.93"), "USDT-XRP": (30, "1.2")}
    for code, (index, factor) in corrections.items():
        load(code, [index], {index: _corrected(days[code][index], factor)})
    _daily_run(conn)
    check("after corrected old candles")
    # updated_at moved exactly on the rows from each corrected candle to the end of its market.
    moved = {key for key, at in ((k[:2], k[2]) for k in conn.execute(stamps).fetchall()) if at != before[key]}
    expected = {
        (code, _utc(days[code][i].start).date())
        for code, (index, _) in corrections.items()
        for i in loaded[code]
        if i >= index
    }
    assert moved == expected

    # More days with a second gap; the first gap stays (TA-Lib sees the candles that exist).
    for code in MARKETS:
        load(code, [i for i in range(313, HISTORY_DAYS) if i not in late_gap])
    _daily_run(conn)
    final = check("after a second gap and the rest of the history")
    assert final.rows == len(MARKETS) * (HISTORY_DAYS - len(gap) - len(late_gap))
    # A run with nothing new changes nothing (updated_at included).
    assert run_transform(conn, INDICATORS).rows == 0


def test_minute_indicators_equal_talib(conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    minutes = {code: HISTORY[f"{code}/minutes"] for code in MINUTE_MARKETS}
    for code, candles in minutes.items():
        _plant_minutes(conn, code, candles[:600])
    assert run_transform(conn, INDICATORS_1M).rows == 600 * len(MINUTE_MARKETS)
    # More minutes and a corrected old one, as a trade-built candle mart would write them.
    for code, candles in minutes.items():
        fixed = _corrected(candles[200], "1.01")
        _plant_minutes(conn, code, [fixed, *candles[600:900]])
        candles[200] = fixed
    assert run_transform(conn, INDICATORS_1M).rows > 0
    tally = Tally()
    for code, candles in minutes.items():
        _compare(conn, "indicators_1m", "candle_start", code, candles[:900], tally=tally)
    with capsys.disabled():
        print(f"\n{tally.report('1-minute')}")
    assert run_transform(conn, INDICATORS_1M).rows == 0
