"""The incremental indicators transform gives exactly what a full build gives, whatever changed: a new
day, a corrected old candle, a filled gap, scattered changes, a market shorter than the longest window.

(The values themselves are checked against TA-Lib in test_indicators_talib.py.)
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from cryptoflow_batch.db import connect
from cryptoflow_batch.quality import find_problems
from cryptoflow_batch.sql import load_sql
from cryptoflow_batch.transforms import CANDLES_1D, INDICATORS, run_transform, watermark

UTC = dt.UTC
BASE = dt.datetime(2025, 1, 1, tzinfo=UTC)
DAY = dt.timedelta(days=1)
LONG, SHORT = "KRW-LONG", "KRW-SHORT"


def _candle(market: str, day: int, close: Decimal, rng: random.Random) -> dict[str, Any]:
    start = BASE + day * DAY
    opening = close + Decimal(rng.randint(-300, 300)) / 100
    return {
        "market": market,
        "candle_date_time_utc": start.strftime("%Y-%m-%dT%H:%M:%S"),
        "opening_price": opening,
        "high_price": max(opening, close) + Decimal(rng.randint(0, 200)) / 100,
        "low_price": min(opening, close) - Decimal(rng.randint(0, 200)) / 100,
        "trade_price": close,
        "timestamp": int((start + DAY).timestamp() * 1000) - 1,
        "candle_acc_trade_price": Decimal(rng.randint(10**6, 10**7)) / 1000,
        "candle_acc_trade_volume": Decimal(rng.randint(10**3, 10**6)) / 10**4,
    }


def _series(market: str, days: range, seed: int) -> dict[int, dict[str, Any]]:
    """A random walk of daily candles, with flat stretches (moves of zero) now and then."""
    rng = random.Random(seed)
    close, candles = Decimal(1000), {}
    for day in days:
        close = max(Decimal(1), close + Decimal(rng.choice([0, 0, *range(-500, 501, 7)])) / 100)
        candles[day] = _candle(market, day, close, rng)
    return candles


def _json(candle: dict[str, Any]) -> str:
    # Decimals as JSON numbers (exact), strings quoted: the shape of Upbit's response.
    fields = (f'"{k}": "{v}"' if isinstance(v, str) else f'"{k}": {v}' for k, v in candle.items())
    return "{" + ", ".join(fields) + "}"


def _load(conn: psycopg.Connection, candles: list[dict[str, Any]]) -> None:
    """Candles through the loader's SQL (a changed candle replaces the stored one with a new ingest_seq)."""
    for candle in candles:
        start = dt.datetime.fromisoformat(candle["candle_date_time_utc"]).replace(tzinfo=UTC)
        conn.execute("SELECT lake.ensure_month_partitions('lake.candles'::regclass, %s, %s)", (start, start))
        conn.execute(
            load_sql("lake/insert_candles"),
            {
                "endpoint": "candles/days",
                "market": candle["market"],
                "interval_start": start,
                "interval_end": start + DAY,
                "run_id": "test",
                "request": "/v1/candles/days",
                "collected_at": start + DAY + dt.timedelta(minutes=1),
                "body": f"[{_json(candle)}]",
                "since": start,
                "until": start + DAY,
            },
        )
    conn.commit()


def _indicators(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    """Every column but updated_at (a full build writes its rows at another time)."""
    columns = conn.execute(
        "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute"
        " WHERE attrelid = 'mart.indicators'::regclass AND attnum > 0 AND NOT attisdropped"
        " AND attname <> 'updated_at'"
    ).fetchone()
    assert columns is not None
    # The column list is the catalogue's own (every column but updated_at), not input.
    return conn.execute(f"SELECT {columns[0]} FROM mart.indicators ORDER BY market, day").fetchall()  # noqa: S608


def _full_build(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    """mart.indicators built from scratch over every candle (rolled back afterwards)."""
    with conn.transaction(force_rollback=True):
        conn.execute("TRUNCATE mart.indicators")
        conn.execute(INDICATORS.statement(), {"lo": 0, "hi": watermark(conn, CANDLES_1D.name)})
        return _indicators(conn)


def _step(conn: psycopg.Connection, candles: list[dict[str, Any]]) -> int:
    """Load candles, run both transforms incrementally, check against a full build; rows changed."""
    _load(conn, candles)
    run_transform(conn, CANDLES_1D)
    result = run_transform(conn, INDICATORS)
    incremental = _indicators(conn)
    assert incremental == _full_build(conn)
    return result.rows


@pytest.fixture
def conn(batch_dsn: str) -> Any:
    with connect(batch_dsn) as conn:
        yield conn


def test_incremental_indicators_equal_a_full_build(conn: psycopg.Connection) -> None:
    long = _series(LONG, range(0, 260), seed=7)
    short = _series(SHORT, range(0, 40), seed=8)
    gap = range(150, 153)
    first = [c for day, c in long.items() if day < 200 and day not in gap]
    first += [c for day, c in short.items() if day < 30]
    assert _step(conn, first) == len(first)
    ((n, with_ma60, crosses),) = conn.execute(
        "SELECT count(*), count(ma_60), count(*) FILTER (WHERE golden_cross OR dead_cross)"
        " FROM mart.indicators"
    ).fetchall()
    assert (n, with_ma60) == (len(first), 197 - 59)  # KRW-LONG from its 60th candle; KRW-SHORT never
    assert crosses > 0

    # The next day of each market: one new row each.
    assert _step(conn, [long[200], short[30]]) == 2

    # A corrected old candle changes its own row and every row after it (the smoothed indicators carry
    # it forward), nothing before.
    rng = random.Random(1)
    before = {row[1]: row for row in _indicators(conn) if row[0] == LONG}
    _step(conn, [_candle(LONG, 100, long[100]["trade_price"] + Decimal("12.34"), rng)])
    after = {row[1]: row for row in _indicators(conn) if row[0] == LONG}
    changed = sorted(day for day in after if after[day] != before[day])
    rows_from_day_100 = [d for d in range(100, 201) if d not in gap]  # the gap lies in between
    assert changed == [(BASE + d * DAY).date() for d in rows_from_day_100]

    # A filled gap shifts every later window by a row.
    assert _step(conn, [long[day] for day in gap]) >= len(gap)

    # Scattered changes in one run, in both markets, plus new days.
    rng = random.Random(2)
    scattered = [
        _candle(LONG, day, long[day]["trade_price"] * Decimal("1.01"), rng) for day in (3, 70, 199)
    ] + [_candle(SHORT, 5, Decimal("999.99"), rng), *(long[day] for day in range(201, 260))]
    assert _step(conn, scattered) > 0


def test_range_check_covers_the_rows_the_run_rewrote(conn: psycopg.Connection) -> None:
    long = _series(LONG, range(0, 200), seed=9)
    _step(conn, list(long.values()))
    _load(conn, [_candle(LONG, 100, long[100]["trade_price"] + 1, random.Random(3))])
    run_transform(conn, CANDLES_1D)
    run = run_transform(conn, INDICATORS)
    days = {d: (BASE + d * DAY).date() for d in (99, 100, 159, 199)}
    conn.execute(
        "UPDATE mart.indicators SET rsi_14 = 101 WHERE market = %s AND day = ANY(%s)",
        (LONG, list(days.values())),
    )
    problems = find_problems(conn, "indicators_ranges", {"lo": run.lo, "hi": run.hi}).problems
    # Rewritten by the run: day 100 and every row after it; the rows before were not.
    assert problems == [f"mart.indicators {LONG} {days[d]}: rsi_14 is 101" for d in (100, 159, 199)]
