"""`cryptoflow-archive export`: one market-day of archived trades to a Parquet or CSV file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg import sql
from rich.progress import Progress

from cryptoflow_archive.rows import COLUMNS
from cryptoflow_archive.store import DAY_MS, OPTIONS

FORMATS = ("parquet", "csv")
CHUNK = 50_000

# Exact decimals: numeric(38, 18) holds every Upbit price and volume (KRW prices to 8 decimals, sizes to 8).
SCHEMA = pa.schema(
    [
        ("market", pa.string()),
        ("trade_timestamp", pa.int64()),
        ("sequential_id", pa.int64()),
        ("price", pa.decimal128(38, 18)),
        ("volume", pa.decimal128(38, 18)),
        ("side", pa.string()),
        ("received_ms", pa.int64()),
        ("source", pa.string()),
    ]
)


class ExportError(ValueError):
    """A user error: one line naming the problem."""


def day_bounds(day: dt.date) -> tuple[int, int]:
    start = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)
    return start, start + DAY_MS


def export_day(dsn: str, *, market: str, day: dt.date, fmt: str, out: Path, progress: bool = True) -> int:
    """Writes every archived trade of `market` on UTC day `day`, ordered by (time, id); returns the count."""
    import psycopg  # noqa: PLC0415  # the CLI's --help needs no driver

    if fmt not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    lo, hi = day_bounds(day)
    with psycopg.connect(dsn, options=OPTIONS) as conn:
        (total,) = conn.execute(
            "SELECT count(*) FROM lake.trades WHERE market = %s AND trade_timestamp >= %s"
            " AND trade_timestamp < %s",
            (market, lo, hi),
        ).fetchone() or (0,)
        if total == 0:
            raise ExportError(f"no archived trades of {market} on {day.isoformat()}")
        query = sql.SQL(
            "SELECT {} FROM lake.trades WHERE market = %s AND trade_timestamp >= %s AND trade_timestamp < %s"
            " ORDER BY trade_timestamp, sequential_id"
        ).format(sql.SQL(", ").join(map(sql.Identifier, COLUMNS)))
        writer: Any = None
        written = 0
        with Progress(disable=not progress, transient=True) as bar, conn.cursor(name="export") as cur:
            task = bar.add_task(f"{market} {day.isoformat()}", total=total)
            cur.itersize = CHUNK
            cur.execute(query, (market, lo, hi))
            try:
                while rows := cur.fetchmany(CHUNK):
                    table = pa.Table.from_pylist([dict(zip(COLUMNS, r, strict=True)) for r in rows], SCHEMA)
                    if writer is None:
                        writer = (
                            pq.ParquetWriter(out, SCHEMA)
                            if fmt == "parquet"
                            else pa_csv.CSVWriter(out, SCHEMA)
                        )
                    writer.write_table(table)
                    written += len(rows)
                    bar.update(task, advance=len(rows))
            finally:
                if writer is not None:
                    writer.close()
    return written
