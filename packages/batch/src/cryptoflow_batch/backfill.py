"""Candle backfill: page backwards through Upbit's history with ``to``/``count`` into the lake.

Resumable: each page is stored together with the point reached (``cryptoflow_meta.backfill_progress``)
in one transaction, so a backfill that is stopped, fails or is run again continues where it was and
never fetches a stored page twice. Rate limits are the shared client's: several markets run at once,
one database connection each, and the limiter keeps every group within its budget.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg

from cryptoflow_batch.db import connect_async
from cryptoflow_batch.el import make_client
from cryptoflow_batch.lake import RunInterval, ensure_partitions, insert_candles
from cryptoflow_batch.settings import BatchSettings
from cryptoflow_batch.transforms import LAKE_CANDLES, lock_for_load
from cryptoflow_upbit_client import CandleUnit, UpbitRestClient

log = logging.getLogger(__name__)
UTC = dt.UTC


def parse_time(value: str | dt.datetime | dt.date) -> dt.datetime:
    """A backfill bound: a date (UTC midnight) or an ISO 8601 time (UTC when it has no offset)."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    else:
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not a date (2026-01-31) or an ISO 8601 time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class BackfillRequest:
    unit: CandleUnit
    markets: tuple[str, ...]
    start: dt.datetime
    """Inclusive: the oldest bucket start wanted."""
    end: dt.datetime
    """Exclusive: buckets starting at or after it are not stored."""

    @classmethod
    def build(
        cls,
        *,
        unit: str | CandleUnit,
        markets: Sequence[str] | str,
        start: str | dt.datetime | dt.date,
        end: str | dt.datetime | dt.date,
    ) -> BackfillRequest:
        if isinstance(markets, str):
            markets = [m for m in markets.split(",")]
        codes = tuple(dict.fromkeys(m.strip().upper() for m in markets if m.strip()))
        if not codes:
            raise ValueError("a backfill needs at least one market")
        request = cls(
            unit=CandleUnit.parse(unit) if isinstance(unit, str) else unit,
            markets=codes,
            start=parse_time(start),
            end=parse_time(end),
        )
        if request.end <= request.start:
            raise ValueError(
                f"'to' ({request.end.isoformat()}) must be after 'from' ({request.start.isoformat()})"
            )
        return request


@dataclass(slots=True)
class MarketProgress:
    market: str
    endpoint: str
    start: dt.datetime
    end: dt.datetime
    next_to: dt.datetime
    pages: int = 0
    candles: int = 0
    done: bool = False
    resumed: bool = False

    @property
    def fraction(self) -> float:
        """Share of [start, end) covered so far (by time)."""
        if self.done:
            return 1.0
        return (self.end - self.next_to) / (self.end - self.start)


@dataclass(slots=True)
class BackfillResult:
    endpoint: str
    markets: list[MarketProgress] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    @property
    def pages(self) -> int:
        return sum(m.pages for m in self.markets)

    @property
    def candles(self) -> int:
        return sum(m.candles for m in self.markets)


ProgressCallback = Callable[[MarketProgress], None]


async def _claim(conn: psycopg.AsyncConnection, request: BackfillRequest, market: str) -> MarketProgress:
    """The market's saved progress for this exact range, or a fresh row starting at ``end``."""
    async with conn.transaction():
        cursor = await conn.execute(
            """INSERT INTO cryptoflow_meta.backfill_progress (endpoint, market, range_from, range_to, next_to)
               VALUES (%(endpoint)s, %(market)s, %(start)s, %(end)s, %(end)s)
               ON CONFLICT (endpoint, market, range_from, range_to)
                   DO UPDATE SET updated_at = cryptoflow_meta.backfill_progress.updated_at
               RETURNING next_to, pages, candles, done, (xmax <> 0) AS existed""",
            {"endpoint": request.unit.name, "market": market, "start": request.start, "end": request.end},
        )
        row = await cursor.fetchone()
    assert row is not None
    next_to, pages, candles, done, existed = row
    return MarketProgress(
        market=market,
        endpoint=request.unit.name,
        start=request.start,
        end=request.end,
        next_to=next_to,
        pages=pages,
        candles=candles,
        done=done,
        resumed=bool(existed),
    )


async def _backfill_market(
    conn: psycopg.AsyncConnection,
    *,
    upbit: UpbitRestClient,
    request: BackfillRequest,
    market: str,
    run_id: str,
    on_progress: ProgressCallback | None,
) -> MarketProgress:
    progress = await _claim(conn, request, market)
    if progress.done:
        log.info("backfill %s %s: already complete (%d candles)", progress.endpoint, market, progress.candles)
        if on_progress:
            on_progress(progress)
        return progress
    if progress.resumed:
        log.info(
            "backfill %s %s: resuming before %s", progress.endpoint, market, progress.next_to.isoformat()
        )
    interval = RunInterval(request.start, request.end, run_id)
    async for page in upbit.iter_candles(request.unit, market, since=request.start, until=progress.next_to):
        oldest = page.oldest
        next_to = request.start if oldest is None or oldest <= request.start else oldest
        async with conn.transaction():
            await lock_for_load(conn, LAKE_CANDLES)
            stored = await insert_candles(
                conn,
                endpoint=request.unit.name,
                market=market,
                response=page.response,
                interval=interval,
                since=request.start,
                until=request.end,
            )
            await conn.execute(
                """UPDATE cryptoflow_meta.backfill_progress
                   SET next_to = %(next_to)s, pages = pages + 1, candles = candles + %(candles)s,
                       updated_at = now()
                   WHERE endpoint = %(endpoint)s AND market = %(market)s
                     AND range_from = %(start)s AND range_to = %(end)s""",
                {
                    "next_to": next_to,
                    "candles": stored,
                    "endpoint": request.unit.name,
                    "market": market,
                    "start": request.start,
                    "end": request.end,
                },
            )
        progress.next_to = next_to
        progress.pages += 1
        progress.candles += stored
        if on_progress:
            on_progress(progress)
    await conn.execute(
        """UPDATE cryptoflow_meta.backfill_progress SET done = true, next_to = range_from, updated_at = now()
           WHERE endpoint = %s AND market = %s AND range_from = %s AND range_to = %s""",
        (request.unit.name, market, request.start, request.end),
    )
    progress.done = True
    progress.next_to = request.start
    log.info(
        "backfill %s %s: complete, %d pages, %d candles",
        progress.endpoint,
        market,
        progress.pages,
        progress.candles,
    )
    if on_progress:
        on_progress(progress)
    return progress


async def backfill(
    settings: BatchSettings,
    request: BackfillRequest,
    *,
    run_id: str,
    on_progress: ProgressCallback | None = None,
    client: UpbitRestClient | None = None,
) -> BackfillResult:
    """Fetch and store every candle of ``request``; safe to run again (it resumes or does nothing)."""
    started = time.perf_counter()
    upbit = client or make_client(settings)
    requests_before = upbit.stats.requests
    result = BackfillResult(endpoint=request.unit.name)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for market in request.markets:
        queue.put_nowait(market)
    done: dict[str, MarketProgress] = {}

    async def worker() -> None:
        async with await connect_async(settings.dsn, autocommit=True) as conn:
            while not queue.empty():
                market = queue.get_nowait()
                done[market] = await _backfill_market(
                    conn, upbit=upbit, request=request, market=market, run_id=run_id, on_progress=on_progress
                )

    try:
        async with await connect_async(settings.dsn, autocommit=True) as conn:
            await ensure_partitions(
                conn, LAKE_CANDLES, request.start, request.end - dt.timedelta(microseconds=1)
            )
        workers = min(settings.concurrency, len(request.markets))
        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(worker())
    finally:
        result.requests = upbit.stats.requests - requests_before
        if client is None:
            await upbit.aclose()
    result.markets = [done[m] for m in request.markets if m in done]
    result.seconds = time.perf_counter() - started
    return result
