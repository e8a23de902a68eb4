"""The async Upbit REST quotation client.

One instance per process (or per task) shares one connection pool and one rate limiter for every
coroutine that uses it::

    async with UpbitRestClient("https://api.upbit.com") as upbit:
        markets = (await upbit.market_all()).json()
        async for page in upbit.iter_candles(CandleUnit.parse("days"), "KRW-BTC", since=start):
            store(page.response.text)

Every method returns :class:`RestResponse` with the body as it arrived (``.content`` / ``.text``) so a
lake can keep exactly what Upbit said; ``.json()`` parses non-integer numbers as ``Decimal``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from types import TracebackType
from typing import Self

import httpx

from cryptoflow_contracts.backoff import BackoffPolicy
from cryptoflow_contracts.rest import RemainingReq
from cryptoflow_upbit_client.errors import UpbitHTTPError, UpbitRetriesExhausted
from cryptoflow_upbit_client.ratelimit import DEFAULT_RATE_PER_SECOND, DEFAULT_WINDOW_S, RateLimiter
from cryptoflow_upbit_client.types import (
    MAX_CANDLES_PER_REQUEST,
    MAX_TRADES_PER_REQUEST,
    CandlePage,
    CandleUnit,
    RestResponse,
    TradePage,
    format_to,
    parse_utc,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.upbit.com"
DEFAULT_QUOTES = ("KRW", "BTC", "USDT")
RETRY_STATUSES = frozenset({418, 429})
# 418 means the IP is blocked for a growing time: back off much harder than for a plain 429.
_BLOCKED_FACTOR = 8.0
_USER_AGENT = f"cryptoflow-upbit-client/{version('cryptoflow-upbit-client')}"


@dataclass(slots=True)
class ClientStats:
    """Counters for logs and benchmarks."""

    requests: int = 0
    retries: int = 0
    transport_errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    rate_limit_wait_s: float = 0.0
    backoff_wait_s: float = 0.0


class UpbitRestClient:
    """Async client for Upbit's public quotation REST API (no keys needed)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 10.0,
        max_retries: int = 8,
        backoff_base: float = 0.25,
        backoff_cap: float = 10.0,
        rate_per_second: int = DEFAULT_RATE_PER_SECOND,
        rate_window_s: float = DEFAULT_WINDOW_S,
        max_connections: int = 16,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.backoff = BackoffPolicy(backoff_base, backoff_cap)  # the workspace's one policy
        self.limits = RateLimiter(rate_per_second, rate_window_s)
        self.stats = ClientStats()
        self._rng = rng or random.Random()  # noqa: S311 - backoff jitter, not a secret
        # No Origin header, ever: Upbit limits requests that carry one to 1 per 10 s.
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={
                "Accept": "application/json",
                "User-Agent": f"cryptoflow-upbit-client/{version('cryptoflow-upbit-client')}",
            },
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the one place that talks HTTP -------------------------------------------------------------

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> RestResponse:
        """GET ``path``; waits for the group's rate limit, retries 418/429/5xx and transport errors."""
        query = dict(params or {})
        url = f"{self.base_url}{path}"
        group = self.limits.group_for(path)
        attempt = 0
        while True:
            attempt += 1
            self.stats.rate_limit_wait_s += await self.limits.limiter(group).acquire()
            self.stats.requests += 1
            status: int | None = None
            retry_after: float | None = None
            try:
                response = await self._http.get(path, params=query)
            except httpx.TransportError as exc:  # connect errors, resets and timeouts alike
                self.stats.transport_errors += 1
                last = f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                self.stats.statuses[status] += 1
                remaining = _remaining(response)
                if remaining is not None:
                    if remaining.group != group:
                        self.limits.learn(path, remaining.group)
                        group = remaining.group
                    self.limits.limiter(group).observe_remaining(remaining.sec)
                if status == 200:
                    return RestResponse(
                        path=path,
                        params=query,
                        status=status,
                        content=response.content,
                        remaining=remaining,
                        received_at_ms=time.time_ns() // 1_000_000,
                        attempts=attempt,
                    )
                if status not in RETRY_STATUSES and status < 500:
                    raise UpbitHTTPError(status, str(response.url), response.content)
                last = f"HTTP {status}: {response.content[:200].decode('utf-8', 'replace')}"
                retry_after = _retry_after(response)
            if attempt > self.max_retries:
                raise UpbitRetriesExhausted(url, attempt, last)
            delay = self.backoff_delay(attempt, blocked=status == 418)
            if retry_after is not None:
                delay = max(delay, min(retry_after, self.backoff_cap * _BLOCKED_FACTOR))
            if status in RETRY_STATUSES:
                # Everyone in this group waits, not only this request: the budget is shared.
                self.limits.limiter(group).pause(delay)
            log.warning("upbit %s attempt %d failed (%s); retrying in %.2fs", path, attempt, last, delay)
            self.stats.retries += 1
            self.stats.backoff_wait_s += delay
            await asyncio.sleep(delay)

    def backoff_delay(self, attempt: int, *, blocked: bool = False) -> float:
        """`cryptoflow_contracts.backoff`: a random delay in [½·d, d], d = base·2^(attempt-1), capped; a 418
        (the IP is blocked) backs off 8x harder."""
        policy = self.backoff.scaled(_BLOCKED_FACTOR) if blocked else self.backoff
        return policy.delay(attempt, self._rng.random)

    # -- typed endpoints ------------------------------------------------------------------------------

    async def market_all(self, *, is_details: bool = True) -> RestResponse:
        """``GET /v1/market/all``: every listed market (with warning/caution flags when ``is_details``)."""
        return await self.get("/v1/market/all", {"is_details": "true" if is_details else "false"})

    async def ticker(self, markets: Iterable[str]) -> RestResponse:
        """``GET /v1/ticker?markets=...``: the current ticker of each market."""
        return await self.get("/v1/ticker", {"markets": _codes(markets)})

    async def ticker_all(self, quote_currencies: Iterable[str] = DEFAULT_QUOTES) -> RestResponse:
        """``GET /v1/ticker/all``: every ticker of the given quote currencies in one call."""
        return await self.get("/v1/ticker/all", {"quote_currencies": _codes(quote_currencies)})

    async def orderbook(
        self, markets: Iterable[str], *, level: str | None = None, count: int | None = None
    ) -> RestResponse:
        """``GET /v1/orderbook``: full top-N snapshots (no deltas)."""
        params = {"markets": _codes(markets)}
        if level is not None:
            params["level"] = level
        if count is not None:
            params["count"] = str(count)
        return await self.get("/v1/orderbook", params)

    async def candles(
        self,
        unit: CandleUnit | str,
        market: str,
        *,
        to: dt.datetime | None = None,
        count: int = MAX_CANDLES_PER_REQUEST,
    ) -> RestResponse:
        """One page of candles, newest first, all starting before ``to`` (exclusive; default: now)."""
        unit = CandleUnit.parse(unit) if isinstance(unit, str) else unit
        if not 1 <= count <= MAX_CANDLES_PER_REQUEST:
            raise ValueError(f"count must be 1..{MAX_CANDLES_PER_REQUEST}, got {count}")
        params = {"market": market, "count": str(count)}
        if to is not None:
            params["to"] = format_to(to)
        return await self.get(unit.path, params)

    async def candles_seconds(
        self, market: str, *, to: dt.datetime | None = None, count: int = MAX_CANDLES_PER_REQUEST
    ) -> RestResponse:
        return await self.candles(CandleUnit("seconds"), market, to=to, count=count)

    async def candles_minutes(
        self,
        minutes: int,
        market: str,
        *,
        to: dt.datetime | None = None,
        count: int = MAX_CANDLES_PER_REQUEST,
    ) -> RestResponse:
        return await self.candles(CandleUnit("minutes", minutes), market, to=to, count=count)

    async def candles_days(
        self, market: str, *, to: dt.datetime | None = None, count: int = MAX_CANDLES_PER_REQUEST
    ) -> RestResponse:
        return await self.candles(CandleUnit("days"), market, to=to, count=count)

    async def candles_weeks(
        self, market: str, *, to: dt.datetime | None = None, count: int = MAX_CANDLES_PER_REQUEST
    ) -> RestResponse:
        return await self.candles(CandleUnit("weeks"), market, to=to, count=count)

    async def candles_months(
        self, market: str, *, to: dt.datetime | None = None, count: int = MAX_CANDLES_PER_REQUEST
    ) -> RestResponse:
        return await self.candles(CandleUnit("months"), market, to=to, count=count)

    async def iter_candles(
        self,
        unit: CandleUnit | str,
        market: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        count: int = MAX_CANDLES_PER_REQUEST,
    ) -> AsyncIterator[CandlePage]:
        """Pages of candles walking backwards from ``until`` (exclusive) with ``to``/``count``.

        Stops after the page that reaches ``since`` (inclusive lower bound; the last page may hold older
        candles, which the caller drops) or when Upbit has no older history (a short or empty page).
        ``until`` doubles as the resume point: pass the ``oldest`` of the last stored page.
        """
        unit = CandleUnit.parse(unit) if isinstance(unit, str) else unit
        to = until
        while True:
            response = await self.candles(unit, market, to=to, count=count)
            rows = response.json()
            page = CandlePage(response, tuple(parse_utc(row["candle_date_time_utc"]) for row in rows))
            yield page
            oldest = page.oldest
            if oldest is None or len(rows) < count or (since is not None and oldest <= since):
                return
            if to is not None and oldest >= to:
                raise RuntimeError(f"{unit} {market}: paging made no progress at to={to.isoformat()}")
            to = oldest

    async def trades_ticks(
        self,
        market: str,
        *,
        count: int = MAX_TRADES_PER_REQUEST,
        to: str | None = None,
        cursor: int | None = None,
        days_ago: int | None = None,
    ) -> RestResponse:
        """``GET /v1/trades/ticks``: recent trades, newest first (``to`` is ``HHmmss`` UTC)."""
        if not 1 <= count <= MAX_TRADES_PER_REQUEST:
            raise ValueError(f"count must be 1..{MAX_TRADES_PER_REQUEST}, got {count}")
        params = {"market": market, "count": str(count)}
        if to is not None:
            params["to"] = to
        if cursor is not None:
            params["cursor"] = str(cursor)
        if days_ago is not None:
            params["days_ago"] = str(days_ago)
        return await self.get("/v1/trades/ticks", params)

    async def iter_trades(
        self,
        market: str,
        *,
        count: int = MAX_TRADES_PER_REQUEST,
        days_ago: int | None = None,
        cursor: int | None = None,
        since_ms: int | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[TradePage]:
        """Pages of trades walking backwards with ``cursor`` (the last ``sequential_id`` of a page).

        Stops at a short or empty page, once a page reaches ``since_ms`` (trade time, inclusive), or
        after ``max_pages``.
        """
        pages = 0
        while True:
            response = await self.trades_ticks(market, count=count, cursor=cursor, days_ago=days_ago)
            rows = response.json()
            next_cursor = int(rows[-1]["sequential_id"]) if rows else None
            oldest = min(int(row["timestamp"]) for row in rows) if rows else None
            yield TradePage(response, len(rows), next_cursor, oldest)
            pages += 1
            if (
                next_cursor is None
                or len(rows) < count
                or (since_ms is not None and oldest is not None and oldest <= since_ms)
                or (max_pages is not None and pages >= max_pages)
            ):
                return
            cursor = next_cursor


def _codes(values: Iterable[str]) -> str:
    codes = [v.strip() for v in values if v.strip()]
    if not codes:
        raise ValueError("at least one code is needed")
    return ",".join(codes)


def _remaining(response: httpx.Response) -> RemainingReq | None:
    header = response.headers.get("Remaining-Req")
    if not header:
        return None
    try:
        return RemainingReq.parse(header)
    except ValueError:
        log.warning("unreadable Remaining-Req header %r", header)
        return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None
