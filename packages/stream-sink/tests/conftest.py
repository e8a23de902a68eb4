"""Fixtures for the sink's tests: real Kafka and Redis (cryptoflow-localstack), record builders from the
Upbit samples, and a `kit` that produces records, runs sinks and reads back what landed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from cryptoflow_contracts import redis_keys
from cryptoflow_contracts.records import (
    DeadLetterRecord,
    OrderbookRecord,
    RecordHeaders,
    RecordModel,
    TickerRecord,
    TradeRecord,
    deserialize_record,
    kafka_key,
    record_from_ws,
    serialize,
)
from cryptoflow_contracts.topics import Topic
from cryptoflow_contracts.ws import WsOrderbook, WsTicker, parse_ws_frame
from cryptoflow_localstack.waits import wait_until
from cryptoflow_stream_sink.settings import SinkSettings
from cryptoflow_stream_sink.sink import StreamSink

PARTITIONS = 6
T0 = 1_773_278_125_000  # 2026-03-12 01:15:25 UTC, the samples' time
SINK_TOPICS = (Topic.TRADE, Topic.TICKER, Topic.ORDERBOOK)


def samples_dir() -> Path:
    """`UPBIT_SAMPLES_DIR`, else `<repo root>/testdata/upbit-samples` (the repo root holds uv.lock)."""
    if env := os.environ.get("UPBIT_SAMPLES_DIR"):
        path = Path(env)
    else:
        here = Path(__file__).resolve()
        root = next((p for p in here.parents if (p / "uv.lock").is_file()), None)
        if root is None:
            pytest.fail(f"no uv.lock above {here}: set UPBIT_SAMPLES_DIR to the Upbit samples folder")
        path = root / "testdata" / "upbit-samples"
    if not (path / "ws-ticker.jsonl").is_file():
        pytest.fail(f"Upbit samples not found in {path} (set UPBIT_SAMPLES_DIR)")
    return path


def _first_frame(name: str) -> Any:
    with (samples_dir() / name).open("rb") as lines:
        return parse_ws_frame(lines.readline())


def trade(market: str, sid: int, ts: int, *, price: str = "104862000.5", source: str = "ws") -> TradeRecord:
    return TradeRecord(
        market=market,
        sequential_id=sid,
        trade_timestamp=ts,
        timestamp=None if source == "rest-backfill" else ts + 4,
        received_ms=ts + 20,
        price=Decimal(price),
        volume=Decimal("0.00012345"),
        side="BID",
        prev_closing_price=Decimal("104215000"),
        change="RISE",
        change_price=Decimal("647000.5"),
        best_ask_price=None if source == "rest-backfill" else Decimal(price),
        best_ask_size=None if source == "rest-backfill" else Decimal("0.1"),
        stream_type=None if source == "rest-backfill" else "REALTIME",
        source=source,
    )


def ticker(market: str, ts: int, *, price: str) -> TickerRecord:
    frame = _first_frame("ws-ticker.jsonl")
    assert isinstance(frame, WsTicker)
    base = record_from_ws(frame, received_ms=ts + 5)
    return base.model_copy(update={"market": market, "timestamp": ts, "trade_price": Decimal(price)})


def orderbook(market: str, ts: int, *, best_ask: str) -> OrderbookRecord:
    frame = _first_frame("ws-orderbook.jsonl")
    assert isinstance(frame, WsOrderbook)
    base = record_from_ws(frame, received_ms=ts + 5)
    units = [base.units[0].model_copy(update={"ask_price": Decimal(best_ask)}), *base.units[1:]]
    return base.model_copy(update={"market": market, "timestamp": ts, "units": units})


def trades_for(
    markets: Iterable[str], per_market: int, *, first_ts: int = 1_773_278_125_000
) -> list[TradeRecord]:
    """Unique trades whose ids are NOT in time order (pitfall 4): every pair of ids is swapped in time."""
    out = []
    for m, market in enumerate(markets):
        for i in range(per_market):
            ts = first_ts + i * 7 + (7 if i % 2 == 0 else -7)
            out.append(
                trade(market, 17_732_781_250_000_000 + m * 1_000_000 + i, ts, price=f"{1000 + i}.{m}5")
            )
    return out


class Kit:
    """One test's topics (a unique prefix), group id and Redis, with helpers around them."""

    def __init__(self, broker: Any, redis_url: str, prefix: str, group_id: str, log_dir: Path) -> None:
        self.broker = broker
        self.redis_url = redis_url
        self.prefix = prefix
        self.group_id = group_id
        self.log_dir = log_dir
        # Tests restart Redis under this client: let it reconnect instead of failing the first command.
        self.redis = Redis.from_url(
            redis_url,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 20),
            retry_on_error=[RedisConnectionError],
        )

    def topic(self, topic: Topic) -> str:
        return f"{self.prefix}{topic}"

    def settings(self, **overrides: Any) -> SinkSettings:
        values: dict[str, Any] = {
            "kafka_bootstrap": self.broker.bootstrap_servers,
            "group_id": self.group_id,
            "topic_prefix": self.prefix,
            "redis_url": self.redis_url,
            "metrics_port": None,
            "poll_timeout_ms": 100,
            "session_timeout_ms": 6_000,
            "log_interval_s": 1.0,
            "retry_max_s": 1.0,
        }
        return SinkSettings(**(values | overrides))

    # Kafka --------------------------------------------------------------------------------------------

    async def produce(self, records: Iterable[RecordModel], **header_overrides: str) -> int:
        """Every record to its topic, keyed by market, with the contract headers (overridable)."""
        sent = []
        async with self._producer() as producer:
            for record in records:
                headers = RecordHeaders.for_record(record)
                pairs = [
                    (key, header_overrides.get(key.replace("-", "_"), value.decode()).encode())
                    for key, value in headers.to_kafka()
                ]
                key = kafka_key(record) if hasattr(record, "market") else None
                topic = self.topic(record.TOPIC)
                sent.append(await producer.send(topic, serialize(record), key=key, headers=pairs))
            await asyncio.gather(*sent)
        return len(sent)

    async def produce_raw(
        self, topic: Topic, value: bytes | None, *, key: bytes = b"KRW-BTC", headers: list[tuple[str, bytes]]
    ) -> tuple[int, int]:
        """One record exactly as given; returns its (partition, offset)."""
        async with self._producer() as producer:
            meta = await producer.send_and_wait(self.topic(topic), value, key=key, headers=headers)
        return meta.partition, meta.offset

    @contextlib.asynccontextmanager
    async def _producer(self) -> AsyncIterator[AIOKafkaProducer]:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.broker.bootstrap_servers, acks="all", enable_idempotence=True, linger_ms=5
        )
        await producer.start()
        try:
            yield producer
        finally:
            await producer.stop()

    async def committed(self, group_id: str | None = None) -> int:
        """Sum of the group's committed offsets over the sink's topics."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.broker.bootstrap_servers)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(group_id or self.group_id)
        finally:
            await admin.close()
        names = {self.topic(t) for t in SINK_TOPICS}
        return sum(meta.offset for tp, meta in offsets.items() if tp.topic in names and meta.offset > 0)

    async def end_offsets(self) -> int:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.broker.bootstrap_servers)
        await consumer.start()
        try:
            tps = [TopicPartition(self.topic(t), p) for t in SINK_TOPICS for p in range(PARTITIONS)]
            return sum((await consumer.end_offsets(tps)).values())
        finally:
            await consumer.stop()

    async def dead_letters(self) -> list[tuple[DeadLetterRecord, dict[str, bytes]]]:
        """Everything in this test's DLQ topic, with its headers."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.broker.bootstrap_servers, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            tp = TopicPartition(self.topic(Topic.DLQ), 0)
            consumer.assign([tp])
            end = (await consumer.end_offsets([tp]))[tp]
            out = []
            while await consumer.position(tp) < end:
                for messages in (await consumer.getmany(timeout_ms=1000)).values():
                    for m in messages:
                        record = deserialize_record(Topic.DLQ, m.value)
                        assert isinstance(record, DeadLetterRecord)
                        out.append((record, dict(m.headers)))
            return out
        finally:
            await consumer.stop()

    # Redis --------------------------------------------------------------------------------------------

    async def stream(self, market: str) -> list[dict[str, str]]:
        entries = await self.redis.xrange(redis_keys.trades_key(market))
        return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]

    async def trade_ids(self, markets: Iterable[str]) -> Counter[tuple[str, int]]:
        """(market, sequential_id) -> how many stream entries carry it."""
        found: Counter[tuple[str, int]] = Counter()
        for market in markets:
            for entry in await self.stream(market):
                found[(market, int(entry["sequential_id"]))] += 1
        return found

    async def stream_total(self, markets: Iterable[str]) -> int:
        return sum([await self.redis.xlen(redis_keys.trades_key(m)) for m in markets])

    async def hash(self, key: str) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in (await self.redis.hgetall(key)).items()}

    # Waiting ------------------------------------------------------------------------------------------

    wait_until = staticmethod(wait_until)

    async def wait_for_trades(self, markets: Iterable[str], count: int, *, within: float) -> None:
        async def landed() -> bool:
            return await self.stream_total(markets) >= count

        await wait_until(landed, within=within, what=f"{count} trades in Redis")

    async def wait_committed(self, *, within: float) -> None:
        """Until the group has committed every record of the sink's topics."""
        end = await self.end_offsets()

        async def caught_up() -> bool:
            return await self.committed() == end

        await wait_until(
            caught_up, within=within, what=f"the group to commit all {end} records", interval=0.5
        )

    # Sinks --------------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self, settings: SinkSettings | None = None) -> AsyncIterator[StreamSink]:
        """An in-process sink; leaving the block stops it cleanly (and fails if it crashed)."""
        sink = StreamSink(settings or self.settings())
        stop = asyncio.Event()
        task = asyncio.create_task(sink.run(stop))
        try:
            yield sink
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)

    def spawn(self, name: str, *args: str, **env: str) -> SinkProcess:
        """The real CLI in a subprocess (`python -m cryptoflow_stream_sink`), logging to a file."""
        s = self.settings()
        argv = [
            sys.executable,
            "-m",
            "cryptoflow_stream_sink",
            *("--kafka-bootstrap", s.kafka_bootstrap, "--group-id", s.group_id),
            *("--topic-prefix", s.topic_prefix, "--redis-url", s.redis_url, "--no-metrics"),
            *("--poll-timeout-ms", "100", "--session-timeout-ms", str(s.session_timeout_ms)),
            *("--log-interval-s", "1"),
            *args,
        ]
        return SinkProcess(argv, self.log_dir / f"{name}.log", {**os.environ, **env})


def metric(sink: StreamSink, name: str, **labels: str) -> float:
    return sink.metrics.registry.get_sample_value(name, labels) or 0.0


def records_in(sink: StreamSink) -> float:
    return sum(
        metric(sink, "cryptoflow_sink_records_in_total", kind=k) for k in ("trade", "ticker", "orderbook")
    )


class SinkProcess:
    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)

    def signal(self, sig: signal.Signals) -> None:
        self.popen.send_signal(sig)

    async def wait(self, within: float = 30.0) -> int:
        deadline = time.monotonic() + within
        while (code := self.popen.poll()) is None:
            if time.monotonic() > deadline:
                self.popen.kill()
                pytest.fail(f"sink process did not exit within {within:.0f} s\n{self.log()}")
            await asyncio.sleep(0.05)
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop_now(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


@pytest.fixture
async def kit(
    kafka_broker: Any, redis_db: str, kafka_topic_prefix: str, kafka_group_id: str, tmp_path: Path
) -> AsyncIterator[Kit]:
    kafka_broker.create_topics([f"{kafka_topic_prefix}{t}" for t in SINK_TOPICS], partitions=PARTITIONS)
    kafka_broker.create_topics([f"{kafka_topic_prefix}{Topic.DLQ}"], partitions=1)
    kit = Kit(kafka_broker, redis_db, kafka_topic_prefix, kafka_group_id, tmp_path)
    try:
        yield kit
    finally:
        await kit.redis.aclose()


@pytest.fixture
def processes() -> Iterator[list[SinkProcess]]:
    """Sink subprocesses a test starts: killed at the end whatever happened, logs shown on failure."""
    started: list[SinkProcess] = []
    yield started
    for process in started:
        process.stop_now()
        # Captured output: pytest shows it only when the test failed.
        print(f"--- {process.log_path.name} ---\n{process.log()}")


class Make:
    """The record builders, for tests (a conftest is not importable under --import-mode=importlib)."""

    trade = staticmethod(trade)
    ticker = staticmethod(ticker)
    orderbook = staticmethod(orderbook)
    trades_for = staticmethod(trades_for)
    metric = staticmethod(metric)
    records_in = staticmethod(records_in)


@pytest.fixture
def make() -> type[Make]:
    return Make
