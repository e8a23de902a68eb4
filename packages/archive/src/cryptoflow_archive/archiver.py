"""The consumer-group member: read a batch of trades, dead-letter what cannot be stored, archive the rest
in one PostgreSQL transaction, then commit the batch's offsets. Delivery is at-least-once; the unique key
of `lake.trades` makes the archive exactly once.

In-process use (tests, benchmarks)::

    stop = asyncio.Event()
    task = asyncio.create_task(run_archiver(ArchiveSettings(...), stop))
    ...
    stop.set()
    await task
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from prometheus_client import start_http_server

from cryptoflow_archive.metrics import ArchiveMetrics
from cryptoflow_archive.rows import DeadLetter, DecodedBatch, Row, build
from cryptoflow_archive.settings import ArchiveSettings
from cryptoflow_archive.store import TradeStore
from cryptoflow_contracts.backoff import Backoff
from cryptoflow_contracts.records import DeadLetterRecord, RecordHeaders, serialize
from cryptoflow_contracts.topics import Topic

STAGE = "archive"
DLQ_RAW_LIMIT = 256 * 1024
log = logging.getLogger("cryptoflow_archive")

T = TypeVar("T")
Batch = dict[TopicPartition, list[Any]]


class Archiver:
    """One member of the archive's consumer group. `run(stop)` returns after a clean shutdown."""

    def __init__(self, settings: ArchiveSettings, *, metrics: ArchiveMetrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or ArchiveMetrics()
        self.assigned = asyncio.Event()
        """Set while the group has given this member partitions (for tests and benchmarks)."""
        self.metrics_port: int | None = None
        self.store = TradeStore(
            settings.dsn,
            partitions_ahead_days=settings.partitions_ahead_days,
            retention_days=settings.retention_days,
        )
        self._topic = settings.topic(Topic.TRADE)
        self._dlq_topic = settings.topic(Topic.DLQ)
        self._lock = asyncio.Lock()
        self._pending: Batch | None = None
        self._next_offsets: dict[TopicPartition, int] = {}
        self._deadline: float | None = None
        self._scopes: set[asyncio.Timeout] = set()
        self._last_report = (time.monotonic(), 0.0)
        self._next_maintenance = 0.0
        # Created in run(): aiokafka's clients need the running loop.
        self._consumer: Any = None
        self._producer: Any = None

    async def run(self, stop: asyncio.Event) -> None:
        s = self.settings
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap,
            group_id=s.group_id,
            client_id=STAGE,
            enable_auto_commit=False,
            # A new group starts at the oldest retained record: the unique key makes re-reading harmless.
            auto_offset_reset="earliest",
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.session_timeout_ms // 3,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        self._producer = AIOKafkaProducer(
            bootstrap_servers=s.kafka_bootstrap, client_id=STAGE, acks="all", enable_idempotence=True
        )
        server = None
        if s.metrics_port is not None:
            server, _ = start_http_server(s.metrics_port, addr=s.metrics_host, registry=self.metrics.registry)
            self.metrics_port = server.server_port
            log.info("metrics on http://%s:%d/metrics", s.metrics_host, self.metrics_port)
        tasks = {asyncio.create_task(self._watch_stop(stop)), asyncio.create_task(self._report())}
        try:
            # The schema must exist before anything is read (SchemaMissingError says how to fix it).
            await self._bounded(self._retrying("postgres", self._maintain))
            await self._producer.start()
            await self._consumer.start()
            self._consumer.subscribe([self._topic], listener=_Rebalance(self))
            log.info("archiving %s as group %r", self._topic, s.group_id)
            while not stop.is_set():
                batch = await self._consumer.getmany(timeout_ms=s.poll_timeout_ms, max_records=s.batch_size)
                if batch:
                    self._pending = batch
                    await self._flush()
                if time.monotonic() >= self._next_maintenance and not stop.is_set():
                    await self._bounded(self._retrying("postgres", self._maintain))
        except TimeoutError:
            if self._deadline is None:
                raise
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._consumer.stop()
            await self._producer.stop()
            await self.store.close()
            if server is not None:
                await asyncio.to_thread(server.shutdown)
                server.server_close()
            self._report_line()
            log.info("stopped")

    async def _maintain(self) -> None:
        async with self._lock:
            closed = await self.store.maintain()
        self.metrics.candles_changed.inc(closed)
        self._next_maintenance = time.monotonic() + self.settings.maintenance_interval_s

    async def _flush(self) -> None:
        """Process the batch read last, if it is still pending. The main loop and the revoke hook both call
        this; the lock makes a revoke wait for the batch in hand and then commit it before letting go."""
        async with self._lock:
            batch, self._pending = self._pending, None
            if not batch:
                return
            started = time.perf_counter()
            try:
                await self._bounded(self._process(batch))
            except TimeoutError:
                if self._deadline is None:
                    raise
                count = sum(len(messages) for messages in batch.values())
                log.warning("shutdown: gave up an unfinished batch of %d records (not committed)", count)
                return
            self.metrics.batch_seconds.observe(time.perf_counter() - started)

    async def _process(self, batch: Batch) -> None:
        decoded = build(m for messages in batch.values() for m in messages)
        self.metrics.records_in.inc(decoded.read)
        self.metrics.duplicates.inc(decoded.repeated)
        if decoded.rows:
            await self._archive(decoded)
        if decoded.dead:
            await self._retrying("dead-letter", lambda: self._send_dead(decoded.dead))
        offsets = {tp: messages[-1].offset + 1 for tp, messages in batch.items()}
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The partitions moved on; their next owner reads these records again, and archiving them
            # twice changes nothing.
            log.warning("commit refused (%s)", exc)
            self.metrics.commit_failures.inc()
            return
        self._next_offsets.update(offsets)
        self.metrics.committed.inc(decoded.read)

    async def _archive(self, decoded: DecodedBatch) -> None:
        rows: Sequence[Row] = decoded.rows
        try:
            result = await self._retrying("postgres", lambda: self.store.write(rows))
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            # Some row does not fit the table: find which, dead-letter those, archive the others.
            log.warning(
                "PostgreSQL refused the batch (%s); checking its %d trades one by one", exc, len(rows)
            )
            kept: list[Row] = []
            for row, message in zip(rows, decoded.messages, strict=True):
                reason = await self._retrying("postgres", lambda row=row: self.store.refused(row))  # type: ignore[misc]
                if reason is None:
                    kept.append(row)
                else:
                    decoded.dead.append(DeadLetter(message, reason))
            result = await self._retrying("postgres", lambda: self.store.write(kept))
        self.metrics.archived.inc(result.inserted)
        self.metrics.duplicates.inc(result.duplicates)
        self.metrics.candles_changed.inc(result.candles_changed)

    async def _send_dead(self, dead: Sequence[DeadLetter]) -> None:
        """Every dead letter acknowledged by all in-sync replicas, before the batch is committed."""
        now = int(time.time() * 1000)
        sent = []
        for letter in dead:
            m = letter.message
            raw, reason = m.value or b"", letter.reason
            if len(raw) > DLQ_RAW_LIMIT:
                reason += f" (value of {len(raw)} bytes cut to {DLQ_RAW_LIMIT} here; see the source offset)"
                raw = raw[:DLQ_RAW_LIMIT]
            record = DeadLetterRecord.from_raw(
                raw,
                stage=STAGE,
                reason=reason,
                failed_ms=now,
                source_topic=m.topic,
                source_partition=m.partition,
                source_offset=m.offset,
                key=m.key,
            )
            headers = RecordHeaders.for_record(record, source=STAGE).to_kafka()
            sent.append(
                await self._producer.send(self._dlq_topic, serialize(record), key=m.key, headers=headers)
            )
        await asyncio.gather(*sent)
        self.metrics.dlq.inc(len(dead))
        log.warning("dead-lettered %d records, first: %s", len(dead), dead[0].reason)

    async def _retrying(self, what: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """Until it works: PostgreSQL or Kafka down means wait (nothing is committed meanwhile), not lose."""
        backoff = Backoff(initial_s=self.settings.retry_initial_s, max_s=self.settings.retry_max_s)
        while True:
            try:
                return await attempt()
            except (psycopg.OperationalError, psycopg.InterfaceError, KafkaError, OSError) as exc:
                pause = backoff.next_delay()
                self.metrics.retries.labels(what).inc()
                log.warning("%s failed (%s: %s); retrying in %.1f s", what, type(exc).__name__, exc, pause)
            await asyncio.sleep(pause)

    async def _bounded(self, work: Awaitable[T]) -> T:
        """Runs `work` without a time limit until shutdown starts; then it has `shutdown_grace_s` left."""
        async with asyncio.timeout(self._deadline) as scope:
            self._scopes.add(scope)
            try:
                return await work
            finally:
                self._scopes.discard(scope)

    async def _watch_stop(self, stop: asyncio.Event) -> None:
        await stop.wait()
        log.info("stopping: finishing the batch in hand")
        self._deadline = asyncio.get_running_loop().time() + self.settings.shutdown_grace_s
        for scope in self._scopes:
            scope.reschedule(self._deadline)

    async def on_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        """Rebalance hook: archive and commit the batch in hand before the partitions move."""
        await self._flush()
        for tp in revoked:
            self._next_offsets.pop(tp, None)
        self.assigned.clear()

    def on_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        count = len(set(assigned))
        self.metrics.partitions.set(count)
        log.info("assigned %d partitions", count)
        if count:
            self.assigned.set()

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(self.settings.log_interval_s)
            self._report_line()

    def _report_line(self) -> None:
        """One line of throughput and lag; the rate is over the time since the previous line."""
        now = time.monotonic()
        registry = self.metrics.registry

        def total(name: str) -> float:
            return registry.get_sample_value(name) or 0.0

        read = total("cryptoflow_archive_records_in_total")
        lag = self._lag()
        last_time, last_read = self._last_report
        rate = (read - last_read) / max(now - last_time, 1e-9)
        self._last_report = (now, read)
        log.info(
            "read %d (%.0f/s) | archived %d duplicates %d | candles changed %d | dlq %d | lag %s",
            read,
            rate,
            total("cryptoflow_archive_trades_archived_total"),
            total("cryptoflow_archive_trades_duplicate_total"),
            total("cryptoflow_archive_candles_changed_total"),
            total("cryptoflow_archive_dlq_total"),
            "?" if lag is None else lag,
        )

    def _lag(self) -> int | None:
        """Records behind the high watermark, from what the fetcher already knows (no request)."""
        consumer = self._consumer
        if consumer is None:
            return None
        behind: int | None = None
        for tp, next_offset in self._next_offsets.items():
            highwater = consumer.highwater(tp)
            if highwater is not None:
                behind = (behind or 0) + max(highwater - next_offset, 0)
        self.metrics.lag.set(behind or 0)
        return behind


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """aiokafka awaits these during a rebalance: revoke runs before the partitions move."""

    def __init__(self, archiver: Archiver) -> None:
        self._archiver = archiver

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._archiver.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self._archiver.on_assigned(assigned)


async def run_archiver(
    settings: ArchiveSettings, stop: asyncio.Event, *, metrics: ArchiveMetrics | None = None
) -> None:
    """Runs one archiver until `stop` is set, then finishes the batch in hand, commits and closes."""
    await Archiver(settings, metrics=metrics).run(stop)
