"""REST endpoints: field sets, ordering, pagination, limits and errors, decoded with the contracts models."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from cryptoflow_contracts.rest import (
    RemainingReq,
    RestCandleDay,
    RestCandleMinute,
    RestCandleMonth,
    RestCandleSecond,
    RestCandleWeek,
    RestCandleYear,
    RestMarket,
    RestOrderbook,
    RestOrderbookInstrument,
    RestTicker,
    RestTradeTick,
    parse_rest_error,
    parse_rest_list,
)
from upbit_sim import Simulator


async def _get(http: httpx.AsyncClient, sim: Simulator, path: str, **params: Any) -> httpx.Response:
    return await http.get(f"{sim.rest_url}{path}", params=params)


@pytest.mark.parametrize("param", ["is_details", "isDetails"])
async def test_market_all_with_details(sim: Simulator, http: httpx.AsyncClient, param: str) -> None:
    response = await _get(http, sim, "/v1/market/all", **{param: "true"})
    markets = parse_rest_list(response.content, RestMarket)
    assert [m.market for m in markets] == ["KRW-BTC", "KRW-ETH", "KRW-XRP", "BTC-ETH"]
    assert markets[0].korean_name == "비트코인"
    assert markets[0].english_name == "Bitcoin"
    assert all(m.market_event is not None for m in markets)
    plain = (await _get(http, sim, "/v1/market/all")).json()
    assert set(plain[0]) == {"market", "korean_name", "english_name"}


async def test_remaining_req_on_every_response_with_upbit_groups(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    for path, params, group in [
        ("/v1/market/all", {}, "market"),
        ("/v1/ticker", {"markets": "KRW-BTC"}, "ticker"),
        ("/v1/ticker/all", {"quote_currencies": "KRW"}, "ticker"),
        ("/v1/candles/minutes/1", {"market": "KRW-BTC"}, "candles"),
        ("/v1/trades/ticks", {"market": "KRW-BTC"}, "crix-trades"),
        ("/v1/orderbook", {"markets": "KRW-BTC"}, "orderbook"),
        ("/v1/orderbook/instruments", {"markets": "KRW-BTC"}, "orderbook"),
        ("/v1/ticker", {"markets": "KRW-NOPE"}, "ticker"),
    ]:
        response = await _get(http, sim, path, **params)
        header = RemainingReq.parse(response.headers["Remaining-Req"])
        assert header.group == group, path
        assert 0 <= header.sec <= 9, path
        assert response.headers["Content-Type"].startswith("application/json")


async def test_ticker_and_ticker_all(sim: Simulator, http: httpx.AsyncClient) -> None:
    tickers = parse_rest_list(
        (await _get(http, sim, "/v1/ticker", markets="KRW-ETH,KRW-BTC")).content, RestTicker
    )
    assert [t.market for t in tickers] == ["KRW-ETH", "KRW-BTC"]
    body = (await _get(http, sim, "/v1/ticker", markets="KRW-BTC")).json()[0]
    assert "ask_bid" not in body
    assert "stream_type" not in body
    assert "acc_ask_volume" not in body
    krw = parse_rest_list(
        (await _get(http, sim, "/v1/ticker/all", quote_currencies="KRW")).content, RestTicker
    )
    assert [t.market for t in krw] == ["KRW-BTC", "KRW-ETH", "KRW-XRP"]
    both = (await _get(http, sim, "/v1/ticker/all", quote_currencies="BTC,KRW")).json()
    assert [t["market"] for t in both] == ["BTC-ETH", "KRW-BTC", "KRW-ETH", "KRW-XRP"]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/v1/ticker", {"markets": "KRW-BTC,KRW-NOPE"}, 404),
        ("/v1/ticker", {}, 400),
        ("/v1/ticker/all", {}, 400),
        ("/v1/ticker/all", {"quote_currencies": "EUR"}, 404),
        ("/v1/candles/minutes/2", {"market": "KRW-BTC"}, 400),
        ("/v1/candles/minutes/1", {"market": "KRW-NOPE"}, 404),
        ("/v1/candles/minutes/1", {}, 400),
        ("/v1/candles/days", {"market": "KRW-BTC", "count": "0"}, 400),
        ("/v1/candles/days", {"market": "KRW-BTC", "count": "many"}, 400),
        ("/v1/candles/days", {"market": "KRW-BTC", "to": "yesterday"}, 400),
        ("/v1/candles/days", {"market": "KRW-BTC", "converting_price_unit": "USD"}, 400),
        ("/v1/trades/ticks", {"market": "KRW-BTC", "days_ago": "8"}, 400),
        ("/v1/trades/ticks", {"market": "KRW-BTC", "days_ago": "0"}, 400),
        ("/v1/trades/ticks", {"market": "KRW-BTC", "to": "25:00:00"}, 400),
        ("/v1/trades/ticks", {"market": "KRW-BTC", "cursor": "abc"}, 400),
        ("/v1/trades/ticks", {"market": "KRW-NOPE"}, 404),
        ("/v1/orderbook", {"markets": "KRW-NOPE"}, 404),
        ("/v1/orderbook", {"markets": "KRW-BTC", "level": "123"}, 400),
        ("/v1/orderbook", {"markets": "BTC-ETH", "level": "10000"}, 400),
        ("/v1/orderbook/instruments", {}, 400),
        ("/v1/market/all", {"is_details": "maybe"}, 400),
    ],
)
async def test_errors_use_upbit_error_body(
    sim: Simulator, http: httpx.AsyncClient, path: str, params: dict[str, str], status: int
) -> None:
    response = await _get(http, sim, path, **params)
    assert response.status_code == status
    error = parse_rest_error(response.content).error
    assert error.name == status
    assert error.message
    if status == 404:
        assert error.message == "Code not found"


async def test_minute_candles_paginate_with_exclusive_to(sim: Simulator, http: httpx.AsyncClient) -> None:
    first = parse_rest_list(
        (await _get(http, sim, "/v1/candles/minutes/1", market="KRW-BTC", count=5)).content, RestCandleMinute
    )
    assert len(first) == 5
    assert all(c.unit == 1 for c in first)
    starts = [c.candle_date_time_utc for c in first]
    assert starts == sorted(starts, reverse=True)
    # `to` is exclusive: asking up to the oldest returned bucket continues right before it
    older = parse_rest_list(
        (await _get(http, sim, "/v1/candles/minutes/1", market="KRW-BTC", count=5, to=starts[-1])).content,
        RestCandleMinute,
    )
    assert older[0].candle_date_time_utc < starts[-1]
    assert not {c.candle_date_time_utc for c in older} & set(starts)
    # an offset is honoured: the same instant in KST
    t = datetime.fromisoformat(starts[-1]).replace(tzinfo=UTC)
    kst = (t + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S+09:00")
    same = (await _get(http, sim, "/v1/candles/minutes/1", market="KRW-BTC", count=5, to=kst)).json()
    assert [c["candle_date_time_utc"] for c in same] == [c.candle_date_time_utc for c in older]
    assert (
        older[0].candle_date_time_kst
        == (datetime.fromisoformat(older[0].candle_date_time_utc) + timedelta(hours=9)).isoformat()
    )


async def test_count_is_capped_like_upbit(sim: Simulator, http: httpx.AsyncClient) -> None:
    assert len((await _get(http, sim, "/v1/candles/minutes/1", market="KRW-BTC", count=500)).json()) == 200
    assert len((await _get(http, sim, "/v1/trades/ticks", market="KRW-BTC", count=1000)).json()) <= 500
    assert (
        len(
            (await _get(http, sim, "/v1/orderbook", markets="KRW-BTC", count=99)).json()[0]["orderbook_units"]
        )
        == 30
    )


@pytest.mark.parametrize("unit", [1, 3, 5, 10, 15, 30, 60, 240])
async def test_every_minute_unit_buckets_align(sim: Simulator, http: httpx.AsyncClient, unit: int) -> None:
    candles = parse_rest_list(
        (await _get(http, sim, f"/v1/candles/minutes/{unit}", market="KRW-XRP", count=20)).content,
        RestCandleMinute,
    )
    assert candles
    assert all(c.unit == unit for c in candles)
    for c in candles:
        t = datetime.fromisoformat(c.candle_date_time_utc)
        assert (t.hour * 60 + t.minute) % unit == 0
        assert t.second == 0
        assert (
            c.low_price
            <= min(c.opening_price, c.trade_price)
            <= max(c.opening_price, c.trade_price)
            <= c.high_price
        )


async def test_seconds_days_weeks_months_years(sim: Simulator, http: httpx.AsyncClient) -> None:
    await http.post(f"{sim.admin_url}/generator/pause")  # the sums below compare answers taken one by one
    seconds = parse_rest_list(
        (await _get(http, sim, "/v1/candles/seconds", market="KRW-BTC", count=10)).content, RestCandleSecond
    )
    assert seconds
    assert "unit" not in (await _get(http, sim, "/v1/candles/seconds", market="KRW-BTC")).json()[0]
    days = parse_rest_list(
        (await _get(http, sim, "/v1/candles/days", market="KRW-BTC", count=200)).content, RestCandleDay
    )
    weeks = parse_rest_list(
        (await _get(http, sim, "/v1/candles/weeks", market="KRW-BTC", count=200)).content, RestCandleWeek
    )
    months = parse_rest_list(
        (await _get(http, sim, "/v1/candles/months", market="KRW-BTC", count=200)).content, RestCandleMonth
    )
    years = parse_rest_list(
        (await _get(http, sim, "/v1/candles/years", market="KRW-BTC")).content, RestCandleYear
    )
    assert all(datetime.fromisoformat(w.first_day_of_period).weekday() == 0 for w in weeks)
    assert all(m.first_day_of_period.endswith("-01") for m in months)
    assert years[0].first_day_of_period.endswith("-01-01")
    assert sum(w.candle_acc_trade_volume for w in weeks) == sum(d.candle_acc_trade_volume for d in days)
    assert sum(m.candle_acc_trade_price for m in months) == sum(d.candle_acc_trade_price for d in days)
    assert weeks[0].trade_price == days[0].trade_price
    assert weeks[-1].opening_price == days[-1].opening_price


async def test_day_candles_convert_btc_markets_to_krw(sim: Simulator, http: httpx.AsyncClient) -> None:
    days = (
        await _get(http, sim, "/v1/candles/days", market="BTC-ETH", count=3, converting_price_unit="KRW")
    ).json()
    assert all("converted_trade_price" in d for d in days)


async def test_trades_ticks_cursor_and_days_ago(make_sim: Any, http: httpx.AsyncClient) -> None:
    sim = await make_sim(history_minutes=30, history_rate=20)
    page = parse_rest_list(
        (await _get(http, sim, "/v1/trades/ticks", market="KRW-BTC", count=50)).content, RestTradeTick
    )
    assert len(page) == 50
    keys = [(t.timestamp, t.sequential_id) for t in page]
    assert keys == sorted(keys, reverse=True)
    nxt = parse_rest_list(
        (
            await _get(
                http, sim, "/v1/trades/ticks", market="KRW-BTC", count=50, cursor=page[-1].sequential_id
            )
        ).content,
        RestTradeTick,
    )
    assert nxt
    assert (nxt[0].timestamp, nxt[0].sequential_id) < keys[-1]
    assert not {t.sequential_id for t in nxt} & {t.sequential_id for t in page}
    for t in page:
        assert t.change_price == t.trade_price - t.prev_closing_price  # signed in REST
    # `to` within the day (HH:mm:ss or HHmmss) is an exclusive end
    hhmmss = page[10].trade_time_utc
    before = (
        await _get(http, sim, "/v1/trades/ticks", market="KRW-BTC", count=5, to=hhmmss.replace(":", ""))
    ).json()
    assert all(t["trade_time_utc"] < hhmmss for t in before)
    # a week ago there were no generated trades
    assert (await _get(http, sim, "/v1/trades/ticks", market="KRW-BTC", days_ago=7)).json() == []


async def test_orderbook_count_level_and_instruments(sim: Simulator, http: httpx.AsyncClient) -> None:
    books = parse_rest_list(
        (await _get(http, sim, "/v1/orderbook", markets="KRW-BTC,KRW-ETH", count=5)).content, RestOrderbook
    )
    assert [b.market for b in books] == ["KRW-BTC", "KRW-ETH"]
    assert all(len(b.orderbook_units) == 5 and b.level == 0 for b in books)
    assert books[0].total_ask_size == sum(u.ask_size for u in books[0].orderbook_units)
    raw = json.loads((await _get(http, sim, "/v1/orderbook", markets="KRW-BTC")).text, parse_float=Decimal)
    assert isinstance(raw[0]["orderbook_units"][0]["ask_price"], int)  # integer-looking, as Upbit writes them
    instruments = parse_rest_list(
        (await _get(http, sim, "/v1/orderbook/instruments", markets="KRW-BTC,BTC-ETH")).content,
        RestOrderbookInstrument,
    )
    assert instruments[0].tick_size == 1000
    assert instruments[0].supported_levels[:3] == [0, 10000, 100000]
    assert instruments[1].quote_currency == "BTC"
    assert instruments[1].supported_levels == [0]
    raw = (await _get(http, sim, "/v1/orderbook/instruments", markets="KRW-BTC")).json()
    assert raw[0]["tick_size"] == "1000"
    assert raw[0]["supported_levels"][:2] == [
        "0",
        "10000",
    ]
    grouped = (await _get(http, sim, "/v1/orderbook", markets="KRW-BTC", level="100000")).json()[0]
    assert grouped["level"] == 100000
    assert all(u["ask_price"] % 100000 == 0 for u in grouped["orderbook_units"])


async def test_buckets_without_trades_are_missing(sim: Simulator, http: httpx.AsyncClient) -> None:
    # BTC-ETH is a thin market: some of its minutes have no trades, so 200 candles span more than 200 minutes
    to = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S")
    candles = (await _get(http, sim, "/v1/candles/minutes/1", market="BTC-ETH", count=200, to=to)).json()
    assert len(candles) == 200
    first = datetime.fromisoformat(candles[0]["candle_date_time_utc"])
    last = datetime.fromisoformat(candles[-1]["candle_date_time_utc"])
    assert (first - last) > timedelta(minutes=199)


async def test_trades_paged_through_rest_are_every_generated_trade(
    make_sim: Any, http: httpx.AsyncClient, kit: Any
) -> None:
    """A backfill that pages with `cursor` gets every trade, even those whose frames came out of order."""
    sim = await make_sim(out_of_order_rate=0.2, rate=400, history_minutes=0)
    await asyncio.sleep(1.0)
    await kit.admin(sim, "POST", "/generator/pause")
    paged: list[int] = []
    cursor: int | None = None
    while True:
        params: dict[str, Any] = {"market": "KRW-BTC", "count": 7}
        if cursor is not None:
            params["cursor"] = cursor
        page = (await _get(http, sim, "/v1/trades/ticks", **params)).json()
        if not page:
            break
        paged += [t["sequential_id"] for t in page]
        cursor = page[-1]["sequential_id"]
    generated = [
        t["sequential_id"] for t in (await kit.admin(sim, "GET", "/trades?market=KRW-BTC"))["trades"]
    ]
    assert paged == generated
    assert len(paged) > 20
