"""Fixtures for the archive's tests: real Kafka and PostgreSQL (cryptoflow-localstack) with the schema of
cryptoflow-batch's migrations, record builders, and a `kit` that produces trades, runs archivers and reads
back what landed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from cryptoflow_archive.archiver import Archiver
from cryptoflow_archive.settings import ArchiveSettings
from cryptoflow_batch import db
from cryptoflow_contracts.records import (
    DeadLetterRecord,
    RecordHeaders,
    TradeRecord,
    deserialize_record,
    kafka_key,
    serialize,
)
from cryptoflow_contracts.topics import Topic
from cryptoflow_localstack.waits import wait_until

PARTITIONS = 6
T0 = 1_773_278_125_000  # 2026-03-12 01:15:25 UTC


def trade(market: str, sid: int, ts: int, *, price: str = "104862000.5", volume: str = "0.00012345",
          source: str = "ws") -> TradeRecord:  # fmt: skip
    return TradeRecord(
        market=market,
        sequential_id=sid,
        trade_timestamp=ts,
        timestamp=None if source == "rest-backfill" else ts + 4,
        received_ms=ts + 20,
        price=Decimal(price),
        volume=Decimal(volume),
        side="BID" if sid % 2 else "ASK",
        prev_closing_price=Decimal("104215000"),
        change="RISE",
        change_price=Decimal("647000.5"),
        stream_type=None if source == "rest-backfill" else "REALTIME",
        source=source,
    )


def trades_for(markets: Iterable[str], per_market: int, *, first_ts: int = T0) -> list[TradeRecord]:
    """Unique trades whose ids are NOT in time order (every pair swapped), ~7 ms apart, exact decimals."""
    out = []
    for m, market in enumerate(markets):
        for i in range(per_market):
            ts = first_ts + i * 7 + (7 if i % 2 == 0 else -7)
            out.append(
                trade(market, 17_732_781_250_000_000 + m * 1_000_000 + i, ts,
                      price=f"{1000 + i % 97}.{m}5", volume=f"0.{i:08d}1")
            )  # fmt: skip
    return out


def query(dsn: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True, options="-c TimeZone=UTC") as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


class Kit:
    """One test's topics (a unique prefix), group id and database, with helpers around them."""

    def __init__(self, broker: Any, dsn: str, prefix: str, group_id: str, log_dir: Path) -> None:
        self.broker = broker
        self.dsn = dsn
        self.prefix = prefix
        self.group_id = group_id
        self.log_dir = log_dir

    def topic(self, topic: Topic) -> str:
        return f"{self.prefix}{topic}"

    def settings(self, **overrides: Any) -> ArchiveSettings:
        values: dict[str, Any] = {
            "kafka_bootstrap": self.broker.bootstrap_servers,
            "group_id": self.group_id,
            "topic_prefix": self.prefix,
            "dsn": self.dsn,
            "metrics_port": None,
            "poll_timeout_ms": 100,
            "session_timeout_ms": 6_000,
            "log_interval_s": 1.0,
            "retry_max_s": 1.0,
            "maintenance_interval_s": 1.0,
        }
        return ArchiveSettings(**(values | overrides))

    def query(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        return query(self.dsn, statement, params)

    # Kafka --------------------------------------------------------------------------------------------

    async def produce(self, records: Iterable[TradeRecord], **header_overrides: str) -> int:
        sent = []
        async with self._producer() as producer:
            for record in records:
                pairs = [
                    (key, header_overrides.get(key.replace("-", "_"), value.decode()).encode())
                    for key, value in RecordHeaders.for_record(record).to_kafka()
                ]
                sent.append(
                    await producer.send(
                        self.topic(Topic.TRADE), serialize(record), key=kafka_key(record), headers=pairs
                    )
                )
            await asyncio.gather(*sent)
        return len(sent)

    async def produce_raw(self, value: bytes | None, *, headers: list[tuple[str, bytes]]) -> None:
        async with self._producer() as producer:
            await producer.send_and_wait(self.topic(Topic.TRADE), value, key=b"KRW-BTC", headers=headers)

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

    async def committed(self) -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.broker.bootstrap_servers)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(self.group_id)
        finally:
            await admin.close()
        name = self.topic(Topic.TRADE)
        return sum(meta.offset for tp, meta in offsets.items() if tp.topic == name and meta.offset > 0)

    async def end_offsets(self) -> int:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.broker.bootstrap_servers)
        await consumer.start()
        try:
            tps = [TopicPartition(self.topic(Topic.TRADE), p) for p in range(PARTITIONS)]
            return sum((await consumer.end_offsets(tps)).values())
        finally:
            await consumer.stop()

    async def wait_committed(self, *, within: float) -> None:
        end = await self.end_offsets()

        async def caught_up() -> bool:
            return await self.committed() == end

        await wait_until(
            caught_up, within=within, what=f"the group to commit all {end} records", interval=0.5
        )

    async def dead_letters(self) -> list[DeadLetterRecord]:
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
                        out.append(record)
            return out
        finally:
            await consumer.stop()

    # PostgreSQL ---------------------------------------------------------------------------------------

    def archived(self) -> dict[tuple[str, int], tuple[Any, ...]]:
        """(market, sequential_id) -> (trade_timestamp, price, volume, side, received_ms, source)."""
        rows = self.query(
            "SELECT market, sequential_id, trade_timestamp, price, volume, side, received_ms, source"
            " FROM lake.trades"
        )
        out = {(r[0], r[1]): tuple(r[2:]) for r in rows}
        assert len(out) == len(rows), "a trade archived twice"
        return out

    def count(self) -> int:
        return int(self.query("SELECT count(*) FROM lake.trades")[0][0])

    async def wait_archived(self, count: int, *, within: float) -> None:
        async def landed() -> bool:
            return await asyncio.to_thread(self.count) >= count

        await wait_until(landed, within=within, what=f"{count} trades archived", interval=0.2)

    # Archivers ----------------------------------------------------------------------------------------

    wait_until = staticmethod(wait_until)

    @contextlib.asynccontextmanager
    async def running(self, settings: ArchiveSettings | None = None) -> AsyncIterator[Archiver]:
        """An in-process archiver; leaving the block stops it cleanly (and fails if it crashed)."""
        archiver = Archiver(settings or self.settings())
        stop = asyncio.Event()
        task = asyncio.create_task(archiver.run(stop))
        try:
            yield archiver
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)

    def spawn(self, name: str, *args: str) -> ArchiverProcess:
        """The real CLI in a subprocess (`python -m cryptoflow_archive run`), logging to a file."""
        s = self.settings()
        argv = [
            sys.executable,
            "-m",
            "cryptoflow_archive",
            "run",
            *("--kafka-bootstrap", s.kafka_bootstrap, "--group-id", s.group_id, "--dsn", s.dsn),
            *("--topic-prefix", s.topic_prefix, "--no-metrics", "--poll-timeout-ms", "100"),
            *("--session-timeout-ms", str(s.session_timeout_ms), "--log-interval-s", "1"),
            *args,
        ]
        return ArchiverProcess(argv, self.log_dir / f"{name}.log")


class ArchiverProcess:
    def __init__(self, argv: list[str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))

    async def wait(self, within: float = 30.0) -> int:
        deadline = time.monotonic() + within
        while (code := self.popen.poll()) is None:
            if time.monotonic() > deadline:
                self.popen.kill()
                pytest.fail(f"archiver did not exit within {within:.0f} s\n{self.log()}")
            await asyncio.sleep(0.05)
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop_now(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


@pytest.fixture
def archive_dsn(postgres_db: str) -> str:
    """A fresh CryptoFlow database with cryptoflow-batch's migrations applied (decision 23)."""
    db.upgrade(postgres_db)
    return postgres_db


@pytest.fixture
def kit(
    kafka_broker: Any, archive_dsn: str, kafka_topic_prefix: str, kafka_group_id: str, tmp_path: Path
) -> Kit:
    kafka_broker.create_topics([f"{kafka_topic_prefix}{Topic.TRADE}"], partitions=PARTITIONS)
    kafka_broker.create_topics([f"{kafka_topic_prefix}{Topic.DLQ}"], partitions=1)
    return Kit(kafka_broker, archive_dsn, kafka_topic_prefix, kafka_group_id, tmp_path)


@pytest.fixture
def processes() -> Iterator[list[ArchiverProcess]]:
    """Archiver subprocesses a test starts: killed at the end whatever happened, logs shown on failure."""
    started: list[ArchiverProcess] = []
    yield started
    for process in started:
        process.stop_now()
        print(f"--- {process.log_path.name} ---\n{process.log()}")


class Make:
    """The record builders, for tests (a conftest is not importable under --import-mode=importlib)."""

    trade = staticmethod(trade)
    trades_for = staticmethod(trades_for)
    query = staticmethod(query)


@pytest.fixture
def make() -> type[Make]:
    return Make
