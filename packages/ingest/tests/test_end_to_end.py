"""Simulator → ingest → Kafka → stream-sink → Redis: every trade exactly once, tickers current."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from cryptoflow_contracts import redis_keys
from cryptoflow_contracts.decimals import loads_exact
from cryptoflow_ingest.settings import IngestSettings
from cryptoflow_stream_sink.settings import SinkSettings
from cryptoflow_stream_sink.sink import run_sink
from upbit_sim.testing import SimProcess

pytestmark = pytest.mark.slow


@contextlib.asynccontextmanager
async def running_sink(settings: IngestSettings, redis_url: str, group_id: str) -> AsyncIterator[None]:
    sink_settings = SinkSettings(
        kafka_bootstrap=settings.kafka_bootstrap,
        topic_prefix=settings.topic_prefix,
        group_id=group_id,
        redis_url=redis_url,
        metrics_port=None,
        log_interval_s=2,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run_sink(sink_settings, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def _stream_ids(redis: Redis, market: str) -> list[int]:
    entries = await redis.xrange(redis_keys.trades_key(market))
    return [int(fields[b"sequential_id"]) for _, fields in entries]


async def _exactly_once_in_redis(
    kit: Any, sim: SimProcess, redis: Redis, markets: list[str], settings: IngestSettings
) -> None:
    """Pause the simulator; then each market's stream must hold exactly the generated trades, once each."""
    await kit.admin(sim, "generator/pause")
    expected = {m: sorted(int(t["sequential_id"]) for t in await kit.sim_trades(sim, m)) for m in markets}
    assert all(expected.values())

    async def complete() -> bool:
        for market, ids in expected.items():
            if sorted(await _stream_ids(redis, market)) != ids:
                return False
        return True

    with contextlib.suppress(BaseException):
        await kit.wait_until(complete, within=60, what="every trade in Redis")
    in_kafka: set[tuple[str, int]] | None = None
    for market, ids in expected.items():
        got = await _stream_ids(redis, market)
        assert len(got) == len(set(got)), f"{market}: duplicates in the stream"
        missing = set(ids) - set(got)
        if missing and in_kafka is None:  # say which stage lost them
            records = await kit.read_topic(
                settings.kafka_bootstrap, settings.topic("upbit.trade"), idle_s=0.5
            )
            in_kafka = {(v["market"], v["sequential_id"]) for v in (json.loads(r.value) for r in records)}
        lost_by_ingest = sorted(sid for sid in missing if (market, sid) not in (in_kafka or set()))
        assert sorted(got) == ids, (
            f"{market}: {len(missing)} missing ({len(lost_by_ingest)} not even in Kafka: "
            f"{lost_by_ingest[:5]}), {len(set(got) - set(ids))} extra"
        )


async def _tickers_current(sim: SimProcess, redis: Redis, markets: list[str]) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{sim.rest_url}/v1/ticker", params={"markets": ",".join(markets)})
        response.raise_for_status()
        tickers = loads_exact(response.content)  # exact decimals, never through float
    assert len(tickers) == len(markets)
    for ticker in tickers:
        stored = await redis.hgetall(redis_keys.ticker_key(ticker["market"]))
        assert stored, ticker["market"]
        assert int(stored[b"trade_timestamp"]) == ticker["trade_timestamp"]
        for name in ("trade_price", "acc_trade_volume", "acc_trade_price", "high_price", "low_price"):
            assert Decimal(stored[name.encode()].decode()) == Decimal(ticker[name]), (ticker["market"], name)


async def test_every_trade_lands_in_redis_exactly_once(
    sim: SimProcess,
    make_settings: Callable[..., IngestSettings],
    kit: Any,
    redis_db: str,
    kafka_group_id: str,
) -> None:
    settings = make_settings()
    # Repeated and reordered frames, and dropped connections whose backfill repeats trades again.
    await kit.admin(sim, "faults/duplicate", {"rate": 0.05})
    await kit.admin(sim, "faults/out_of_order", {"rate": 0.05})
    redis = Redis.from_url(redis_db)
    try:
        async with running_sink(settings, redis_db, kafka_group_id), kit.running(settings) as ingest:
            await asyncio.sleep(2)
            await kit.admin(sim, "faults/drop")
            await asyncio.sleep(3)
            markets = sorted(ingest.app.markets)
            await _exactly_once_in_redis(kit, sim, redis, markets, settings)
            await _tickers_current(sim, redis, markets)
        async with httpx.AsyncClient() as http:
            counters = (await http.get(f"{sim.admin_url}/faults")).json()["counters"]
        assert counters["duplicate"] > 0
        assert counters["out_of_order"] > 0
    finally:
        await redis.aclose()


async def test_new_listing_appears_in_redis_without_restart(
    sim: SimProcess,
    make_settings: Callable[..., IngestSettings],
    kit: Any,
    redis_db: str,
    kafka_group_id: str,
) -> None:
    settings = make_settings()
    redis = Redis.from_url(redis_db)
    try:
        async with running_sink(settings, redis_db, kafka_group_id), kit.running(settings) as ingest:
            await asyncio.sleep(1.5)
            await kit.admin(sim, "markets", {"market": "KRW-NEWCOIN", "price": 2500})

            async def listed() -> bool:
                return "KRW-NEWCOIN" in ingest.app.markets

            await kit.wait_until(listed, within=10, what="KRW-NEWCOIN subscribed")
            await asyncio.sleep(2)
            await _exactly_once_in_redis(kit, sim, redis, ["KRW-NEWCOIN"], settings)
            await _tickers_current(sim, redis, ["KRW-NEWCOIN"])
    finally:
        await redis.aclose()
