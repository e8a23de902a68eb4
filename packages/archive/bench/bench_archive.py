"""Archive write throughput, bytes per trade and the candle transform's incremental cost.

    uv run --package cryptoflow-archive python packages/archive/bench/bench_archive.py [--trades N]
        [--base-trades M] [--dsn postgresql://...]

1. Throughput: N trades (300 markets, exact decimals) written by `TradeStore.write` in batches of 5,000
   (COPY into staging, INSERT … ON CONFLICT DO NOTHING, candles rebuilt, commit) as a ratio to a raw
   `COPY` of the same rows straight into the same (emptied) table, in the same run.
2. Bytes per archived trade: table + indexes of lake.trades, divided by its rows.
3. Incremental candle cost: with M trades already archived, the time of one batch of 5,000 new trades
   (write + candles) and of `mart.refresh_candles` alone; it follows the batch, not the table.

Without --dsn a throwaway PostgreSQL is started; everything is deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from cryptoflow_archive.rows import COLUMNS, Row
from cryptoflow_archive.store import OPTIONS, TradeStore
from cryptoflow_batch import db

T0 = 1_764_547_200_000  # 2025-12-01 00:00 UTC
MARKETS = [f"KRW-C{i:03d}" for i in range(300)]
BATCH = 5_000


@contextmanager
def postgres(dsn: str | None) -> Iterator[str]:
    if dsn:
        yield dsn
        return
    from cryptoflow_localstack.postgres_server import PostgresServer  # noqa: PLC0415

    state = Path(tempfile.mkdtemp(prefix="cryptoflow-bench-archive-"))
    state.chmod(0o755)
    server = PostgresServer(state, durable=False)
    server.start()
    try:
        yield server.dsn
    finally:
        server.stop()
        shutil.rmtree(state, ignore_errors=True)


def fresh_database(admin_dsn: str, name: str) -> str:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    dsn = psycopg.conninfo.make_conninfo(admin_dsn, dbname=name)
    db.upgrade(dsn)
    return dsn


def rows(count: int, *, start: int = 0, first_ts: int = T0) -> list[Row]:
    """`count` trades round-robin over the markets, ~10 per market per second, ids unique per market."""
    out: list[Row] = []
    for i in range(start, start + count):
        market = MARKETS[i % len(MARKETS)]
        n = i // len(MARKETS)
        ts = first_ts + n * 100 + i % 97
        price = f"{10_000 + n % 500}.{i % 10}"
        out.append(
            (market, ts, 17_000_000_000_000_000 + i, price, f"0.{i % 99_999_999:08d}", "BID", ts + 20, "ws")
        )
    return out


def raw_copy(dsn: str, data: list[Row]) -> float:
    with psycopg.connect(dsn, options=OPTIONS) as conn:
        conn.execute("SELECT lake.ensure_trade_partitions(%s, %s)", (data[0][1], data[-1][1]))
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY lake.trades ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - started


async def archive(dsn: str, data: list[Row]) -> float:
    store = TradeStore(dsn)
    try:
        started = time.perf_counter()
        for i in range(0, len(data), BATCH):
            await store.write(data[i : i + BATCH])
        return time.perf_counter() - started
    finally:
        await store.close()


def truncate(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE lake.trades, mart.candles_1m, mart.candles_1h")


def size(dsn: str) -> tuple[int, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE lake.trades")
        (count,) = conn.execute("SELECT count(*) FROM lake.trades").fetchone() or (0,)
        (total,) = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) FROM pg_inherits i"
            " WHERE i.inhparent = 'lake.trades'::regclass"
        ).fetchone() or (0,)
        return int(count), int(total)


def fill_base(dsn: str, count: int) -> float:
    """`count` trades generated inside PostgreSQL (fast), spread over the days before T0."""
    started = time.perf_counter()
    span = count // len(MARKETS) * 100
    with psycopg.connect(dsn, autocommit=True, options=OPTIONS) as conn:
        conn.execute("SELECT lake.ensure_trade_partitions(%s, %s)", (T0 - span - 86_400_000, T0))
        conn.execute(
            """INSERT INTO lake.trades
               SELECT 'KRW-C' || lpad((g %% 300)::text, 3, '0'),
                      %(t0)s - %(span)s + (g / 300) * 100 + g %% 97,
                      16000000000000000 + g, 10000 + (g / 300) %% 500, 0.5, 'ASK', 0, 'ws'
               FROM generate_series(0, %(n)s - 1) AS g""",
            {"t0": T0, "span": span, "n": count},
        )
        conn.execute("ANALYZE lake.trades")
    return time.perf_counter() - started


async def incremental(dsn: str, first: int) -> tuple[float, float]:
    """One batch of new trades after the base: (write + candles) seconds, refresh-only seconds."""
    batch = rows(BATCH, start=first, first_ts=T0 + 86_400_000)
    took = await archive(dsn, batch)
    minutes = sorted({(m, ts - ts % 60_000) for m, ts, *_ in batch})
    with psycopg.connect(dsn, options=OPTIONS) as conn:
        started = time.perf_counter()
        conn.execute(
            "SELECT mart.refresh_candles(%s::text[], %s::bigint[])",
            ([m for m, _ in minutes], [t for _, t in minutes]),
        )
        conn.commit()
        return took, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=200_000)
    parser.add_argument("--base-trades", type=int, action="append", help="default 10,000,000")
    parser.add_argument("--dsn", help="an admin DSN of a server to use (a database is created and dropped)")
    args = parser.parse_args()
    with postgres(args.dsn) as admin:
        dsn = fresh_database(admin, "bench_archive")
        try:
            data = rows(args.trades)
            raw = raw_copy(dsn, data)
            truncate(dsn)
            ours = asyncio.run(archive(dsn, data))
            count, total = size(dsn)
            print(
                f"== write throughput, {args.trades:,} trades, {len(MARKETS)} markets, batches of {BATCH:,}"
            )
            print(f"raw COPY into lake.trades     {args.trades / raw:>10,.0f} trades/s")
            print(f"archiver (dedup + candles)    {args.trades / ours:>10,.0f} trades/s"
                  f"  = {raw / ours:.2f} of raw COPY's rate")  # fmt: skip
            print(
                f"bytes per archived trade      {total / count:>10,.1f} (table + primary key, {count:,} rows)"
            )
            redo = asyncio.run(archive(dsn, data[: BATCH * 4]))
            print(f"redelivered batches (all dup) {BATCH * 4 / redo:>10,.0f} trades/s")
            for base in args.base_trades or [10_000_000]:
                truncate(dsn)
                filled = fill_base(dsn, base)
                _, total = size(dsn)
                took, refresh = asyncio.run(incremental(dsn, base))
                print(f"== at {base:,} archived trades ({total / 2**20:,.0f} MiB, filled in {filled:.0f} s)")
                print(f"one batch of {BATCH:,} new trades (write + candles)  {took * 1000:8.1f} ms")
                print(f"mart.refresh_candles for its minutes alone       {refresh * 1000:8.1f} ms")
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS bench_archive")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
