"""The client against a real upbit-sim: rate limits, backoff, paging, raw bodies."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from cryptoflow_contracts.rest import RestCandleDay, RestMarket, RestTicker, RestTradeTick
from cryptoflow_upbit_client import UpbitHTTPError, UpbitRestClient, UpbitRetriesExhausted
from upbit_sim import Simulator

UTC = dt.UTC


async def _admin(sim: Simulator, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    async with httpx.AsyncClient() as http:
        response = await http.request(method, f"{sim.admin_url}{path}", json=body)
        response.raise_for_status()
        return response.json()


async def _fault(sim: Simulator, **params: Any) -> None:
    await _admin(sim, "POST", "/faults/rest_error", params)


async def _server_statuses(sim: Simulator) -> dict[str, int]:
    stats = await _admin(sim, "GET", "/stats")
    return {str(k): int(v) for k, v in stats["rest"]["status"].items()}


def _client(sim: Simulator, **kwargs: Any) -> UpbitRestClient:
    kwargs.setdefault("backoff_base", 0.05)
    kwargs.setdefault("backoff_cap", 0.5)
    return UpbitRestClient(sim.rest_url, **kwargs)


async def _a_market(client: UpbitRestClient) -> str:
    return str((await client.market_all()).json()[0]["market"])


async def test_typed_endpoints_return_raw_bodies_and_exact_numbers(sim: Simulator) -> None:
    async with _client(sim) as client:
        listing = await client.market_all()
        markets = listing.models(RestMarket)
        assert markets
        codes = [m.market for m in markets]
        tickers = await client.ticker(codes)
        assert {t.market for t in tickers.models(RestTicker)} == set(codes)
        everything = await client.ticker_all(["KRW", "BTC", "USDT"])
        assert {t.market for t in everything.models(RestTicker)} >= set(codes)
        book = (await client.orderbook(codes[:1])).json()
        assert book[0]["market"] == codes[0]
        assert all(isinstance(u["ask_price"], Decimal | int) for u in book[0]["orderbook_units"])
        # the body is exactly what the server sent
        async with httpx.AsyncClient() as http:
            direct = await http.get(f"{sim.rest_url}/v1/market/all", params={"is_details": "true"})
        assert listing.content == direct.content
        assert listing.remaining is not None
        assert listing.remaining.group == "market"


async def test_paces_itself_so_upbit_never_answers_429(sim: Simulator) -> None:
    async with _client(sim) as client:
        market = await _a_market(client)
        before = await _server_statuses(sim)
        started = time.monotonic()
        await asyncio.gather(*(client.candles_days(market, count=1) for _ in range(35)))
        elapsed = time.monotonic() - started
    after = await _server_statuses(sim)
    assert after.get("429", 0) == before.get("429", 0)
    assert client.stats.statuses[429] == 0
    assert after["200"] - before["200"] == 35
    # 35 requests at 10 per window (1.1 s): at least three full windows went by
    assert elapsed >= 3.0
    assert client.stats.rate_limit_wait_s > 0


async def test_remaining_req_header_alone_keeps_a_fast_client_within_the_limit(sim: Simulator) -> None:
    # No client-side budget to speak of: only the server's `sec=` countdown can keep it from a 429.
    async with _client(sim, rate_per_second=1000) as client:
        market = await _a_market(client)
        for _ in range(25):
            response = await client.candles_days(market, count=1)
            assert response.remaining is not None
    assert client.stats.statuses[429] == 0
    assert client.stats.statuses[200] == 26


async def test_learns_group_names_from_the_header(sim: Simulator) -> None:
    async with _client(sim) as client:
        market = await _a_market(client)
        response = await client.trades_ticks(market, count=5)
        assert response.remaining is not None
        assert response.remaining.group == "crix-trades"
        assert client.limits.group_for("/v1/trades/ticks") == "crix-trades"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_retries_429_and_5xx_with_backoff(sim: Simulator, status: int) -> None:
    async with _client(sim) as client:
        market = await _a_market(client)
        await _fault(sim, status=status, count=3)
        response = await client.candles_days(market, count=2)
        assert len(response.json()) == 2
        assert response.attempts == 4
    assert client.stats.statuses[status] == 3
    assert client.stats.retries == 3
    assert client.stats.backoff_wait_s > 0


async def test_418_backs_off_harder(sim: Simulator) -> None:
    async with _client(sim, backoff_base=0.05, backoff_cap=0.2) as client:
        market = await _a_market(client)
        await _fault(sim, status=418, count=1)
        started = time.monotonic()
        response = await client.candles_days(market, count=1)
        waited = time.monotonic() - started
    assert response.attempts == 2
    assert client.stats.statuses[418] == 1
    assert waited >= 0.2  # 8 x base, with jitter >= half


async def test_outage_for_a_while_is_ridden_out(sim: Simulator) -> None:
    async with _client(sim, backoff_base=0.1, backoff_cap=0.4, max_retries=20) as client:
        market = await _a_market(client)
        await _fault(sim, status=503, seconds=1.5)
        response = await client.ticker([market])
    assert response.json()[0]["market"] == market
    assert client.stats.statuses[503] >= 2


async def test_gives_up_after_max_retries(sim: Simulator) -> None:
    async with _client(sim, max_retries=2) as client:
        market = await _a_market(client)
        await _fault(sim, status=500, count=50)
        with pytest.raises(UpbitRetriesExhausted) as info:
            await client.candles_days(market, count=1)
    assert info.value.attempts == 3
    assert "HTTP 500" in info.value.last


async def test_client_errors_are_not_retried(sim: Simulator) -> None:
    async with _client(sim) as client:
        with pytest.raises(UpbitHTTPError) as info:
            await client.ticker(["KRW-NOPE"])
    assert info.value.status == 404
    assert client.stats.requests == 1


async def test_transport_errors_are_retried_then_reported() -> None:
    async with UpbitRestClient("http://127.0.0.1:9", max_retries=2, backoff_base=0.01, timeout=1.0) as client:
        with pytest.raises(UpbitRetriesExhausted, match="ConnectError"):
            await client.market_all()
    assert client.stats.transport_errors == 3


async def test_candle_paging_walks_back_without_gaps_or_duplicates(sim: Simulator) -> None:
    async with _client(sim) as client:
        market = await _a_market(client)
        newest = (await client.candles_days(market, count=1)).json()[0]["candle_date_time_utc"]
        until = dt.datetime.fromisoformat(newest).replace(tzinfo=UTC)  # only closed days
        since = until - dt.timedelta(days=450)
        starts: list[dt.datetime] = []
        pages = 0
        async for page in client.iter_candles("days", market, since=since, until=until, count=200):
            pages += 1
            for candle in page.response.models(RestCandleDay):
                assert candle.market == market
            starts += [s for s in page.starts if s >= since]
    assert pages == 3  # 450 days at 200 per page
    assert len(starts) == len(set(starts)) == 450
    assert starts == sorted(starts, reverse=True)
    assert starts[0] == until - dt.timedelta(days=1)
    assert starts[-1] == since
    assert all(a - b == dt.timedelta(days=1) for a, b in itertools.pairwise(starts))


async def test_candle_paging_stops_where_history_ends(sim: Simulator) -> None:
    async with _client(sim) as client:
        market = await _a_market(client)
        pages = [p async for p in client.iter_candles("days", market, count=200)]
    total = sum(len(p.starts) for p in pages)
    assert len(pages[-1].starts) < 200
    assert total == 501  # history_days=500 plus today


async def test_minute_candles_page_with_to_and_count(sim: Simulator) -> None:
    async with _client(sim) as client:
        market = await _a_market(client)
        until = dt.datetime.now(UTC).replace(second=0, microsecond=0) - dt.timedelta(hours=1)
        since = until - dt.timedelta(minutes=450)
        starts = [
            s
            async for page in client.iter_candles("minutes/1", market, since=since, until=until)
            for s in page.starts
            if s >= since
        ]
    assert len(starts) == len(set(starts))
    assert all(since <= s < until for s in starts)
    assert starts == sorted(starts, reverse=True)


async def test_trade_cursor_paging(sim: Simulator) -> None:
    async with _client(sim) as client:
        market = await _a_market(client)
        ids: list[int] = []
        times: list[int] = []
        pages = 0
        async for page in client.iter_trades(market, count=20, max_pages=4):
            pages += 1
            trades = page.response.models(RestTradeTick)
            ids += [t.sequential_id for t in trades]
            times += [t.timestamp for t in trades]
            if trades:
                assert page.cursor == trades[-1].sequential_id
    assert pages == 4
    assert len(ids) == len(set(ids)) == 80
    assert times == sorted(times, reverse=True)
