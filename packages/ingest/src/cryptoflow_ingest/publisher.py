"""The hot loop: raw frames from the bounded queue → contracts validation → normalized Kafka records.

Sends are pipelined, never fire-and-forget: each loop turns the frames waiting in the queue into one Kafka
batch per partition (`send_batch()` waits while the partition's previous batch is still unsent, which is
how Kafka's back-pressure reaches the socket readers), and the batches' delivery futures go to a second
bounded queue whose task awaits them in order. Only an
acknowledged trade moves the restart checkpoint. A record Kafka finally refuses stops the process: the
checkpoint has not passed it, so the next start backfills it from REST.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from cryptoflow_contracts.errors import FrameError
from cryptoflow_contracts.hotpath import WsRecord, ws_record
from cryptoflow_contracts.records import DeadLetterRecord, RecordHeaders, Source, TradeRecord, serialize
from cryptoflow_contracts.topics import Topic
from cryptoflow_contracts.ws import WsError, WsFrame
from cryptoflow_ingest.connection import Frame, Watermark, now_ms
from cryptoflow_ingest.metrics import IngestMetrics
from cryptoflow_ingest.tracker import TradeTracker

if TYPE_CHECKING:
    from aiokafka.producer.message_accumulator import BatchBuilder

log = logging.getLogger(__name__)

SOURCE_WS = Source.WS.value
SOURCE_BACKFILL = Source.REST_BACKFILL.value
STAGE = "ingest"


@dataclass(slots=True)
class _Batch:
    futures: list[Awaitable[Any]] = field(default_factory=list)
    topics: Counter[Topic] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    # (market, trade ms) of trades, for the checkpoint once acked
    trades: list[tuple[str, int]] = field(default_factory=list)
    builders: dict[tuple[str, int], BatchBuilder] = field(default_factory=dict)
    first_received_ms: int = 0


_STOP = object()


class Publisher:
    def __init__(
        self,
        producer: AIOKafkaProducer,
        queue: asyncio.Queue[Frame],
        *,
        tracker: TradeTracker,
        metrics: IngestMetrics,
        batch_size: int,
        inflight_batches: int,
        topic_prefix: str = "",
    ) -> None:
        self._producer = producer
        self._queue = queue
        self._tracker = tracker
        self._metrics = metrics
        self._batch_size = batch_size
        self._acks: asyncio.Queue[_Batch | object] = asyncio.Queue(maxsize=inflight_batches)
        self._headers: dict[tuple[Topic, str], list[tuple[str, bytes]]] = {}
        self._names = {topic: f"{topic_prefix}{topic.value}" for topic in Topic}
        self._partitions: dict[str, list[int]] = {}
        self._partition_of: dict[tuple[str, bytes], int] = {}
        self._partitioner = DefaultPartitioner()
        self.received = 0
        self.published = 0
        self.dead_letters = 0
        self.lag_ms = 0

    def headers(self, topic: Topic, source: str) -> list[tuple[str, bytes]]:
        key = (topic, source)
        found = self._headers.get(key)
        if found is None:
            found = self._headers[key] = RecordHeaders(contract=topic.value, source=source).to_kafka()
        return found

    async def run(self) -> None:
        """Publish frames until `close()` has queued the stop marker and everything before it is acked."""
        for name in self._names.values():
            self._partitions[name] = sorted(await self._producer.partitions_for(name))
        acker = asyncio.create_task(self._ack_loop(), name="publisher-acks")
        try:
            await self._publish_loop()
        finally:
            await self._acks.put(_STOP)
            await acker

    async def close(self) -> None:
        await self._queue.put(_STOP)  # type: ignore[arg-type]

    def _partition(self, topic: str, key: bytes) -> int:
        """Kafka's default (murmur2) partition of `key`, computed once per market: murmur2 is pure Python
        in aiokafka and was a tenth of the hot loop. The partition count is read at start."""
        found = self._partition_of.get((topic, key))
        if found is None:
            partitions = self._partitions[topic]
            found = self._partition_of[(topic, key)] = self._partitioner(key, partitions, partitions)
        return found

    async def _publish_loop(self) -> None:
        queue = self._queue
        get_nowait = queue.get_nowait
        while True:
            items = [await queue.get()]
            for _ in range(min(queue.qsize(), self._batch_size - 1)):
                items.append(get_nowait())
            batch = _Batch()
            stop = items[-1] is _STOP
            if stop:
                items.pop()
            self.received += len(items)
            if items:
                batch.first_received_ms = items[0][1]
            for raw, received, mark in items:
                outgoing = self._record_for(raw, received, mark, batch)
                if outgoing is not None:
                    await self._append(batch, *outgoing)
            # One Kafka batch per partition per loop: the per-record futures and work of send() are the
            # other big cost of the hot loop.
            for (topic, partition), builder in batch.builders.items():
                batch.futures.append(await self._producer.send_batch(builder, topic, partition=partition))
            batch.builders.clear()
            self._metrics.queue_depth.set(queue.qsize())
            for kind, count in batch.kinds.items():
                self._metrics.messages_in.labels(kind).inc(count)
            if batch.futures:
                await self._acks.put(batch)
            if stop:
                return

    async def _append(
        self, batch: _Batch, topic: Topic, key: bytes | None, value: bytes, source: str
    ) -> None:
        name = self._names[topic]
        partition = self._partition(name, key) if key is not None else self._partitions[name][0]
        headers = self.headers(topic, source)
        builder = batch.builders.get((name, partition))
        if builder is None:
            builder = batch.builders[(name, partition)] = self._producer.create_batch()
        if builder.append(key=key, value=value, timestamp=None, headers=headers) is None:
            # Full: ship it and start the next one.
            batch.futures.append(await self._producer.send_batch(builder, name, partition=partition))
            builder = batch.builders[(name, partition)] = self._producer.create_batch()
            if builder.append(key=key, value=value, timestamp=None, headers=headers) is None:
                raise ValueError(f"a {len(value)}-byte record does not fit in an empty Kafka batch")
        batch.topics[topic] += 1

    def _record_for(
        self, raw: bytes, received_ms: int, mark: Watermark, batch: _Batch
    ) -> tuple[Topic, bytes | None, bytes, str] | None:
        """(topic, key, value, source) for a frame: its record, a dead letter, or None (control frames)."""
        try:
            out = ws_record(raw, received_ms=received_ms, source=SOURCE_WS)
        except FrameError as exc:
            batch.kinds["invalid"] += 1
            return self._dead_letter(raw, exc.reason, received_ms)
        except ValueError as exc:  # the frame validated, so this would be a contracts bug: keep it
            return self._dead_letter(raw, f"no record for a valid frame: {exc}", received_ms)
        if not isinstance(out, WsRecord):
            self._control_frame(out, batch)
            return None
        if out.sequential_id is not None and out.trade_timestamp is not None:
            self._tracker.seen(out.market, out.sequential_id, out.trade_timestamp)
            batch.trades.append((out.market, out.trade_timestamp))
        batch.kinds[out.kind] += 1
        mark.exchange_ms = max(mark.exchange_ms, out.timestamp)
        self.lag_ms = received_ms - out.timestamp
        return out.topic, out.market.encode(), out.value, SOURCE_WS

    def _control_frame(self, frame: WsFrame, batch: _Batch) -> None:
        batch.kinds[frame.KIND] += 1
        if isinstance(frame, WsError):
            self._metrics.ws_errors.labels(frame.error.name).inc()
            log.error("exchange error frame: %s: %s", frame.error.name, frame.error.message)

    def _dead_letter(self, raw: bytes, reason: str, received_ms: int) -> tuple[Topic, None, bytes, str]:
        log.warning("invalid frame to %s: %s", Topic.DLQ.value, reason)
        record = DeadLetterRecord.from_raw(raw, stage=STAGE, reason=reason, failed_ms=received_ms)
        self.dead_letters += 1
        self._metrics.dlq.inc()
        return Topic.DLQ, None, serialize(record), SOURCE_WS

    async def publish_backfill(self, market: str, records: Sequence[TradeRecord]) -> None:
        """Send REST-backfilled trade records and wait until Kafka has every one of them."""
        batch = _Batch()
        key = market.encode()
        for record in records:
            await self._append(batch, Topic.TRADE, key, serialize(record), SOURCE_BACKFILL)
        for (topic, partition), builder in batch.builders.items():
            batch.futures.append(await self._producer.send_batch(builder, topic, partition=partition))
        await asyncio.gather(*batch.futures)
        for record in records:
            self._tracker.acked(market, record.trade_timestamp)
        self._metrics.messages_out.labels(Topic.TRADE.value).inc(len(records))
        self._metrics.backfilled.inc(len(records))
        self.published += len(records)

    async def _ack_loop(self) -> None:
        metrics = self._metrics
        tracker = self._tracker
        while True:
            batch = await self._acks.get()
            if not isinstance(batch, _Batch):
                return
            await asyncio.gather(*batch.futures)
            if batch.first_received_ms:
                metrics.publish_seconds.observe((now_ms() - batch.first_received_ms) / 1000)
            for market, trade_ms in batch.trades:
                tracker.acked(market, trade_ms)
            for topic, count in batch.topics.items():
                metrics.messages_out.labels(topic.value).inc(count)
                self.published += count
