"""Incremental transforms: SQL inside PostgreSQL from the lake into the marts.

Each transform folds the lake rows it has not seen yet, ``ingest_seq`` in ``(last, hi]``, into its mart
and then moves its watermark (``cryptoflow_meta.watermarks``) to ``hi`` in the same transaction. Work
follows the new rows, not the size of the table.

Choosing ``hi`` safely: sequence values are handed out before their transaction commits, so a row with
a smaller ``ingest_seq`` could become visible after a larger one. Loaders therefore hold a *shared*
advisory lock per lake table for their (short) insert transaction, and a transform reads the
sequence's last value while holding the *exclusive* lock: at that moment no load is in flight, so every
value up to ``hi`` belongs to a committed (or rolled back) load.

A transform over a mart (``MartTable``: ``mart.indicators_1m`` from ``mart.candles_1m``, whoever fills
it) is driven by the rows' ``updated_at`` instead: its watermark is the largest ``updated_at`` it has
seen, in microseconds since the epoch, and its SQL reads a few minutes further back (see
``transforms/indicators_changed_1m.sql``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from cryptoflow_batch.sql import load_sql

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LakeTable:
    table: str
    sequence: str

    @property
    def lock_key(self) -> str:
        return f"cryptoflow:{self.table}"


LAKE_MARKETS = LakeTable("lake.markets", "lake.markets_seq")
LAKE_TICKER = LakeTable("lake.ticker", "lake.ticker_seq")
LAKE_CANDLES = LakeTable("lake.candles", "lake.candles_seq")


@dataclass(frozen=True, slots=True)
class MartTable:
    """A mart table whose rows carry ``updated_at`` (set when a row changes)."""

    table: str


MART_CANDLES_1M = MartTable("mart.candles_1m")


@dataclass(frozen=True, slots=True)
class Transform:
    name: str
    sql_name: str
    source: LakeTable | MartTable
    upstream: str | None = None
    """Another transform whose watermark bounds this one (it reads that transform's mart)."""
    fill: Mapping[str, sql.Composable] = field(default_factory=dict)
    """Values for the ``{name}`` placeholders of a SQL template."""

    def statement(self) -> sql.SQL | sql.Composed:
        template = load_sql(self.sql_name)
        return template.format(**self.fill) if self.fill else template


def _candles(name: str, endpoint: str, bucket: str) -> Transform:
    """``mart.<name>`` from the closed candles of one lake endpoint: both candle marts share one template."""
    fill = {
        "mart": sql.Identifier("mart", name),
        "endpoint": sql.Literal(endpoint),
        "bucket": sql.Literal(bucket),
    }
    return Transform(name, "transforms/candles", LAKE_CANDLES, fill=fill)


def _indicators(name: str, candles: str, changed: str, key: str, source: LakeTable | MartTable) -> Transform:
    """``mart.<name>`` from a candle mart: both indicator marts share one template (one engine)."""
    key_of_k = (
        sql.SQL("(k.candle_start AT TIME ZONE 'UTC')::date") if key == "day" else sql.SQL("k.candle_start")
    )
    fill = {
        "changed": load_sql(f"transforms/{changed}"),
        "candles": sql.Identifier("mart", candles),
        "target": sql.Identifier("mart", name),
        "key": sql.Identifier(key),
        "key_of_k": key_of_k,
    }
    upstream = "candles_1d" if isinstance(source, LakeTable) else None
    return Transform(name, "transforms/indicators", source, upstream=upstream, fill=fill)


MARKETS = Transform("markets", "transforms/markets", LAKE_MARKETS)
MARKET_STATS_24H = Transform("market_stats_24h", "transforms/market_stats_24h", LAKE_TICKER)
CANDLES_1D = _candles("candles_1d", "candles/days", "1 day")
INDICATORS = _indicators("indicators", "candles_1d", "indicators_changed_1d", "day", LAKE_CANDLES)
INDICATORS_1M = _indicators(
    "indicators_1m", "candles_1m", "indicators_changed_1m", "candle_start", MART_CANDLES_1M
)
TRANSFORMS = {t.name: t for t in (MARKETS, MARKET_STATS_24H, CANDLES_1D, INDICATORS, INDICATORS_1M)}


@dataclass(frozen=True, slots=True)
class TransformResult:
    name: str
    lo: int
    """Watermark before the run: rows with ingest_seq > lo were new."""
    hi: int
    """Watermark after the run."""
    rows: int
    """Mart rows inserted or changed."""
    seconds: float

    @property
    def processed(self) -> bool:
        return self.hi > self.lo


async def lock_for_load(conn: psycopg.AsyncConnection, *tables: LakeTable) -> None:
    """Take the shared load lock of each lake table for the current transaction (see the module doc)."""
    for table in tables:
        await conn.execute("SELECT pg_advisory_xact_lock_shared(hashtext(%s))", (table.lock_key,))


def committed_high_water(conn: psycopg.Connection, source: LakeTable | MartTable) -> int:
    """The largest ``ingest_seq`` that no in-flight load can still commit below (see the module doc); for
    a mart, its newest ``updated_at`` in microseconds since the epoch (0 when empty)."""
    if isinstance(source, MartTable):
        schema, name = source.table.split(".")
        query = sql.SQL(
            "SELECT coalesce((extract(epoch FROM max(updated_at)) * 1000000)::bigint, 0) FROM {}"
        ).format(sql.Identifier(schema, name))
        with conn.transaction():
            row = conn.execute(query).fetchone()
        assert row is not None
        return int(row[0])
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (source.lock_key,))
        schema, name = source.sequence.split(".")
        row = conn.execute(
            sql.SQL("SELECT last_value, is_called FROM {}").format(sql.Identifier(schema, name))
        ).fetchone()
    assert row is not None
    last_value, is_called = row
    return int(last_value) if is_called else 0


def watermark(conn: psycopg.Connection, name: str) -> int:
    row = conn.execute("SELECT last_seq FROM cryptoflow_meta.watermarks WHERE name = %s", (name,)).fetchone()
    return int(row[0]) if row else 0


def run_transform(conn: psycopg.Connection, transform: Transform) -> TransformResult:
    """Fold the new lake rows into the transform's mart; returns what was done (no-op when none are new)."""
    started = time.perf_counter()
    hi = (
        watermark(conn, transform.upstream)
        if transform.upstream
        else committed_high_water(conn, transform.source)
    )
    with conn.transaction():
        conn.execute(
            "INSERT INTO cryptoflow_meta.watermarks (name) VALUES (%s) ON CONFLICT (name) DO NOTHING",
            (transform.name,),
        )
        # FOR UPDATE: two runs of the same transform queue up instead of both folding the same rows.
        row = conn.execute(
            "SELECT last_seq FROM cryptoflow_meta.watermarks WHERE name = %s FOR UPDATE", (transform.name,)
        ).fetchone()
        assert row is not None
        lo = int(row[0])
        rows = 0
        if hi > lo:
            cursor = conn.execute(transform.statement(), {"lo": lo, "hi": hi})
            result = cursor.fetchone() if cursor.description else None
            rows = int(result[0]) if result is not None else cursor.rowcount
            conn.execute(
                "UPDATE cryptoflow_meta.watermarks SET last_seq = %s, updated_at = now() WHERE name = %s",
                (hi, transform.name),
            )
        else:
            hi = lo
    seconds = time.perf_counter() - started
    log.info(
        "transform %s: ingest_seq (%d, %d], %d rows changed in %.3fs", transform.name, lo, hi, rows, seconds
    )
    return TransformResult(transform.name, lo, hi, rows, seconds)
