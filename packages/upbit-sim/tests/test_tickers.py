"""Every listed market has a ticker, traded yet or not (as on Upbit), in REST and in the WS snapshot."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from cryptoflow_contracts.rest import RestCandleDay, RestTicker, parse_rest_list
from cryptoflow_contracts.ws import WsTicker, parse_ws_frame
from upbit_sim import Simulator

FIELDS = (
    "trade_price", "opening_price", "high_price", "low_price", "prev_closing_price", "change_price",
    "signed_change_price", "change_rate", "signed_change_rate", "trade_volume", "acc_trade_price",
    "acc_trade_volume", "acc_trade_volume_24h", "acc_trade_price_24h", "trade_timestamp",
    "highest_52_week_price", "lowest_52_week_price", "trade_date", "trade_time",
)  # fmt: skip


async def _untraded(sim: Simulator, kit: Any) -> list[str]:
    stats = await kit.admin(sim, "GET", "/stats")
    return sorted(code for code, m in stats["markets"].items() if m["trades_in_memory"] == 0)


async def test_ticker_all_has_every_listed_market(make_sim: Any, kit: Any, http: httpx.AsyncClient) -> None:
    # many markets, few events: most markets have not traded since the fine window began
    sim = await make_sim(markets=300, rate=1, history_minutes=1, history_rate=2)
    await kit.admin(sim, "POST", "/generator/pause")
    untraded = await _untraded(sim, kit)
    assert len(untraded) > 100, "the test needs markets that have not traded"
    listed = (await http.get(f"{sim.rest_url}/v1/market/all")).json()
    per_quote = Counter(m["market"].split("-", 1)[0] for m in listed)
    assert set(per_quote) == {"KRW", "BTC", "USDT"}
    for quote, count in per_quote.items():
        response = await http.get(f"{sim.rest_url}/v1/ticker/all", params={"quote_currencies": quote})
        tickers = parse_rest_list(response.content, RestTicker)
        assert len(tickers) == count, quote
        assert {t.market for t in tickers} == {
            m["market"] for m in listed if m["market"].startswith(f"{quote}-")
        }
    codes = untraded[:50]
    response = await http.get(f"{sim.rest_url}/v1/ticker", params={"markets": ",".join(codes)})
    assert sorted(t.market for t in parse_rest_list(response.content, RestTicker)) == codes


async def test_untraded_market_ticker_agrees_with_ws_snapshot_and_day_candle(
    make_sim: Any, kit: Any, http: httpx.AsyncClient
) -> None:
    sim = await make_sim(markets=120, rate=1, history_minutes=1, history_rate=1)
    await kit.admin(sim, "POST", "/generator/pause")
    codes = (await _untraded(sim, kit))[:10]
    assert codes, "the test needs markets that have not traded"
    ws = await kit.subscribe(sim, {"type": "ticker", "codes": codes})
    snapshots = {
        f.code: f for f in map(parse_ws_frame, await kit.collect(ws, 0.5)) if isinstance(f, WsTicker)
    }
    await ws.close()
    assert sorted(snapshots) == codes
    response = await http.get(f"{sim.rest_url}/v1/ticker", params={"markets": ",".join(codes)})
    for rt in parse_rest_list(response.content, RestTicker):
        wt = snapshots[rt.market]
        assert wt.stream_type == "SNAPSHOT"
        for field in FIELDS:
            assert getattr(rt, field) == getattr(wt, field), (rt.market, field)
        assert rt.trade_volume <= rt.acc_trade_volume or rt.acc_trade_volume == 0
        days = parse_rest_list(
            (await http.get(f"{sim.rest_url}/v1/candles/days", params={"market": rt.market})).content,
            RestCandleDay,
        )
        day = days[0]
        assert day.trade_price == rt.trade_price
        if rt.acc_trade_volume:  # today has traded (in the synthetic past): the day candle is today's figures
            assert day.candle_date_time_utc.replace("-", "")[:8] == rt.trade_date
            assert (day.opening_price, day.high_price, day.low_price) == (
                rt.opening_price,
                rt.high_price,
                rt.low_price,
            )
            assert day.candle_acc_trade_volume == rt.acc_trade_volume
            assert day.candle_acc_trade_price == rt.acc_trade_price
            assert day.prev_closing_price == rt.prev_closing_price
