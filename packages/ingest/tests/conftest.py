from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from cryptoflow_contracts.topics import TOPIC_SPECS
from cryptoflow_ingest.app import IngestApp
from cryptoflow_ingest.rest import UpbitSource
from cryptoflow_ingest.settings import IngestSettings
from cryptoflow_localstack.kafka_broker import KafkaBroker
from cryptoflow_localstack.waits import wait_until
from cryptoflow_upbit_client import UpbitRestClient
from upbit_sim.testing import SimProcess, start_sim_process


def _repo_root() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "uv.lock").exists():
            return parent
    raise RuntimeError(f"no uv.lock above {__file__}: cannot find the repository root")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The Upbit samples: $UPBIT_SAMPLES_DIR, else <repo root>/testdata/upbit-samples."""
    configured = os.environ.get("UPBIT_SAMPLES_DIR")
    path = Path(configured) if configured else _repo_root() / "testdata" / "upbit-samples"
    if not (path / "README.md").is_file():
        pytest.fail(f"Upbit samples not found at {path} (set UPBIT_SAMPLES_DIR)")
    return path


# -- real services: the simulator, Kafka topics, a running ingest -------------------------------------


@pytest.fixture
def sim() -> Iterator[SimProcess]:
    """A simulator process: 6 markets, ~300 frames/s, Upbit's WS and REST limits on."""
    process = start_sim_process(
        *("--markets", "6", "--rate", "300", "--seed", "11"),
        *("--history-days", "30", "--history-minutes", "1"),
        *("--out-of-order-rate", "0.01", "--log-interval", "0", "--rest-rate-limit", "10"),
        *("--ws-connect-rate-limit", "5", "--ws-subscribe-per-sec", "5", "--ws-subscribe-per-min", "100"),
    )
    yield process
    assert process.stop() == 0


@pytest.fixture
def topic_prefix(kafka_broker: KafkaBroker, kafka_topic_prefix: str) -> str:
    """Contract topics of this test only (same partitions as the real ones)."""
    for spec in TOPIC_SPECS:
        kafka_broker.create_topics([f"{kafka_topic_prefix}{spec.name.value}"], partitions=spec.partitions)
    return kafka_topic_prefix


@pytest.fixture
def make_settings(
    sim: SimProcess, kafka_broker: KafkaBroker, topic_prefix: str, tmp_path: Path
) -> Callable[..., IngestSettings]:
    def make(**overrides: Any) -> IngestSettings:
        values: dict[str, Any] = {
            "ws_url": sim.ws_url,
            "rest_url": sim.rest_url,
            "kafka_bootstrap": kafka_broker.bootstrap_servers,
            "topic_prefix": topic_prefix,
            "state_file": tmp_path / "ingest-state.json",
            "metrics_port": 0,
            "discovery_interval_s": 0.5,
            "codes_per_connection": 2,  # 6 markets -> 3 connections: exercises sharding
            "cold_start_lookback_s": 600,  # every trade since the simulator started must arrive
            "backfill_margin_ms": 2_000,
            "idle_timeout_s": 5,
            "backoff_initial_s": 0.05,
            "backoff_max_s": 0.5,
            "log_interval_s": 1,
            "ws_deflate": False,
        }
        values.update(overrides)
        return IngestSettings(**values)

    return make


class RunningIngest:
    def __init__(self, app: IngestApp, task: asyncio.Task[int]) -> None:
        self.app = app
        self.task = task

    async def stop(self) -> int:
        self.app.request_stop()
        return await asyncio.wait_for(self.task, 30)


@contextlib.asynccontextmanager
async def running_ingest(settings: IngestSettings) -> AsyncIterator[RunningIngest]:
    async with UpbitRestClient(settings.rest_url) as client:
        app = IngestApp(settings, UpbitSource(client))
        running = RunningIngest(app, asyncio.create_task(app.run()))
        try:
            yield running
        finally:
            if not running.task.done():
                await running.stop()
        assert running.task.result() == 0


@dataclass
class Consumed:
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


async def read_topic(
    bootstrap: str, topic: str, *, idle_s: float = 1.0, timeout_s: float = 30.0
) -> list[Consumed]:
    """Every record of `topic` from the beginning until nothing new arrived for `idle_s`."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    out: list[Consumed] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        quiet_since = loop.time()
        while loop.time() < deadline and loop.time() - quiet_since < idle_s:
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            for records in batches.values():
                for r in records:
                    out.append(Consumed(r.topic, r.key, r.value, dict(r.headers)))
                quiet_since = loop.time()
    finally:
        await consumer.stop()
    return out


async def sim_trades(sim: SimProcess, market: str) -> list[dict[str, Any]]:
    """Every trade the simulator generated for `market` since it started (REST trade shape)."""
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{sim.admin_url}/trades", params={"market": market, "history": "true"})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
    assert body["evicted"] == 0
    trades: list[dict[str, Any]] = body["trades"]
    return trades


async def admin(sim: SimProcess, path: str, body: dict[str, Any] | None = None) -> Any:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{sim.admin_url}/{path}", json=body or {})
        response.raise_for_status()
        return response.json()


class Kit:
    """The helpers above, for tests (importlib mode cannot import conftest)."""

    running = staticmethod(running_ingest)
    read_topic = staticmethod(read_topic)
    sim_trades = staticmethod(sim_trades)
    admin = staticmethod(admin)
    wait_until = staticmethod(wait_until)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
