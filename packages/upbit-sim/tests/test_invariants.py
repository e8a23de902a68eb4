"""Generated data satisfies the invariants of the samples README, frame by frame and against REST."""

from __future__ import annotations

import itertools
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from cryptoflow_contracts.rest import (
    RestCandleDay,
    RestCandleMinute,
    RestOrderbook,
    RestTicker,
    RestTradeTick,
    parse_rest_list,
)
from cryptoflow_contracts.ticks import krw_tick_size
from cryptoflow_contracts.ws import WsOrderbook, WsTicker, WsTrade, parse_ws_frame
from upbit_sim import Simulator
from upbit_sim.ticks import tick_size

CODES = ["KRW-BTC", "KRW-ETH", "KRW-XRP", "BTC-ETH", "USDT-BTC"]


async def _stream(sim: Simulator, kit: Any, events: int, *, fmt: str = "DEFAULT") -> list[Any]:
    """Pause the generator, subscribe to everything, step `events` events, decode every frame."""
    await kit.admin(sim, "POST", "/generator/pause")
    ws = await kit.subscribe(
        sim, *({"type": t, "codes": CODES} for t in ("trade", "ticker", "orderbook")), fmt=fmt
    )
    frames = await kit.collect(ws, 0.3)  # snapshots
    await kit.admin(sim, "POST", "/generator/step", {"events": events})
    frames += await kit.collect(ws, 0.5)
    await ws.close()
    return [parse_ws_frame(f) for f in frames]


def _on_grid(code: str, price: Decimal) -> bool:
    quote = code.split("-", maxsplit=1)[0]
    tick = krw_tick_size(price) if quote == "KRW" else tick_size(quote, price)
    return price % tick == 0


async def test_frames_keep_the_sample_invariants(make_sim: Any, kit: Any) -> None:
    sim = await make_sim(markets=5, out_of_order_rate=0.0)
    frames = await _stream(sim, kit, 600)
    trades = [f for f in frames if isinstance(f, WsTrade) and f.stream_type == "REALTIME"]
    tickers = [f for f in frames if isinstance(f, WsTicker) and f.stream_type == "REALTIME"]
    books = [f for f in frames if isinstance(f, WsOrderbook)]
    assert len(trades) > 100
    assert len(tickers) == len(trades)
    assert len(books) > 200

    for t in trades:
        assert t.trade_price == (t.best_ask_price if t.ask_bid == "BID" else t.best_bid_price)
        assert t.change_price == abs(t.trade_price - t.prev_closing_price)
        assert t.change == (
            "RISE"
            if t.trade_price > t.prev_closing_price
            else "FALL"
            if t.trade_price < t.prev_closing_price
            else "EVEN"
        )
        assert len(str(t.sequential_id)) == 17
        assert t.sequential_id // 10000 == t.trade_timestamp
        assert _on_grid(t.code, t.trade_price)
        assert t.timestamp >= t.trade_timestamp
    assert len({(t.code, t.sequential_id) for t in trades}) == len(trades)

    by_key = {(t.code, t.trade_timestamp, t.sequential_id): t for t in trades}
    for k in tickers:
        assert k.acc_ask_volume + k.acc_bid_volume == k.acc_trade_volume
        assert k.signed_change_price == k.trade_price - k.prev_closing_price
        assert k.change_price == abs(k.signed_change_price)
        assert k.change_rate == abs(k.signed_change_rate)
        expected = (k.signed_change_price / k.prev_closing_price).quantize(Decimal("1E-10"), ROUND_HALF_UP)
        assert k.signed_change_rate == expected
        assert k.low_price <= k.trade_price <= k.high_price
        assert k.lowest_52_week_price <= k.low_price
        assert k.high_price <= k.highest_52_week_price
        # each ticker matches exactly one trade frame
        match = [t for key, t in by_key.items() if key[0] == k.code and key[1] == k.trade_timestamp]
        assert any(
            t.trade_price == k.trade_price and t.trade_volume == k.trade_volume and t.ask_bid == k.ask_bid
            for t in match
        )

    for b in books:
        units = b.orderbook_units
        assert b.total_ask_size == sum(u.ask_size for u in units)
        assert b.total_bid_size == sum(u.bid_size for u in units)
        assert units[0].bid_price < units[0].ask_price
        asks = [u.ask_price for u in units]
        bids = [u.bid_price for u in units]
        assert asks == sorted(set(asks))
        assert bids == sorted(set(bids), reverse=True)
        assert all(_on_grid(b.code, p) for p in asks + bids)

    # acc volumes only grow within a day, per market
    last: dict[str, Decimal] = {}
    for k in tickers:
        assert k.acc_trade_volume > last.get(k.code, Decimal(-1))
        last[k.code] = k.acc_trade_volume


async def test_default_and_simple_decode_to_the_same_records(sim: Simulator, kit: Any) -> None:
    await kit.admin(sim, "POST", "/generator/pause")
    items = [
        {"type": t, "codes": CODES[:3], "is_only_realtime": True} for t in ("trade", "ticker", "orderbook")
    ]
    default = await kit.subscribe(sim, *items)
    simple = await kit.subscribe(sim, *items, fmt="SIMPLE")
    await kit.admin(sim, "POST", "/generator/step", {"events": 200})
    a = [parse_ws_frame(f) for f in await kit.collect(default, 0.5)]
    b = [parse_ws_frame(f) for f in await kit.collect(simple, 0.5)]
    assert len(a) > 100
    assert a == b


async def test_rest_agrees_with_what_the_websocket_sent(
    sim: Simulator, kit: Any, http: httpx.AsyncClient
) -> None:
    frames = await _stream(sim, kit, 300)
    last_ticker = {f.code: f for f in frames if isinstance(f, WsTicker)}
    last_book = {f.code: f for f in frames if isinstance(f, WsOrderbook)}
    ws_trades = defaultdict(set)
    for f in frames:
        if isinstance(f, WsTrade):
            ws_trades[f.code].add(f.sequential_id)
    codes = ",".join(CODES[:4])
    tickers = parse_rest_list(
        (await http.get(f"{sim.rest_url}/v1/ticker", params={"markets": codes})).content, RestTicker
    )
    books = parse_rest_list(
        (await http.get(f"{sim.rest_url}/v1/orderbook", params={"markets": codes})).content, RestOrderbook
    )
    for rt in tickers:
        wt = last_ticker[rt.market]
        for field in (
            "trade_price", "opening_price", "high_price", "low_price", "prev_closing_price", "change_price",
            "signed_change_price", "change_rate", "signed_change_rate", "trade_volume", "acc_trade_price",
            "acc_trade_volume", "acc_trade_volume_24h", "acc_trade_price_24h", "trade_timestamp",
            "highest_52_week_price", "lowest_52_week_price",
        ):  # fmt: skip
            assert getattr(rt, field) == getattr(wt, field), field
        assert rt.trade_date == wt.trade_date
        assert rt.trade_time == wt.trade_time
    for rb in books:
        wb = last_book[rb.market]
        assert rb.timestamp == wb.timestamp
        assert rb.total_ask_size == wb.total_ask_size
        assert rb.total_bid_size == wb.total_bid_size
        assert [(u.ask_price, u.bid_price, u.ask_size, u.bid_size) for u in rb.orderbook_units] == [
            (u.ask_price, u.bid_price, u.ask_size, u.bid_size) for u in wb.orderbook_units
        ]
    for code in CODES[:4]:
        response = await http.get(f"{sim.rest_url}/v1/trades/ticks", params={"market": code, "count": 500})
        rest_ids = {t.sequential_id for t in parse_rest_list(response.content, RestTradeTick)}
        assert ws_trades[code]
        assert ws_trades[code] <= rest_ids
        day = parse_rest_list(
            (await http.get(f"{sim.rest_url}/v1/candles/days", params={"market": code})).content,
            RestCandleDay,
        )[0]
        minute = parse_rest_list(
            (await http.get(f"{sim.rest_url}/v1/candles/minutes/1", params={"market": code})).content,
            RestCandleMinute,
        )[0]
        wt = last_ticker[code]
        assert day.candle_acc_trade_volume == wt.acc_trade_volume
        assert (day.trade_price, day.high_price, day.low_price) == (
            wt.trade_price,
            wt.high_price,
            wt.low_price,
        )
        assert day.opening_price == wt.opening_price
        assert day.candle_acc_trade_price == wt.acc_trade_price
        assert minute.trade_price == wt.trade_price


async def test_day_candles_chain_and_aggregate(sim: Simulator, http: httpx.AsyncClient) -> None:
    days = parse_rest_list(
        (
            await http.get(f"{sim.rest_url}/v1/candles/days", params={"market": "KRW-ETH", "count": 200})
        ).content,
        RestCandleDay,
    )
    assert len(days) == 61  # 60 days of history + today
    for newer, older in itertools.pairwise(days):
        assert newer.prev_closing_price == older.trade_price
        assert newer.change_price == newer.trade_price - newer.prev_closing_price
        assert older.low_price <= min(older.opening_price, older.trade_price)
        assert max(older.opening_price, older.trade_price) <= older.high_price
    # minutes of a past (coarse) day add up to its day candle exactly
    past = days[3]
    next_day = days[2].candle_date_time_utc[:10]
    response = await http.get(
        f"{sim.rest_url}/v1/candles/minutes/240",
        params={"market": "KRW-ETH", "to": f"{next_day}T00:00:00Z", "count": 12},
    )
    minutes = [
        c
        for c in parse_rest_list(response.content, RestCandleMinute)
        if c.candle_date_time_utc.startswith(past.candle_date_time_utc[:10])
    ]
    assert len(minutes) == 6
    assert sum(c.candle_acc_trade_volume for c in minutes) == past.candle_acc_trade_volume
    assert sum(c.candle_acc_trade_price for c in minutes) == past.candle_acc_trade_price
    assert max(c.high_price for c in minutes) == past.high_price
    assert min(c.low_price for c in minutes) == past.low_price
    assert minutes[-1].opening_price == past.opening_price
    assert minutes[0].trade_price == past.trade_price


async def test_out_of_order_trade_frames_like_upbit(make_sim: Any, kit: Any) -> None:
    sim = await make_sim(markets=2, out_of_order_rate=0.2)
    frames = await _stream(sim, kit, 400)
    trades = [f for f in frames if isinstance(f, WsTrade) and f.stream_type == "REALTIME"]
    swaps = sum(
        1 for a, b in itertools.pairwise(trades) if a.code == b.code and a.sequential_id > b.sequential_id
    )
    assert swaps > 3
    assert len({t.sequential_id for t in trades}) == len(trades)
    # tickers stay in trade order
    tickers = [f for f in frames if isinstance(f, WsTicker) and f.stream_type == "REALTIME"]
    for code in ("KRW-BTC", "KRW-ETH"):
        ts = [k.trade_timestamp for k in tickers if k.code == code]
        assert ts == sorted(ts)
