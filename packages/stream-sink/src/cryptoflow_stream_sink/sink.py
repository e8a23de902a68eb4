"""The consumer-group member: read a batch, dead-letter what does not fit, write the rest to Redis in one
pipeline, then commit the batch's offsets. Delivery is at-least-once; the writes make it exactly once.

In-process use (tests, the end-to-end benchmark)::

    stop = asyncio.Event()
    task = asyncio.create_task(run_sink(SinkSettings(...), stop))
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

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from prometheus_client import start_http_server
from redis.asyncio import Redis
from redis.exceptions import RedisError

from cryptoflow_contracts.backoff import Backoff
from cryptoflow_contracts.records import DeadLetterRecord, RecordHeaders, serialize
from cryptoflow_contracts.topics import Topic
from cryptoflow_stream_sink.batch import KIND_BY_TOPIC, DeadLetter, DecodedBatch, build
from cryptoflow_stream_sink.metrics import KINDS, SinkMetrics
from cryptoflow_stream_sink.settings import SinkSettings
from cryptoflow_stream_sink.writer import RedisWriter, WriteResult

STAGE = "stream-sink"
DLQ_RAW_LIMIT = 256 * 1024
log = logging.getLogger("cryptoflow_stream_sink")

T = TypeVar("T")
Batch = dict[TopicPartition, list[Any]]


class StreamSink:
    """One member of the sink's consumer group. `run(stop)` returns after a clean shutdown."""

    def __init__(self, settings: SinkSettings, *, metrics: SinkMetrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or SinkMetrics()
        self.assigned = asyncio.Event()
        """Set while the group has given this member partitions (for tests and benchmarks)."""
        self.metrics_port: int | None = None
        """The port the metrics endpoint listens on, once running (useful with `metrics_port=0`)."""
        self._topics = {settings.topic(topic): topic for topic in KIND_BY_TOPIC}
        self.metrics.expect_topics(self._topics)
        self._dlq_topic = settings.topic(Topic.DLQ)
        self._lock = asyncio.Lock()
        self._pending: Batch | None = None
        self._next_offsets: dict[TopicPartition, int] = {}
        self._deadline: float | None = None
        self._scopes: set[asyncio.Timeout] = set()
        self._last_report = (time.monotonic(), 0.0)
        # Created in run(): aiokafka's clients need the running loop.
        self._consumer: Any = None
        self._producer: Any = None
        self._writer: RedisWriter | None = None

    async def run(self, stop: asyncio.Event) -> None:
        s = self.settings
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap,
            group_id=s.group_id,
            client_id=STAGE,
            enable_auto_commit=False,
            # A new group starts at the oldest retained record: the guard makes re-reading harmless.
            auto_offset_reset="earliest",
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.session_timeout_ms // 3,
        )
        self._producer = AIOKafkaProducer(
            bootstrap_servers=s.kafka_bootstrap, client_id=STAGE, acks="all", enable_idempotence=True
        )
        redis = Redis.from_url(s.redis_url, socket_connect_timeout=2.0, socket_timeout=10.0)
        self._writer = writer = RedisWriter(
            redis,
            stream_maxlen=s.stream_maxlen,
            dedup_max_ids=s.dedup_max_ids,
            dedup_horizon_ms=s.dedup_horizon_ms,
        )
        server = None
        if s.metrics_port is not None:
            server, _ = start_http_server(s.metrics_port, addr=s.metrics_host, registry=self.metrics.registry)
            self.metrics_port = server.server_port
            log.info("metrics on http://%s:%d/metrics", s.metrics_host, self.metrics_port)
        tasks = {asyncio.create_task(self._watch_stop(stop)), asyncio.create_task(self._report())}
        try:
            await self._bounded(self._retrying("redis", writer.load_functions))
            await self._producer.start()
            await self._consumer.start()
            self._consumer.subscribe(list(self._topics), listener=_Rebalance(self))
            log.info("consuming %s as group %r", ", ".join(self._topics), s.group_id)
            while not stop.is_set():
                batch = await self._consumer.getmany(timeout_ms=s.poll_timeout_ms, max_records=s.batch_size)
                if batch:
                    self._pending = batch
                    await self._flush()
        except TimeoutError:
            if self._deadline is None:
                raise
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._consumer.stop()
            await self._producer.stop()
            await redis.aclose()
            if server is not None:
                await asyncio.to_thread(server.shutdown)
                server.server_close()
            self._report_line()
            log.info("stopped")

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
        decoded = build((m for messages in batch.values() for m in messages), self._topics)
        for kind, count in decoded.records_in.items():
            self.metrics.records_in.labels(kind).inc(count)
        if decoded.dead:
            await self._retrying("dead-letter", lambda: self._send_dead(decoded.dead))
        if decoded.plan:
            writer = self._writer
            assert writer is not None
            result = await self._retrying("redis", lambda: writer.write(decoded.plan))
            self._count(decoded, result)
        offsets = {tp: messages[-1].offset + 1 for tp, messages in batch.items()}
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The partitions moved on; their next owner reads these records again, and writing them
            # twice changes nothing.
            log.warning("commit refused (%s)", exc)
            self.metrics.commit_failures.inc()
            return
        self._next_offsets.update(offsets)
        self.metrics.committed.inc(sum(len(messages) for messages in batch.values()))

    async def _send_dead(self, dead: Sequence[DeadLetter]) -> None:
        """Every dead letter acknowledged by all in-sync replicas, before the batch is committed."""
        now = int(time.time() * 1000)
        sent = []
        for letter in dead:
            m = letter.message
            raw, reason = m.value or b"", letter.reason
            if len(raw) > DLQ_RAW_LIMIT:
                # Base64 plus text more than doubles it: keep the record under Kafka's 1 MB default.
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
        for letter in dead:
            self.metrics.dlq.labels(letter.message.topic).inc()
        log.warning("dead-lettered %d records, first: %s", len(dead), dead[0].reason)

    def _count(self, decoded: DecodedBatch, result: WriteResult) -> None:
        m = self.metrics
        m.records_out.labels("trade").inc(result.trades_written)
        m.records_out.labels("ticker").inc(result.tickers_written)
        m.records_out.labels("orderbook").inc(result.orderbooks_written)
        for kind, reason, count in (
            ("trade", "duplicate", result.trades_duplicate),
            ("trade", "expired", result.trades_expired),
            ("ticker", "stale", result.tickers_stale),
            ("orderbook", "stale", result.orderbooks_stale),
            ("ticker", "superseded", decoded.superseded["ticker"]),
            ("orderbook", "superseded", decoded.superseded["orderbook"]),
        ):
            if count:
                m.skipped.labels(kind, reason).inc(count)

    async def _retrying(self, what: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """Until it works: Redis or Kafka down means wait (nothing is committed meanwhile), not lose."""
        backoff = Backoff(initial_s=self.settings.retry_initial_s, max_s=self.settings.retry_max_s)
        while True:
            try:
                return await attempt()
            except (RedisError, KafkaError, OSError) as exc:
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
        """Rebalance hook: write and commit the batch in hand before the partitions move."""
        await self._flush()
        for tp in revoked:
            self._next_offsets.pop(tp, None)
        self.assigned.clear()

    def on_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        """Rebalance hook: the partitions this member owns from now on."""
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
        """One line of throughput and lag; the rates are over the time since the previous line."""
        now = time.monotonic()
        registry = self.metrics.registry

        def total(name: str, **labels: str) -> float:
            return registry.get_sample_value(name, labels) or 0.0

        read = sum(total("cryptoflow_sink_records_in_total", kind=kind) for kind in KINDS)
        written = {kind: total("cryptoflow_sink_records_out_total", kind=kind) for kind in KINDS}
        duplicates = total("cryptoflow_sink_records_skipped_total", kind="trade", reason="duplicate")
        expired = total("cryptoflow_sink_records_skipped_total", kind="trade", reason="expired")
        dead = sum(total("cryptoflow_sink_dlq_total", topic=topic) for topic in self._topics)
        lag = self._lag()
        last_time, last_read = self._last_report
        rate = (read - last_read) / max(now - last_time, 1e-9)
        self._last_report = (now, read)
        log.info(
            "read %d (%.0f/s) | written trade %d ticker %d orderbook %d | duplicates %d expired %d | dlq %d"
            " | lag %s",
            read,
            rate,
            written["trade"],
            written["ticker"],
            written["orderbook"],
            duplicates,
            expired,
            dead,
            "?" if lag is None else lag,
        )

    def _lag(self) -> int | None:
        """Records behind the high watermark, from what the fetcher already knows (no request)."""
        consumer = self._consumer
        if consumer is None:
            return None
        by_topic: dict[str, int] = {}
        for tp, next_offset in self._next_offsets.items():
            highwater = consumer.highwater(tp)
            if highwater is not None:
                by_topic[tp.topic] = by_topic.get(tp.topic, 0) + max(highwater - next_offset, 0)
        for topic in self._topics:
            self.metrics.lag.labels(topic).set(by_topic.get(topic, 0))
        return sum(by_topic.values()) if by_topic else None


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """aiokafka awaits these during a rebalance: revoke runs before the partitions move."""

    def __init__(self, sink: StreamSink) -> None:
        self._sink = sink

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._sink.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self._sink.on_assigned(assigned)


async def run_sink(
    settings: SinkSettings, stop: asyncio.Event, *, metrics: SinkMetrics | None = None
) -> None:
    """Runs one sink until `stop` is set, then finishes the batch in hand, commits and closes."""
    await StreamSink(settings, metrics=metrics).run(stop)
