"""`lake.trades` in PostgreSQL: one batch is one transaction (COPY into a staging table, one
`INSERT … ON CONFLICT DO NOTHING`, the candles of the minutes it added rebuilt, commit)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from cryptoflow_archive.rows import COLUMNS, Row

log = logging.getLogger("cryptoflow_archive")

DAY_MS = 86_400_000
MINUTE_MS = 60_000
# UTC days (the partitions' bounds are UTC) and no JIT: the statements are short.
OPTIONS = "-c TimeZone=UTC -c jit=off"

_STAGE = sql.SQL("CREATE TEMP TABLE IF NOT EXISTS trades_stage (LIKE lake.trades) ON COMMIT DELETE ROWS")
_COPY = sql.SQL("COPY trades_stage ({}) FROM STDIN").format(sql.SQL(", ").join(map(sql.Identifier, COLUMNS)))
# New trades only; the minutes they fall in, with how many each got.
_INSERT = sql.SQL(
    """WITH inserted AS (
           INSERT INTO lake.trades SELECT * FROM trades_stage
           ORDER BY market, trade_timestamp, sequential_id
           ON CONFLICT DO NOTHING
           RETURNING market, trade_timestamp)
       SELECT market, trade_timestamp - trade_timestamp % 60000, count(*) FROM inserted GROUP BY 1, 2"""
)


class SchemaMissingError(RuntimeError):
    """The database has no `lake.trades`: its migrations were not applied."""


@dataclass(slots=True)
class WriteResult:
    inserted: int = 0
    duplicates: int = 0
    candles_changed: int = 0
    minutes: list[tuple[str, int]] = field(default_factory=list)
    """(market, minute start ms) of every minute that got new trades."""


async def connect(dsn: str) -> psycopg.AsyncConnection[tuple[Any, ...]]:
    return await psycopg.AsyncConnection.connect(dsn, options=OPTIONS)


class TradeStore:
    """One connection; `write` is one transaction. A connection error leaves the store closed: the next
    call reconnects (the archiver retries the whole batch, which is harmless: inserts are idempotent)."""

    def __init__(
        self, dsn: str, *, partitions_ahead_days: int = 2, retention_days: int | None = None
    ) -> None:
        self.dsn = dsn
        self.partitions_ahead_days = partitions_ahead_days
        self.retention_days = retention_days
        self._conn: psycopg.AsyncConnection[tuple[Any, ...]] | None = None
        self._days: set[int] = set()
        """UTC days (start ms) whose partition is known to exist."""

    async def _connection(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        if self._conn is None or self._conn.closed:
            conn = await connect(self.dsn)
            try:
                found = await (await conn.execute("SELECT to_regclass('lake.trades')")).fetchone()
                if found is None or found[0] is None:
                    raise SchemaMissingError(
                        f"no table lake.trades in {conn.info.dbname!r}: run `cryptoflow-batch db upgrade`"
                    )
                await conn.execute(_STAGE)
                await conn.commit()
            except BaseException:
                await conn.close()
                raise
            self._conn = conn
        return self._conn

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            await conn.close()

    async def ensure_partitions(self, lo_ms: int, hi_ms: int) -> int:
        """The daily partitions of [lo_ms, hi_ms], created when missing (their own transaction)."""
        days = set(range(lo_ms - lo_ms % DAY_MS, hi_ms + 1, DAY_MS))
        if days <= self._days:
            return 0
        conn = await self._connection()
        try:
            row = await (
                await conn.execute("SELECT lake.ensure_trade_partitions(%s, %s)", (lo_ms, hi_ms))
            ).fetchone()
            await conn.commit()
        except (psycopg.OperationalError, psycopg.InterfaceError):
            await self._drop_connection()
            raise
        self._days |= days
        created = int(row[0]) if row else 0
        if created:
            log.info("created %d daily partitions of lake.trades", created)
        return created

    async def write(self, rows: Sequence[Row]) -> WriteResult:
        """Archive `rows` (duplicates of archived trades are skipped) and rebuild their minutes' candles."""
        if not rows:
            return WriteResult()
        times = [row[1] for row in rows]
        await self.ensure_partitions(min(times), max(times))
        conn = await self._connection()
        try:
            async with conn.cursor() as cur:
                async with cur.copy(_COPY) as copy:
                    for row in rows:
                        await copy.write_row(row)
                await cur.execute(_INSERT)
                minutes = await cur.fetchall()
                result = WriteResult(minutes=[(str(m), int(t)) for m, t, _ in minutes])
                result.inserted = sum(int(n) for *_, n in minutes)
                result.duplicates = len(rows) - result.inserted
                if result.minutes:
                    await cur.execute(
                        "SELECT mart.refresh_candles(%s::text[], %s::bigint[])",
                        ([m for m, _ in result.minutes], [t for _, t in result.minutes]),
                    )
                    changed = await cur.fetchone()
                    result.candles_changed = int(changed[0]) if changed else 0
            await conn.commit()
        except (psycopg.OperationalError, psycopg.InterfaceError):
            await self._drop_connection()
            raise
        except BaseException:
            # A refused batch (or a cancelled one) leaves nothing behind: the staging rows go with it.
            if not conn.closed:
                await conn.rollback()
            raise
        return result

    async def refused(self, row: Row) -> str | None:
        """Why PostgreSQL refuses `row` alone (None when it takes it): sorts out a batch that failed."""
        conn = await self._connection()
        try:
            async with conn.cursor() as cur:
                async with cur.copy(_COPY) as copy:
                    await copy.write_row(row)
                await cur.execute("SELECT 1 FROM trades_stage LIMIT 0")
        except psycopg.DataError as exc:
            await conn.rollback()
            return f"PostgreSQL refused the trade: {exc.diag.message_primary or exc}"
        await conn.rollback()
        return None

    async def maintain(self) -> int:
        """Close the candles whose minute has ended; keep partitions ahead; apply the retention.
        Returns the 1-minute candles closed."""
        now = int(time.time() * 1000)
        await self.ensure_partitions(now, now + self.partitions_ahead_days * DAY_MS)
        conn = await self._connection()
        try:
            row = await (await conn.execute("SELECT mart.close_candles()")).fetchone()
            if self.retention_days is not None:
                before = now - now % DAY_MS - self.retention_days * DAY_MS
                cur = await conn.execute("SELECT lake.drop_trade_partitions(%s)", (before,))
                for (name,) in await cur.fetchall():
                    log.info("retention: dropped partition lake.%s", name)
                    self._days.clear()
            await conn.commit()
        except (psycopg.OperationalError, psycopg.InterfaceError):
            await self._drop_connection()
            raise
        return int(row[0]) if row else 0
