"""The generator keeps going: whole books at the bottom of the price grid, failures logged and survived,
unique `sequential_id`s however many trades share a millisecond, a clean stop at `rate=0`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from cryptoflow_contracts.rest import RestOrderbook, parse_rest_list
from upbit_sim import SimConfig, Simulator
from upbit_sim.catalog import build_catalog
from upbit_sim.engine import Engine
from upbit_sim.history import coarse_minutes
from upbit_sim.numfmt import DAY_MS

# coins worth a fraction of a KRW: priced in BTC they used to sit at 1 satoshi, where no bid fits under the
# best ask; the book lost a level on every cancel and the generator died with an IndexError after
# some ten thousand events (minutes at --rate 200, a fraction of a second at --rate 0)
TINY = ["BTC-SHIB", "BTC-PEPE", "BTC-BTT", "KRW-BTC"]


async def _assert_books_whole(sim: Simulator, http: httpx.AsyncClient, codes: list[str]) -> None:
    response = await http.get(
        f"{sim.rest_url}/v1/orderbook", params={"markets": ",".join(codes), "count": 30}
    )
    books = parse_rest_list(response.content, RestOrderbook)
    assert sorted(b.market for b in books) == sorted(codes)
    for book in books:
        units = book.orderbook_units
        assert len(units) == 30, book.market
        asks = [u.ask_price for u in units]
        bids = [u.bid_price for u in units]
        assert asks == sorted(set(asks)), book.market
        assert bids == sorted(set(bids), reverse=True), book.market
        assert bids[-1] > 0
        assert asks[0] > bids[0], book.market


async def test_books_stay_whole_at_the_bottom_of_the_price_grid(
    make_sim: Any, kit: Any, http: httpx.AsyncClient
) -> None:
    sim = await make_sim(codes=TINY, rate=1)
    await kit.admin(sim, "POST", "/generator/pause")
    # a listing at one satoshi is raised to the lowest listing price too
    await kit.admin(sim, "POST", "/markets", {"market": "BTC-TINY", "price": "0.00000001"})
    codes = [*TINY, "BTC-TINY"]
    await _assert_books_whole(sim, http, codes)
    for _ in range(6):
        await kit.admin(sim, "POST", "/generator/step", {"events": 10_000})
    stats = await kit.admin(sim, "GET", "/stats")
    assert stats["generator"]["errors"] == 0
    assert stats["generator"]["events"] >= 60_000
    await _assert_books_whole(sim, http, codes)


async def test_generator_logs_an_exception_and_goes_on(
    make_sim: Any, kit: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sim = await make_sim(markets=2, rate=500)
    engine = sim.engine
    assert engine is not None
    real_event = engine.event
    calls = 0

    def failing_once(ts: int) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("injected failure")
        return real_event(ts)

    with caplog.at_level(logging.ERROR, logger="upbit_sim"):
        engine.event = failing_once  # type: ignore[method-assign]
        for _ in range(100):
            await asyncio.sleep(0.05)
            if calls > 50:
                break
    assert calls > 50, "the generator stopped after the exception"
    stats = await kit.admin(sim, "GET", "/stats")
    assert stats["generator"]["errors"] == 1
    failures = [r for r in caplog.records if "generator batch failed" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert "injected failure" in str(failures[0].exc_info[1])


async def test_sequential_ids_stay_unique_when_a_millisecond_is_full(make_sim: Any, kit: Any) -> None:
    sim = await make_sim(codes=["KRW-BTC"], rate=1, history_minutes=0)
    await kit.admin(sim, "POST", "/generator/pause")
    # one step stamps every event with the same clock reading: far more than 10,000 trades in one ms
    await kit.admin(sim, "POST", "/generator/step", {"events": 25_000})
    trades = (await kit.admin(sim, "GET", "/trades?market=KRW-BTC&order=asc"))["trades"]
    assert len(trades) > 12_000
    ids = [t["sequential_id"] for t in trades]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(t["sequential_id"] // 10_000 == t["timestamp"] for t in trades)


async def test_stop_after_running_at_rate_zero(caplog: pytest.LogCaptureFixture) -> None:
    sim = Simulator(SimConfig.relaxed(codes=TINY, rate=0))
    with caplog.at_level(logging.ERROR, logger="upbit_sim"):
        await sim.start()
        await asyncio.sleep(1.5)  # as fast as it can: tens of thousands of events
        await sim.stop()  # raised the generator's IndexError
    assert sim.engine is not None
    assert sim.engine.events > 5_000
    assert sim.engine.errors == 0
    assert not caplog.records


def test_live_volume_stays_within_the_generated_history() -> None:
    """Ten simulated minutes at the default rate, on a clock driven by the test: every market's volume per
    minute stays within the range of its own history's minute candles (it was 20-66x above it)."""
    cfg = SimConfig.relaxed(markets=10, history_days=3)
    start = 1_796_126_400_000  # 2026-12-01T12:00:00Z, a minute boundary
    engine = Engine(cfg, Simulator(cfg).hub, build_catalog(cfg.markets, cfg.seed, cfg.codes), start_ms=start)
    step_ms, budget = 100, 0.0
    for t in range(start, start + 600_000, step_ms):
        budget += cfg.rate * step_ms / 1000
        budget -= engine.batch(int(budget), t, t + step_ms)
    for m in engine.markets.values():
        history = [c.vol for d in m.days for c in coarse_minutes(m, cfg.seed, d, d.start + DAY_MS)]
        live = [c.vol for c in m.c1m if c.start >= start]
        assert len(live) >= 10, m.code
        assert min(history) <= min(live), m.code
        assert max(live) <= max(history), (m.code, max(live), max(history))
