"""The market model: catalogue, tick grids, listing and delisting, determinism, every trade accounted for."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from cryptoflow_contracts.ticks import KRW_TICK_TABLE, krw_tick_size
from upbit_sim import SimConfig
from upbit_sim.catalog import build_catalog
from upbit_sim.engine import Engine
from upbit_sim.faults import Faults
from upbit_sim.hub import Hub
from upbit_sim.ticks import _KRW, on_grid, round_to_tick, step_down, step_up, tick_size


def test_catalog_starts_with_real_codes_and_spreads_quotes() -> None:
    markets = build_catalog(60, seed=3)
    assert [m.code for m in markets[:5]] == ["KRW-BTC", "KRW-ETH", "KRW-XRP", "BTC-ETH", "USDT-BTC"]
    quotes = [m.quote for m in markets]
    assert {"KRW", "BTC", "USDT"} == set(quotes)
    assert quotes.count("KRW") > quotes.count("BTC") > quotes.count("USDT")
    assert len({m.code for m in markets}) == 60
    assert all(m.korean_name and m.english_name and on_grid(m.quote, m.price) for m in markets)
    assert build_catalog(60, seed=3) == markets
    assert build_catalog(60, seed=4) != markets


KRW_PRICES = (
    "0.000012 0.00312 0.5 7.77 55.5 999 1000 4999 5000 9995 49990 99950 499900 999500 1000000 104862000"
)


@pytest.mark.parametrize("price", KRW_PRICES.split())
def test_krw_ticks_match_the_contracts_table(price: str) -> None:
    p = Decimal(price)
    assert tick_size("KRW", p) == krw_tick_size(p)


def test_krw_tick_tables_agree_at_every_band_edge() -> None:
    """The simulator keeps its own copy of the KRW table on purpose (a second implementation of the
    protocol, see the README); this holds the two copies equal at each edge of either table's bands."""
    edges = {low for low, _ in KRW_TICK_TABLE} | {low for low, _ in _KRW if low}
    for edge in sorted(edges):
        below = edge - krw_tick_size(edge) / 10
        for price in (edge, below, edge * 3 / 2):
            assert tick_size("KRW", price) == krw_tick_size(price), price


@pytest.mark.parametrize("quote", ["KRW", "BTC", "USDT"])
def test_steps_stay_on_the_grid_across_bands(quote: str) -> None:
    for start in (
        "0.0999",
        "0.99",
        "9.99",
        "99.9",
        "995",
        "4998",
        "9990",
        "49990",
        "99950",
        "499900",
        "999500",
    ):
        p = round_to_tick(quote, Decimal(start))
        up = step_up(quote, p, 3)
        down = step_down(quote, up, 3)
        assert on_grid(quote, up)
        assert on_grid(quote, down)
        assert down < up
        assert p <= up


async def test_delist_and_list_during_the_run(sim: Any, kit: Any, http: httpx.AsyncClient) -> None:
    ws = await kit.subscribe(
        sim, {"type": "trade", "codes": ["KRW-XRP", "KRW-NEWCOIN"], "is_only_realtime": True}
    )
    await kit.admin(sim, "POST", "/markets/KRW-XRP/delist")
    await kit.collect(ws, 0.2)
    assert await kit.collect(ws, 0.5) == []
    markets = [m["market"] for m in (await http.get(f"{sim.rest_url}/v1/market/all")).json()]
    assert "KRW-XRP" not in markets
    assert (await http.get(f"{sim.rest_url}/v1/ticker", params={"markets": "KRW-XRP"})).status_code == 404
    listed = await kit.admin(
        sim, "POST", "/markets", {"market": "KRW-NEWCOIN", "korean_name": "뉴코인", "price": "1234.5"}
    )
    assert listed["price"] == 1235
    ticker = (await http.get(f"{sim.rest_url}/v1/ticker", params={"markets": "KRW-NEWCOIN"})).json()[0]
    assert ticker["prev_closing_price"] == 1235.0
    assert any(json.loads(f)["code"] == "KRW-NEWCOIN" for f in await kit.collect(ws, 1.5))
    assert (await http.post(f"{sim.admin_url}/markets", json={"market": "KRW-NEWCOIN"})).status_code == 409
    assert (await http.post(f"{sim.admin_url}/markets/KRW-NOPE/delist")).status_code == 404
    states = {m["market"]: m["state"] for m in await kit.admin(sim, "GET", "/markets")}
    assert states["KRW-XRP"] == "DELISTED"
    assert states["KRW-NEWCOIN"] == "ACTIVE"
    stats = await kit.admin(sim, "GET", "/stats")
    assert (stats["markets_listed"], stats["markets_delisted"]) == (1, 1)
    await ws.close()


async def test_schedule_delists_on_time(make_sim: Any, kit: Any) -> None:
    sim = await make_sim(schedule=["0.2:delist:KRW-ETH", "0.3:list:USDT-XRP"])
    await asyncio.sleep(0.8)
    states = {m["market"]: m["state"] for m in await kit.admin(sim, "GET", "/markets")}
    assert states["KRW-ETH"] == "DELISTED"
    assert states["USDT-XRP"] == "ACTIVE"


async def test_admin_trades_account_for_every_trade_sent(sim: Any, kit: Any) -> None:
    """What an end-to-end 'nothing lost' test does: compare what a client got with what was generated."""
    codes = ["KRW-BTC", "KRW-ETH", "KRW-XRP", "BTC-ETH"]
    await kit.admin(sim, "POST", "/generator/pause")
    before = {
        c: m["last_sequential_id"] for c, m in (await kit.admin(sim, "GET", "/stats"))["markets"].items()
    }
    ws = await kit.subscribe(sim, {"type": "trade", "codes": codes, "is_only_realtime": True})
    await kit.admin(sim, "POST", "/generator/step", {"events": 300})
    got = {(f["code"], f["sequential_id"]) for f in map(json.loads, await kit.collect(ws, 0.5))}
    await ws.close()
    generated = set()
    for code in codes:
        body = await kit.admin(sim, "GET", f"/trades?market={code}&order=asc")
        ids = [t["sequential_id"] for t in body["trades"]]
        assert ids == sorted(ids)
        assert body["count"] == len(ids)
        generated |= {(code, i) for i in ids if i > before[code]}
    assert got == generated
    assert len(got) > 100
    stats = await kit.admin(sim, "GET", "/stats")
    assert sum(m["trades_generated"] for m in stats["markets"].values()) >= len(got)
    newest = await kit.admin(sim, "GET", "/trades?market=KRW-BTC&limit=3")
    assert newest["count"] == 3
    ids = [t["sequential_id"] for t in newest["trades"]]
    assert ids == sorted(ids, reverse=True)
    after = await kit.admin(sim, "GET", f"/trades?market=KRW-BTC&after={ids[1]}&order=asc")
    assert [t["sequential_id"] for t in after["trades"]] == [ids[0]]
    history = await kit.admin(sim, "GET", "/trades?market=KRW-BTC&history=true")
    assert history["count"] > (await kit.admin(sim, "GET", "/trades?market=KRW-BTC"))["count"]


def _events(seed: int) -> list[tuple[str, Decimal, Decimal, bool]]:
    cfg = SimConfig.relaxed(markets=6, seed=seed, history_minutes=2)
    engine = Engine(cfg, Hub(Faults()), build_catalog(6, seed), start_ms=1_790_000_000_000)
    engine.step(500)
    return [(m.code, t.price, t.vol, t.bid) for m in engine.markets.values() for t in m.trades]


def test_same_seed_same_run() -> None:
    a, b, c = _events(11), _events(11), _events(12)
    assert a == b
    assert len(a) > 300
    assert a != c


def test_same_sequence_whatever_the_batching() -> None:
    def run(batches: list[int]) -> list[tuple[str, Decimal, Decimal, bool]]:
        cfg = SimConfig.relaxed(markets=4, seed=5, history_minutes=1, out_of_order_rate=0.1)
        engine = Engine(cfg, Hub(Faults()), build_catalog(4, 5), start_ms=1_790_000_000_000)
        for n in batches:
            engine.step(n)
        return [(m.code, t.price, t.vol, t.bid) for m in engine.markets.values() for t in m.trades]

    assert run([400]) == run([100, 50, 250]) == run([1] * 400)


def test_the_day_rolls_at_midnight_utc() -> None:
    midnight = 1_790_208_000_000  # a 00:00 UTC
    cfg = SimConfig.relaxed(markets=2, seed=9, history_minutes=2, history_days=5)
    engine = Engine(cfg, Hub(Faults()), build_catalog(2, 9), start_ms=midnight - 1_000)
    m = engine.markets["KRW-BTC"]
    yesterday_days = len(m.days)
    last_close = m.day.close
    for i in range(200):
        engine.event(midnight + 10 * i)
    assert m.day.start == midnight
    assert len(m.days) == yesterday_days + 1
    assert m.days[-1].close == last_close == m.day.pcp
    today = [t for t in m.trades if t.ts >= midnight]
    assert today
    assert m.day.vol == sum((t.vol for t in today), Decimal(0))
    assert m.day.ask + m.day.bid == m.day.vol
    assert m.day.open == today[0].price
    assert all(t.pcp == last_close for t in today)
    assert m.days[-1].pcp == m.days[-2].close


async def test_admin_moves_a_price(sim: Any, kit: Any, http: httpx.AsyncClient) -> None:
    ws = await kit.subscribe(sim, {"type": "ticker", "codes": ["KRW-BTC"], "is_only_realtime": True})
    before = (await http.get(f"{sim.rest_url}/v1/ticker", params={"markets": "KRW-BTC"})).json()[0]
    target = Decimal(str(before["trade_price"])) * Decimal("1.2")
    moved = await kit.admin(sim, "POST", "/markets/KRW-BTC/price", {"price": str(target)})
    assert moved["price"] == float(round_to_tick("KRW", target, up=True))
    tick = tick_size("KRW", target)
    assert round_to_tick("KRW", target, up=True) - tick <= Decimal(str(moved["trade_price"])) <= target + tick
    frames = [json.loads(f) for f in await kit.collect(ws, 0.5)]
    assert any(Decimal(str(f["trade_price"])) >= target - tick for f in frames)
    ticker = (await http.get(f"{sim.rest_url}/v1/ticker", params={"markets": "KRW-BTC"})).json()[0]
    assert abs(Decimal(str(ticker["trade_price"])) / target - 1) < Decimal("0.01")
    nudged = await kit.admin(sim, "POST", "/markets/KRW-BTC/price", {"change_percent": -10})
    assert Decimal(str(nudged["price"])) < target * Decimal("0.91")
    for body, status in (
        ({}, 400),
        ({"price": "1", "change_percent": 1}, 400),
        ({"price": "-5"}, 400),
        ({"price": "abc"}, 400),
        ({"change_percent": -100}, 400),
    ):
        response = await http.post(f"{sim.admin_url}/markets/KRW-BTC/price", json=body)
        assert response.status_code == status, body
    assert (await http.post(f"{sim.admin_url}/markets/KRW-NOPE/price", json={"price": 1})).status_code == 404
    await ws.close()
