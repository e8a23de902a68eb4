"""Benchmark of the cold path (not a test: it prints figures).

1. EL wall time per run for every market against upbit-sim (~700 markets, Upbit's 10 req/s limit on):
   the ticker EL (``/v1/ticker/all`` + listing) and, for contrast, the rate-limit bound of a per-market
   endpoint (one daily-candle request per market).
2. Transform time of ``market_stats_24h``, ``candles_1d`` and ``indicators`` at growing lake sizes: a full
   build from scratch, then three incremental runs, each over one new interval/day (median printed).
   Incremental cost should follow the new rows (flat across sizes); the full build follows the table.

    uv run --package cryptoflow-batch python packages/batch/bench/bench_batch.py [--sizes 1000000,3000000]
        [--markets 700] [--skip-el] [--skip-tickers] [--dsn postgresql://...]  # no --dsn: throwaway PG

Synthetic lake rows are generated inside PostgreSQL (generate_series), with the same payload shape as
Upbit's; the EL part uses the real simulator.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from cryptoflow_batch import db
from cryptoflow_batch.el import candles_el, ticker_el
from cryptoflow_batch.lake import RunInterval
from cryptoflow_batch.settings import BatchSettings
from cryptoflow_batch.transforms import (
    CANDLES_1D,
    INDICATORS,
    MARKET_STATS_24H,
    TransformResult,
    run_transform,
)

UTC = dt.UTC
BASE = dt.datetime(2025, 1, 1, tzinfo=UTC)


@contextmanager
def postgres(dsn: str | None) -> Iterator[str]:
    if dsn:
        yield dsn
        return
    from cryptoflow_localstack.postgres_server import PostgresServer  # noqa: PLC0415

    state = Path(tempfile.mkdtemp(prefix="cryptoflow-bench-pg-"))
    state.chmod(0o755)
    server = PostgresServer(state, durable=False)
    server.start()
    try:
        yield server.dsn
    finally:
        server.stop()
        shutil.rmtree(state, ignore_errors=True)  # the lake grows to gigabytes


def fresh_database(admin_dsn: str, name: str) -> str:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    dsn = psycopg.conninfo.make_conninfo(admin_dsn, dbname=name)
    db.upgrade(dsn)
    return dsn


def bench_el(admin_dsn: str, markets: int, runs: int) -> None:
    from upbit_sim.testing import start_sim_process  # noqa: PLC0415

    print(f"\n== EL against upbit-sim: {markets} markets, Upbit's limit of 10 requests/s per group")
    sim = start_sim_process(
        "--markets", str(markets), "--rate", "2000", "--history-days", "30", "--history-minutes", "2",
        "--log-interval", "0", "--rest-rate-limit", "10", "--no-origin-rate-limit",
    )  # fmt: skip
    try:
        dsn = fresh_database(admin_dsn, "bench_el")
        settings = BatchSettings(dsn=dsn, upbit_rest_url=sim.rest_url)
        deadline = time.monotonic() + 120
        while len(sim_listing(sim.rest_url)) < markets and time.monotonic() < deadline:
            time.sleep(0.5)
        listed = len(sim_listing(sim.rest_url))
        print(f"markets listed by the simulator: {listed}")
        times = []
        for i in range(runs):
            end = BASE + dt.timedelta(minutes=10 * (i + 1))
            result = asyncio.run(
                ticker_el(settings, RunInterval(end - dt.timedelta(minutes=10), end, f"b{i}"))
            )
            times.append(result.seconds)
            print(
                f"ticker EL run {i + 1}: {result.seconds:.2f} s wall, {result.requests} requests, "
                f"{result.ticker_rows} ticker rows, {result.market_rows} listing rows"
            )
        print(f"ticker EL median: {statistics.median(times):.2f} s for {listed} markets (target < 5 s)")
        day = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        from cryptoflow_upbit_client import CandleUnit  # noqa: PLC0415

        interval = RunInterval(day - dt.timedelta(days=1), day, "days")
        result_c = asyncio.run(candles_el(settings, interval, CandleUnit("days")))
        print(
            f"daily-candle EL (one request per market): {result_c.seconds:.1f} s wall, {result_c.requests} "
            f"requests, {result_c.stored} candles -> bound by 10 req/s, not by the code"
        )
    finally:
        sim.stop()


def sim_listing(rest_url: str) -> list[object]:
    import httpx  # noqa: PLC0415

    response = httpx.get(f"{rest_url}/v1/market/all", timeout=10)
    return list(response.json()) if response.status_code == 200 else []


SQL = Path(__file__).with_name("sql")
TICKER_ROWS_SQL = (SQL / "ticker_rows.sql").read_text()
CANDLE_ROWS_SQL = (SQL / "candle_rows.sql").read_text()
# Incremental runs per lake size (each over one new interval / day); the median is reported, since the
# machine is shared and a single run can be hit by autovacuum or another process.
INCREMENTAL_RUNS = 3


def grow(
    conn: psycopg.Connection, *, sql: str, table: str, start: int, count: int, markets: int, step: str
) -> None:
    """Append `count` intervals (of `markets` rows each) in monthly-ish chunks, creating partitions first."""
    unit = dt.timedelta(minutes=10) if step == "10m" else dt.timedelta(days=1)
    conn.execute(
        "SELECT lake.ensure_month_partitions(%s::regclass, %s, %s)",
        (table, BASE + start * unit, BASE + (start + count) * unit),
    )
    chunk = max(1, 200_000 // markets)
    for first in range(start, start + count, chunk):
        last = min(start + count, first + chunk) - 1
        conn.execute(sql, {"first": first, "last": last, "base": BASE, "markets": markets})
        conn.commit()


def grow_lake(
    conn: psycopg.Connection,
    *,
    intervals: tuple[int, int],
    days: tuple[int, int],
    markets: int,
    tickers: bool = True,
) -> None:
    """Append (start, count) candle days and, with `tickers`, (start, count) 10-minute ticker intervals."""
    for sql, table, (start, count), step in (
        *([(TICKER_ROWS_SQL, "lake.ticker", intervals, "10m")] if tickers else []),
        (CANDLE_ROWS_SQL, "lake.candles", days, "1d"),
    ):
        grow(conn, sql=sql, table=table, start=start, count=count, markets=markets, step=step)


def timed(label: str, fn: Callable[[], TransformResult]) -> float:
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:8.3f} s  ({result.rows} mart rows changed)")
    return seconds


def bench_transforms(admin_dsn: str, sizes: list[int], markets: int, *, tickers: bool = True) -> None:
    print(f"\n== transforms ({markets} markets); lake sizes {', '.join(f'{s:,}' for s in sizes)} rows")
    # Without tickers only lake.candles grows: the daily candle and indicator figures in half the time.
    stats = [("market_stats_24h", MARKET_STATS_24H)] if tickers else []
    dsn = fresh_database(admin_dsn, "bench_transforms")
    ticker_intervals = candle_days = 0
    with db.connect(dsn) as conn:
        for size in sizes:
            t_target, c_target = size // markets, size // markets
            ticker_rows = f"lake.ticker {t_target * markets:,} rows, " if tickers else ""
            print(f"\n-- {ticker_rows}lake.candles {c_target * markets:,} rows")
            started = time.perf_counter()
            new_intervals, new_days = t_target - ticker_intervals, c_target - candle_days
            grow_lake(
                conn,
                intervals=(ticker_intervals, new_intervals),
                days=(candle_days, new_days),
                markets=markets,
                tickers=tickers,
            )
            ticker_intervals, candle_days = t_target, c_target
            conn.execute("ANALYZE")
            print(f"  (generated in {time.perf_counter() - started:.0f} s)")
            # Build the marts over everything new (first size: from scratch; later: the growth).
            for name, transform in (*stats, ("candles_1d", CANDLES_1D), ("indicators", INDICATORS)):
                timed(f"{name} over all new rows", functools.partial(run_transform, conn, transform))
            # One more 10-minute interval / one more day, INCREMENTAL_RUNS times: the incremental cost.
            incremental: dict[str, list[float]] = {}
            for _ in range(INCREMENTAL_RUNS):
                grow_lake(
                    conn,
                    intervals=(ticker_intervals, 1),
                    days=(candle_days, 1),
                    markets=markets,
                    tickers=tickers,
                )
                ticker_intervals += 1
                candle_days += 1
                for label, transform in (
                    *((f"{name} incremental ({markets} new rows)", t) for name, t in stats),
                    (f"candles_1d incremental ({markets} new rows)", CANDLES_1D),
                    (f"indicators incremental ({markets} new days)", INDICATORS),
                ):
                    incremental.setdefault(label, []).append(
                        timed(label, functools.partial(run_transform, conn, transform))
                    )
            for label, seconds in incremental.items():
                print(f"  {label}: median {statistics.median(seconds):.3f} s of {len(seconds)} runs")
            if tickers:
                timed("market_stats_24h with nothing new", lambda: run_transform(conn, MARKET_STATS_24H))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="admin DSN of a PostgreSQL to use (default: start a throwaway one)")
    parser.add_argument("--markets", type=int, default=700)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="1000000,3000000", help="lake rows per table, comma-separated")
    parser.add_argument("--skip-el", action="store_true")
    parser.add_argument("--skip-transforms", action="store_true")
    parser.add_argument(
        "--skip-tickers", action="store_true", help="grow lake.candles only (daily candles and indicators)"
    )
    args = parser.parse_args()
    with postgres(args.dsn) as admin_dsn:
        if not args.skip_el:
            bench_el(admin_dsn, args.markets, args.runs)
        if not args.skip_transforms:
            sizes = [int(s) for s in args.sizes.split(",")]
            bench_transforms(admin_dsn, sizes, args.markets, tickers=not args.skip_tickers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
