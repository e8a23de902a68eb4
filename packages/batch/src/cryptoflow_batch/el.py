"""Extract + load: Upbit REST -> lake, for one data interval.

Fetch everything first, then load it in one short transaction, so no database lock is held while the
network is slow. Every load is idempotent for its interval (see the lake's unique keys).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cryptoflow_batch.db import connect_async
from cryptoflow_batch.lake import (
    RunInterval,
    ensure_partitions,
    insert_candles,
    insert_markets,
    insert_tickers,
)
from cryptoflow_batch.settings import BatchSettings
from cryptoflow_batch.transforms import LAKE_CANDLES, LAKE_MARKETS, LAKE_TICKER, lock_for_load
from cryptoflow_contracts.markets import quote_of
from cryptoflow_upbit_client import CandleUnit, RestResponse, UpbitRestClient

log = logging.getLogger(__name__)


def make_client(settings: BatchSettings) -> UpbitRestClient:
    return UpbitRestClient(
        settings.upbit_rest_url,
        timeout=settings.http_timeout_s,
        max_retries=settings.http_max_retries,
        backoff_base=settings.http_backoff_base_s,
        backoff_cap=settings.http_backoff_cap_s,
        rate_per_second=settings.rate_per_second,
        max_connections=max(settings.concurrency, 4),
    )


def listed_markets(response: RestResponse, quotes: Sequence[str]) -> list[str]:
    """Market codes of a ``/v1/market/all`` body whose quote currency is wanted, in Upbit's order."""
    wanted = set(quotes)
    return [row["market"] for row in response.json() if quote_of(row["market"]) in wanted]


def _chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


@dataclass(frozen=True, slots=True)
class TickerElResult:
    interval_start: dt.datetime
    markets_listed: int
    tickers_fetched: int
    market_rows: int
    """Rows new to lake.markets (0 on a re-run of the interval)."""
    ticker_rows: int
    """Rows new to lake.ticker (0 on a re-run of the interval)."""
    requests: int
    seconds: float


async def ticker_el(
    settings: BatchSettings, interval: RunInterval, *, client: UpbitRestClient | None = None
) -> TickerElResult:
    """Every market of every wanted quote currency: its listing and its ticker, into the lake."""
    started = time.perf_counter()
    upbit = client or make_client(settings)
    requests_before = upbit.stats.requests
    quotes = settings.quote_currencies
    try:
        # Tickers first, then the listing: a market listed in between is then still fetched by name below,
        # instead of leaving a ticker without its listing.
        responses = [await upbit.ticker_all(quotes)]
        listing = await upbit.market_all(is_details=True)
        markets = listed_markets(listing, quotes)
        seen = {row["market"] for row in responses[0].json()}
        # /v1/ticker/all may leave markets out (new listings): ask for them by name.
        missing = [market for market in markets if market not in seen]
        if missing:
            log.info("ticker/all lacked %d listed markets; fetching them from /v1/ticker", len(missing))
            responses += await asyncio.gather(
                *(upbit.ticker(c) for c in _chunks(missing, settings.ticker_chunk))
            )
        requests = upbit.stats.requests - requests_before
    finally:
        if client is None:
            await upbit.aclose()
    tickers = sum(len(r.json()) for r in responses)

    async with await connect_async(settings.dsn, autocommit=True) as conn:
        for table in (LAKE_MARKETS, LAKE_TICKER):
            await ensure_partitions(conn, table, interval.start, interval.start)
        async with conn.transaction():
            await lock_for_load(conn, LAKE_MARKETS, LAKE_TICKER)
            market_rows = await insert_markets(conn, listing, interval, quotes)
            ticker_rows = 0
            for response in responses:
                ticker_rows += await insert_tickers(conn, response, interval, quotes)
    result = TickerElResult(
        interval_start=interval.start,
        markets_listed=len(markets),
        tickers_fetched=tickers,
        market_rows=market_rows,
        ticker_rows=ticker_rows,
        requests=requests,
        seconds=time.perf_counter() - started,
    )
    log.info("ticker EL %s", result)
    return result


@dataclass(frozen=True, slots=True)
class CandlesElResult:
    endpoint: str
    interval_start: dt.datetime
    markets: list[str]
    candles_fetched: int
    stored: int
    """Candles new to the lake or changed since last stored (0 on a re-run with the same data)."""
    requests: int
    seconds: float


def candles_per_interval(unit: CandleUnit, interval: RunInterval) -> int:
    """A page size that covers the interval in one request (plus one older bucket to see its start)."""
    step = unit.step
    if step is None:
        return 2
    return max(2, min(200, math.ceil((interval.end - interval.start) / step) + 1))


async def candles_el(
    settings: BatchSettings,
    interval: RunInterval,
    unit: CandleUnit,
    markets: Sequence[str] | None = None,
    *,
    client: UpbitRestClient | None = None,
) -> CandlesElResult:
    """The candles of each market that start inside the interval, into the lake (upserted).

    ``markets`` None means every listed market of the wanted quote currencies. Run it after the interval
    has closed and every stored candle is closed (``to`` = the interval's end).
    """
    started = time.perf_counter()
    upbit = client or make_client(settings)
    requests_before = upbit.stats.requests
    count = candles_per_interval(unit, interval)
    pages: list[tuple[str, RestResponse]] = []
    try:
        if markets is None:
            markets = listed_markets(await upbit.market_all(is_details=False), settings.quote_currencies)
        semaphore = asyncio.Semaphore(settings.concurrency)

        async def fetch(market: str) -> list[tuple[str, RestResponse]]:
            async with semaphore:
                return [
                    (market, page.response)
                    async for page in upbit.iter_candles(
                        unit, market, since=interval.start, until=interval.end, count=count
                    )
                ]

        for market_pages in await asyncio.gather(*(fetch(market) for market in markets)):
            pages += market_pages
        requests = upbit.stats.requests - requests_before
    finally:
        if client is None:
            await upbit.aclose()

    stored = fetched = 0
    async with await connect_async(settings.dsn, autocommit=True) as conn:
        await ensure_partitions(
            conn, LAKE_CANDLES, interval.start, interval.end - dt.timedelta(microseconds=1)
        )
        async with conn.transaction():
            await lock_for_load(conn, LAKE_CANDLES)
            for market, response in pages:
                fetched += len(response.json())
                stored += await insert_candles(
                    conn,
                    endpoint=unit.name,
                    market=market,
                    response=response,
                    interval=interval,
                    since=interval.start,
                    until=interval.end,
                )
    result = CandlesElResult(
        endpoint=unit.name,
        interval_start=interval.start,
        markets=list(markets),
        candles_fetched=fetched,
        stored=stored,
        requests=requests,
        seconds=time.perf_counter() - started,
    )
    log.info("candles EL %s", result)
    return result
