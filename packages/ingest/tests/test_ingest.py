"""Ingest alone against the simulator and a real Kafka broker."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import httpx

from cryptoflow_contracts.records import DeadLetterRecord, OrderbookRecord, RecordHeaders, deserialize_record
from cryptoflow_contracts.version import CONTRACT_VERSION
from cryptoflow_ingest.settings import IngestSettings
from cryptoflow_localstack.kafka_broker import KafkaBroker
from upbit_sim.testing import SimProcess


async def _all_trades_arrived(
    kit: Any, sim: SimProcess, settings: IngestSettings, markets: list[str]
) -> None:
    """Pause the simulator, then wait until Kafka holds every trade it generated (by market and id)."""
    await kit.admin(sim, "generator/pause")
    expected = {(m, int(t["sequential_id"])) for m in markets for t in await kit.sim_trades(sim, m)}
    assert expected
    seen: set[tuple[str, int]] = set()

    async def complete() -> bool:
        for record in await kit.read_topic(
            settings.kafka_bootstrap, settings.topic("upbit.trade"), idle_s=0.5
        ):
            value = json.loads(record.value)
            seen.add((value["market"], value["sequential_id"]))
        return expected <= seen

    try:
        await kit.wait_until(complete, within=60, what="every generated trade in Kafka")
    finally:
        missing = expected - seen
        assert not missing, f"{len(missing)} of {len(expected)} trades missing, e.g. {sorted(missing)[:5]}"


async def test_frames_land_in_kafka_as_valid_records(
    sim: SimProcess, make_settings: Callable[..., IngestSettings], kit: Any
) -> None:
    settings = make_settings()
    async with kit.running(settings) as ingest:
        await asyncio.sleep(3)
        markets = sorted(ingest.app.markets)
        assert len(markets) == 6
        # 6 markets at 2 codes per connection
        async with httpx.AsyncClient() as http:
            connections = (await http.get(f"{sim.admin_url}/connections")).json()
        assert len(connections) == 3
        metrics = await _metrics(ingest.app.metrics_port)
        assert 'cryptoflow_ingest_messages_in_total{kind="trade"}' in metrics
        await _all_trades_arrived(kit, sim, settings, markets)

    for contract in ("upbit.trade", "upbit.ticker", "upbit.orderbook"):
        records = await kit.read_topic(settings.kafka_bootstrap, settings.topic(contract), idle_s=0.5)
        assert records, contract
        for record in records:
            headers = RecordHeaders.from_kafka(list(record.headers.items()))
            assert headers.contract == contract
            assert headers.contract_version == CONTRACT_VERSION
            assert headers.source in {"ws", "rest-backfill"}
            decoded = deserialize_record(contract, record.value)
            assert record.key == decoded.market.encode()  # type: ignore[union-attr]
    sources = {
        r.headers["source"]
        for r in await kit.read_topic(settings.kafka_bootstrap, settings.topic("upbit.trade"), idle_s=0.5)
    }
    assert sources == {b"ws", b"rest-backfill"}  # the cold-start backfill fetched the history


async def _metrics(port: int | None) -> str:
    assert port
    async with httpx.AsyncClient() as http:
        return (await http.get(f"http://127.0.0.1:{port}/metrics")).text


async def test_malformed_frames_go_to_the_dlq_and_nothing_else_is_lost(
    sim: SimProcess, make_settings: Callable[..., IngestSettings], kit: Any
) -> None:
    settings = make_settings()
    async with kit.running(settings) as ingest:
        await asyncio.sleep(1.5)
        await kit.admin(sim, "faults/malformed", {"count": 8})
        await asyncio.sleep(2)
        assert not ingest.task.done()
        await _all_trades_arrived(kit, sim, settings, sorted(ingest.app.markets))
        assert ingest.app._publisher is not None
        assert ingest.app._publisher.dead_letters == 8

    dead = await kit.read_topic(settings.kafka_bootstrap, settings.topic("upbit.dlq"), idle_s=0.5)
    assert len(dead) == 8
    for record in dead:
        letter = deserialize_record("upbit.dlq", record.value)
        assert isinstance(letter, DeadLetterRecord)
        assert letter.stage == "ingest"
        assert letter.reason
        assert letter.raw  # the exact bytes, for replay
        assert record.headers["contract"] == b"upbit.dlq"
    assert any("JSON" in deserialize_record("upbit.dlq", r.value).reason for r in dead)  # type: ignore[union-attr]


async def test_reconnect_gaps_are_backfilled(
    sim: SimProcess, make_settings: Callable[..., IngestSettings], kit: Any
) -> None:
    # One market per connection: reconnect storms must stay within 5 connects/s.
    settings = make_settings(codes_per_connection=1, idle_timeout_s=1.5, ping_interval_s=0.5)
    async with kit.running(settings) as ingest:
        await asyncio.sleep(1.5)
        await kit.admin(sim, "faults/drop_every", {"n": 60})
        await asyncio.sleep(5)
        await kit.admin(sim, "faults/drop_every", {"n": 0})
        await kit.admin(sim, "faults/drop")  # everything at once
        await asyncio.sleep(1)
        # A stalled connection sends nothing and answers no ping: the watchdog must notice.
        await kit.admin(sim, "faults/stall", {"seconds": 3})
        await asyncio.sleep(4)
        await _all_trades_arrived(kit, sim, settings, sorted(ingest.app.markets))
        assert ingest.app.reconnects >= 12
        assert ingest.app.backfiller.backfilled > 0

    async with httpx.AsyncClient() as http:
        stats = (await http.get(f"{sim.admin_url}/stats")).json()
    assert stats["connections"]["rejected_429"] == 0
    assert stats["connections"]["rejected_418"] == 0


async def test_listing_and_delisting_without_restart(
    sim: SimProcess, make_settings: Callable[..., IngestSettings], kit: Any
) -> None:
    # Also the other wire format and a smaller book: SIMPLE frames decode to the same records.
    settings = make_settings(ws_format="SIMPLE", orderbook_depth=15)
    async with kit.running(settings) as ingest:
        await asyncio.sleep(1.5)
        before = sorted(ingest.app.markets)
        gone = before[-1]
        await kit.admin(sim, "markets", {"market": "KRW-NEWCOIN", "price": 1500})
        await kit.admin(sim, f"markets/{gone}/delist")

        async def switched() -> bool:
            return "KRW-NEWCOIN" in ingest.app.markets and gone not in ingest.app.markets

        await kit.wait_until(switched, within=10, what="the new listing and the delisting")
        await asyncio.sleep(2)
        assert ingest.task.done() is False
        await _all_trades_arrived(kit, sim, settings, [*before, "KRW-NEWCOIN"])

    records = await kit.read_topic(settings.kafka_bootstrap, settings.topic("upbit.ticker"), idle_s=0.5)
    assert b"KRW-NEWCOIN" in {r.key for r in records}
    books = await kit.read_topic(settings.kafka_bootstrap, settings.topic("upbit.orderbook"), idle_s=0.5)
    assert books
    for record in books:
        book = deserialize_record("upbit.orderbook", record.value)
        assert isinstance(book, OrderbookRecord)
        assert len(book.units) == 15
        assert "." not in book.market


async def test_restart_resumes_from_the_checkpoint(
    sim: SimProcess, make_settings: Callable[..., IngestSettings], kit: Any
) -> None:
    settings = make_settings()
    async with kit.running(settings) as ingest:
        await asyncio.sleep(2)
        markets = sorted(ingest.app.markets)
    assert settings.state_file is not None
    checkpoint = json.loads(settings.state_file.read_text())["markets"]
    assert set(checkpoint) == set(markets)
    await asyncio.sleep(3)  # trades while no ingest runs
    # No cold-start lookback this time: only the checkpoint can bring the missed trades back.
    async with kit.running(settings.model_copy(update={"cold_start_lookback_s": 0})) as ingest:
        await asyncio.sleep(2)
        await _all_trades_arrived(kit, sim, settings, markets)
        assert ingest.app.backfiller.backfilled > 0


async def test_cli_stops_cleanly_on_sigterm(
    sim: SimProcess, make_settings: Callable[..., IngestSettings], kit: Any
) -> None:
    settings = make_settings()
    env = {
        **os.environ,
        "CRYPTOFLOW_INGEST_WS_URL": settings.ws_url,
        "CRYPTOFLOW_INGEST_REST_URL": settings.rest_url,
        "CRYPTOFLOW_INGEST_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "CRYPTOFLOW_INGEST_TOPIC_PREFIX": settings.topic_prefix,
        "CRYPTOFLOW_INGEST_STATE_FILE": str(settings.state_file),
        "CRYPTOFLOW_INGEST_METRICS_PORT": "0",
        "CRYPTOFLOW_INGEST_LOG_INTERVAL_S": "0.5",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cryptoflow_ingest", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    log = b""
    try:
        while b"in " not in log or b"out " not in log:  # the first throughput line
            log += await asyncio.wait_for(process.stderr.readline(), 30)
        await asyncio.sleep(1)
        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log += rest
    assert process.returncode == 0, log.decode()[-2000:]
    assert b"stopped:" in log
    assert settings.state_file is not None
    assert json.loads(settings.state_file.read_text())["markets"]  # the checkpoint was saved
    records = await kit.read_topic(settings.kafka_bootstrap, settings.topic("upbit.trade"), idle_s=0.5)
    assert records


async def test_kafka_outage_with_drops_loses_nothing(
    sim: SimProcess, make_settings: Callable[..., IngestSettings], kit: Any, kafka_broker: KafkaBroker
) -> None:
    # While Kafka is away the queue fills and the sockets are read late; connections that drop then lose
    # frames much older than the last one read. Everything must still arrive once Kafka is back.
    settings = make_settings(queue_size=200, idle_timeout_s=30)
    async with kit.running(settings) as ingest:
        await asyncio.sleep(2)
        await asyncio.to_thread(kafka_broker.stop)
        try:
            await asyncio.sleep(3)
            await kit.admin(sim, "faults/drop")
            await asyncio.sleep(1)
        finally:
            await asyncio.to_thread(kafka_broker.start)
        await asyncio.sleep(3)
        assert not ingest.task.done()
        await _all_trades_arrived(kit, sim, settings, sorted(ingest.app.markets))


async def test_back_pressure_is_not_idleness(
    sim: SimProcess, make_settings: Callable[..., IngestSettings], kit: Any, kafka_broker: KafkaBroker
) -> None:
    # A stopped broker fills the queue and blocks the socket readers. The connections are healthy: the
    # watchdog (idle timeout 1 s here) must not close them and reconnect every timeout while Kafka is away.
    settings = make_settings(queue_size=50, idle_timeout_s=1.0, ping_interval_s=0.25)
    async with kit.running(settings) as ingest:

        async def live() -> bool:
            connections = ingest.app._connections.values()
            return bool(connections) and all(c.connected for c in connections)

        await kit.wait_until(live, within=30, what="ingest subscribed")
        await asyncio.to_thread(kafka_broker.stop)
        try:
            queue = ingest.app._queue

            async def full() -> bool:
                return queue.full()

            await kit.wait_until(full, within=30, what="the queue filled by back-pressure")
            reconnects = ingest.app.reconnects
            # Four idle timeouts with the readers blocked: the old watchdog reconnected about four times.
            loop = asyncio.get_running_loop()
            blocked_until = loop.time() + 4 * settings.idle_timeout_s
            while loop.time() < blocked_until:
                assert queue.full(), "the queue drained while Kafka was stopped"
                await asyncio.sleep(0.1)
            assert ingest.app.reconnects == reconnects
        finally:
            await asyncio.to_thread(kafka_broker.start)
        await _all_trades_arrived(kit, sim, settings, sorted(ingest.app.markets))
        assert ingest.app.reconnects == reconnects
