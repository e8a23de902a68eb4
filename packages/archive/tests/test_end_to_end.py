"""Simulator → ingest → Kafka → archiver → PostgreSQL, with connection drops, duplicate and reordered
frames: every generated trade archived exactly once with its exact decimals, and the trade-built minute
candles equal the simulator's REST minute candles for every closed minute."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from cryptoflow_archive.archiver import Archiver
from cryptoflow_contracts.decimals import loads_exact
from cryptoflow_contracts.topics import TOPIC_SPECS
from cryptoflow_ingest.app import IngestApp
from cryptoflow_ingest.rest import UpbitSource
from cryptoflow_ingest.settings import IngestSettings
from cryptoflow_upbit_client import UpbitRestClient
from upbit_sim.testing import SimProcess, start_sim_process

pytestmark = pytest.mark.slow

MARKETS = 12


@pytest.fixture
def sim() -> Iterator[SimProcess]:
    process = start_sim_process(
        *("--markets", str(MARKETS), "--rate", "200", "--seed", "23"),
        *("--history-days", "3", "--history-minutes", "1"),
        *("--out-of-order-rate", "0.02", "--log-interval", "0"),
    )
    yield process
    assert process.stop() == 0


async def _admin(sim: SimProcess, path: str, body: dict[str, Any] | None = None) -> Any:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{sim.admin_url}/{path}", json=body or {})
        response.raise_for_status()
        return response.json()


async def _get(url: str, **params: Any) -> Any:
    async with httpx.AsyncClient() as http:
        response = await http.get(url, params=params)
        response.raise_for_status()
        return loads_exact(response.content)  # exact decimals, never through float


@contextlib.asynccontextmanager
async def _ingest(settings: IngestSettings) -> AsyncIterator[IngestApp]:
    async with UpbitRestClient(settings.rest_url) as client:
        app = IngestApp(settings, UpbitSource(client))
        task = asyncio.create_task(app.run())
        try:
            yield app
        finally:
            app.request_stop()
            assert await asyncio.wait_for(task, 30) == 0


async def _exchange_minute_candles(
    sim: SimProcess, markets: list[str], first_minute: dt.datetime, now_minute: dt.datetime
) -> dict[tuple[str, dt.datetime], tuple[Any, ...]]:
    """The exchange's REST minute candles in [first_minute, now_minute), fetched through the paced client
    (ingest's backfill shares the exchange's budget: a bare loop of requests draws 429)."""
    async with UpbitRestClient(sim.rest_url) as client:
        candles = {market: (await client.candles_minutes(1, market)).json() for market in markets}
    theirs = {}
    for market in markets:
        for c in candles[market]:
            start = dt.datetime.fromisoformat(c["candle_date_time_utc"]).replace(tzinfo=dt.UTC)
            if first_minute <= start < now_minute:
                theirs[(market, start)] = (
                    c["opening_price"], c["high_price"], c["low_price"], c["trade_price"],
                    c["candle_acc_trade_volume"], c["candle_acc_trade_price"],
                )  # fmt: skip
    return theirs


async def test_every_simulated_trade_archived_once_and_candles_equal_the_exchanges(
    sim: SimProcess, kafka_broker: Any, kafka_topic_prefix: str, kit: Any, tmp_path: Path
) -> None:
    for spec in TOPIC_SPECS:
        name = f"{kafka_topic_prefix}{spec.name.value}"
        if spec.name.value not in ("upbit.trade", "upbit.dlq"):
            kafka_broker.create_topics([name], partitions=spec.partitions)
    settings = IngestSettings(
        ws_url=sim.ws_url,
        rest_url=sim.rest_url,
        kafka_bootstrap=kafka_broker.bootstrap_servers,
        topic_prefix=kafka_topic_prefix,
        state_file=tmp_path / "ingest-state.json",
        metrics_port=None,
        discovery_interval_s=0.5,
        codes_per_connection=4,
        cold_start_lookback_s=600,
        backfill_margin_ms=2_000,
        idle_timeout_s=5,
        backoff_initial_s=0.05,
        backoff_max_s=0.5,
        log_interval_s=5,
        ws_deflate=False,
    )
    await _admin(sim, "faults/duplicate", {"rate": 0.05})
    await _admin(sim, "faults/out_of_order", {"rate": 0.05})
    archiver = Archiver(kit.settings(batch_size=1000))
    stop = asyncio.Event()
    task = asyncio.create_task(archiver.run(stop))
    try:
        async with _ingest(settings) as ingest:
            # At least one whole minute of live trading, with dropped connections along the way.
            started = time.time()
            while time.time() - started < 75 or dt.datetime.now(dt.UTC).second < 2:
                await asyncio.sleep(5)
                if int(time.time() - started) % 20 < 5:
                    await _admin(sim, "faults/drop")
            await _admin(sim, "generator/pause")
            markets = sorted(ingest.markets)
            assert len(markets) == MARKETS
            expected: dict[tuple[str, int], tuple[Any, ...]] = {}
            for market in markets:
                body = await _get(f"{sim.admin_url}/trades", market=market, history="true")
                assert body["evicted"] == 0
                for t in body["trades"]:
                    expected[(market, t["sequential_id"])] = (
                        t["timestamp"], Decimal(t["trade_price"]), Decimal(t["trade_volume"]), t["ask_bid"]
                    )  # fmt: skip

            def complete() -> bool:
                return set(kit.archived()) >= set(expected)

            async def landed() -> bool:
                return await asyncio.to_thread(complete)

            await kit.wait_until(landed, within=120, what="every simulated trade archived", interval=1)
        stop.set()
        await asyncio.wait_for(task, 30)
    finally:
        stop.set()
        if not task.done():
            task.cancel()
    archived = kit.archived()  # fails on any trade archived twice
    assert {key: row[:4] for key, row in archived.items()} == expected
    counters = (await _get(f"{sim.admin_url}/faults"))["counters"]
    assert counters["duplicate"] > 0
    assert counters["out_of_order"] > 0

    # Every closed minute with trades: the exchange's REST minute candle equals the archive's.
    now_minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    ours = {
        (r[0], r[1]): r[2:]
        for r in kit.query(
            "SELECT market, candle_start, opening_price, high_price, low_price, trade_price, volume, value"
            " FROM mart.candles_1m WHERE candle_start < %s",
            (now_minute,),
        )
    }
    first = min(row[0] for row in expected.values())
    first_minute = dt.datetime.fromtimestamp(first // 60_000 * 60, dt.UTC)
    theirs = await _exchange_minute_candles(sim, markets, first_minute, now_minute)
    assert len(theirs) >= MARKETS
    assert {k: tuple(Decimal(str(v)) for v in row) for k, row in theirs.items()} == {
        k: v for k, v in ours.items() if k in theirs
    }
    assert set(ours) == set(theirs)
