"""Loading raw REST responses into the lake.

Bodies go to PostgreSQL as text and are parsed there (``::jsonb``), so prices and sizes become exact
``numeric`` without ever being a Python float. Every row carries the endpoint, the market, the time it
was collected, the request that returned it and the run (data interval) that collected it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import psycopg

from cryptoflow_batch.sql import load_sql
from cryptoflow_batch.transforms import LakeTable
from cryptoflow_upbit_client import RestResponse

UTC = dt.UTC


def plain_utc(value: dt.datetime) -> dt.datetime:
    """A ``datetime.datetime`` in UTC (not a subclass such as pendulum's)."""
    utc = value.astimezone(UTC)
    return dt.datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=UTC
    )


@dataclass(frozen=True, slots=True)
class RunInterval:
    """The data interval of a run and the run's id: what every lake row is tagged with."""

    start: dt.datetime
    end: dt.datetime
    run_id: str

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("interval bounds must be timezone-aware")
        # Airflow hands over pendulum DateTimes; plain UTC datetimes keep the arithmetic standard.
        object.__setattr__(self, "start", plain_utc(self.start))
        object.__setattr__(self, "end", plain_utc(self.end))
        if self.end <= self.start:
            raise ValueError(f"empty interval [{self.start.isoformat()}, {self.end.isoformat()})")

    def params(self) -> dict[str, object]:
        return {"interval_start": self.start, "interval_end": self.end, "run_id": self.run_id}


def request_label(response: RestResponse) -> str:
    """The call that returned a body, e.g. ``/v1/ticker/all?quote_currencies=KRW,BTC``."""
    query = urlencode(dict(response.params), safe=",:")
    return f"{response.path}?{query}" if query else response.path


def collected_at(response: RestResponse) -> dt.datetime:
    return dt.datetime.fromtimestamp(response.received_at_ms / 1000, tz=UTC)


async def ensure_partitions(
    conn: psycopg.AsyncConnection, table: LakeTable, lo: dt.datetime, hi: dt.datetime
) -> int:
    """Create the monthly partitions of ``table`` covering [lo, hi]; run outside a load transaction."""
    async with conn.transaction():
        cursor = await conn.execute(
            "SELECT lake.ensure_month_partitions(%s::regclass, %s, %s)", (table.table, lo, hi)
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def insert_markets(
    conn: psycopg.AsyncConnection, response: RestResponse, interval: RunInterval, quotes: Sequence[str]
) -> int:
    cursor = await conn.execute(
        load_sql("lake/insert_markets"),
        {
            **interval.params(),
            "request": request_label(response),
            "collected_at": collected_at(response),
            "body": response.text,
            "quotes": list(quotes),
        },
    )
    return cursor.rowcount


async def insert_tickers(
    conn: psycopg.AsyncConnection, response: RestResponse, interval: RunInterval, quotes: Sequence[str]
) -> int:
    cursor = await conn.execute(
        load_sql("lake/insert_ticker"),
        {
            **interval.params(),
            "request": request_label(response),
            "collected_at": collected_at(response),
            "body": response.text,
            "quotes": list(quotes),
        },
    )
    return cursor.rowcount


async def insert_candles(
    conn: psycopg.AsyncConnection,
    *,
    endpoint: str,
    market: str,
    response: RestResponse,
    interval: RunInterval,
    since: dt.datetime,
    until: dt.datetime,
) -> int:
    """One page of candles; only buckets in [since, until) are kept. Returns the rows that were new or
    changed (a candle identical to the stored one is left alone and not counted)."""
    cursor = await conn.execute(
        load_sql("lake/insert_candles"),
        {
            **interval.params(),
            "endpoint": endpoint,
            "market": market,
            "request": request_label(response),
            "collected_at": collected_at(response),
            "body": response.text,
            "since": since,
            "until": until,
        },
    )
    return cursor.rowcount
