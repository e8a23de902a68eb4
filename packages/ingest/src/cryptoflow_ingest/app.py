"""The ingest process: discovery → sharded WebSocket connections → bounded queue → Kafka, plus gap backfill.

Shutdown order (`docs/architecture.md`, "Streaming"): stop reading → drain the queue → wait for every
ack → save the checkpoint → close the producer and the REST client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from prometheus_client import start_http_server

from cryptoflow_contracts.backoff import Backoff
from cryptoflow_ingest.backfill import Backfiller
from cryptoflow_ingest.connection import Frame, WsConnection, now_ms
from cryptoflow_ingest.discovery import select_markets
from cryptoflow_ingest.metrics import IngestMetrics
from cryptoflow_ingest.publisher import Publisher
from cryptoflow_ingest.rest import UpbitSource
from cryptoflow_ingest.settings import IngestSettings
from cryptoflow_ingest.subscriptions import ShardPlan
from cryptoflow_ingest.tracker import TradeTracker
from cryptoflow_upbit_client import GroupLimiter

log = logging.getLogger(__name__)


class IngestApp:
    def __init__(self, settings: IngestSettings, rest: UpbitSource) -> None:
        self.settings = settings
        self._rest = rest
        self.metrics = IngestMetrics()
        self.tracker = TradeTracker(keep_ms=settings.backfill_margin_ms + 120_000)
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=settings.queue_size)
        self._connect_limits = GroupLimiter(settings.connects_per_s, 1.0 + settings.rate_limit_slack_s)
        self._plan = ShardPlan(settings.codes_per_connection)
        self._connections: dict[int, WsConnection] = {}
        self._connection_tasks: dict[int, asyncio.Task[None]] = {}
        self._retired: set[asyncio.Task[None]] = set()  # connections of dropped shards, closing
        self._stop = asyncio.Event()
        self._publisher: Publisher | None = None
        self._backfiller: Backfiller | None = None
        self.metrics_port: int | None = None
        self.reconnects = 0

    # -- control ----------------------------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stop.set()

    @property
    def markets(self) -> set[str]:
        return self._plan.markets()

    @property
    def backfiller(self) -> Backfiller:
        assert self._backfiller is not None, "not running"
        return self._backfiller

    # -- run --------------------------------------------------------------------------------------------

    async def run(self) -> int:
        """Run until `request_stop()` (0) or a fatal error such as a record Kafka refused (1)."""
        settings = self.settings
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            client_id="cryptoflow-ingest",
            acks="all",
            enable_idempotence=True,
            linger_ms=settings.linger_ms,
            max_batch_size=settings.max_batch_bytes,
            compression_type=settings.compression,
        )
        if settings.state_file is not None:
            self.tracker.load(settings.state_file)
        server = None
        try:
            await producer.start()
            if settings.metrics_port is not None:
                server, _thread = start_http_server(
                    settings.metrics_port, addr=settings.metrics_host, registry=self.metrics.registry
                )
                self.metrics_port = server.server_port
            return await self._run(producer)
        finally:
            await producer.stop()
            if server is not None:
                await asyncio.to_thread(server.shutdown)
                server.server_close()
            self._save_state()

    async def _run(self, producer: AIOKafkaProducer) -> int:
        settings = self.settings
        publisher = self._publisher = Publisher(
            producer,
            self._queue,
            tracker=self.tracker,
            metrics=self.metrics,
            batch_size=settings.publish_batch,
            inflight_batches=settings.inflight_batches,
            topic_prefix=settings.topic_prefix,
        )
        backfiller = self._backfiller = Backfiller(
            self._rest.trade_pages,
            publisher,
            tracker=self.tracker,
            metrics=self.metrics,
            concurrency=settings.backfill_concurrency,
            max_age_ms=int(settings.backfill_max_age_s * 1000),
        )
        publishing = asyncio.create_task(publisher.run(), name="publisher")
        critical: list[asyncio.Task[Any]] = [
            publishing,
            asyncio.create_task(backfiller.run(), name="backfiller"),
        ]
        chores = [
            asyncio.create_task(self._discovery_loop(), name="discovery"),
            asyncio.create_task(self._state_loop(), name="state"),
            asyncio.create_task(self._stats_loop(), name="stats"),
        ]
        stopping = asyncio.create_task(self._stop.wait(), name="stop")
        code = 0
        try:
            done, _ = await asyncio.wait([stopping, *critical, *chores], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopping and not task.cancelled() and task.exception() is not None:
                    log.error("fatal: %s failed", task.get_name(), exc_info=task.exception())
                    code = 1
        finally:
            stopping.cancel()
            for task in chores:
                task.cancel()
            # Stop reading first, then let the publisher drain what was read. Without a publisher a
            # reader may be stuck on the full queue: cancel it (the checkpoint covers the loss).
            readers = [*self._connection_tasks.values(), *self._retired]
            for connection in self._connections.values():
                connection.stop()
            if publishing.done():
                for task in readers:
                    task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            if not publishing.done():
                await publisher.close()
                with contextlib.suppress(Exception):
                    await publishing
                if not publishing.cancelled() and publishing.exception() is not None:
                    log.error("fatal: publishing failed while draining", exc_info=publishing.exception())
                    code = 1
            for task in critical:
                task.cancel()
            await asyncio.gather(*critical, *chores, return_exceptions=True)
        log.info("stopped: %d records published", publisher.published)
        return code

    # -- markets ----------------------------------------------------------------------------------------

    async def _first_markets(self) -> list[str]:
        """The first discovery retries until it works: without markets there is nothing to do."""
        backoff = Backoff(initial_s=1.0, max_s=30.0)
        while True:
            try:
                return select_markets(await self._rest.market_all(), self.settings)
            except Exception as exc:  # the REST client already retried; keep trying slowly
                delay = backoff.next_delay()
                log.warning(
                    "market discovery failed (%s: %s); retrying in %.0f s", type(exc).__name__, exc, delay
                )
                await asyncio.sleep(delay)

    async def _discovery_loop(self) -> None:
        settings = self.settings
        initial = await self._first_markets()
        now = now_ms()
        for market in initial:
            known = self.tracker.last_seen_ms(market)
            if known is not None:
                self.backfiller.open(market, known - settings.backfill_margin_ms)
            elif settings.cold_start_lookback_s > 0:
                self.backfiller.open(market, now - int(settings.cold_start_lookback_s * 1000))
        self._apply(initial, listed_now=False)
        while True:
            await asyncio.sleep(settings.discovery_interval_s)
            try:
                markets = select_markets(await self._rest.market_all(), settings)
            except Exception as exc:
                log.warning(
                    "market refresh failed (%s: %s); keeping %d markets",
                    type(exc).__name__,
                    exc,
                    len(self.markets),
                )
                continue
            self._apply(markets, listed_now=True)

    def _apply(self, markets: Sequence[str], *, listed_now: bool) -> None:
        before = self._plan.markets()
        changed = self._plan.update(markets)
        added = set(markets) - before
        removed = before - set(markets)
        if listed_now:
            floor = now_ms() - int(self.settings.listing_lookback_s * 1000)
            for market in sorted(added):
                known = self.tracker.last_seen_ms(market)
                self.backfiller.open(
                    market, floor if known is None else known - self.settings.backfill_margin_ms
                )
        for market in removed:
            self.backfiller.drop(market)
            self.tracker.forget(market)
        if added or removed:
            log.info(
                "markets: %d (+%d %s, -%d %s)",
                len(markets),
                len(added),
                sorted(added)[:10],
                len(removed),
                sorted(removed)[:10],
            )
        shards = self._plan.shards
        for shard_id in sorted(changed):
            codes = shards.get(shard_id)
            connection = self._connections.get(shard_id)
            if codes is None:
                if connection is not None:
                    connection.stop()
                    del self._connections[shard_id]
                    task = self._connection_tasks.pop(shard_id)
                    self._retired.add(task)
                    task.add_done_callback(self._retired.discard)
            elif connection is None:
                self._start_connection(shard_id, codes)
            else:
                connection.set_codes(codes)
        self.metrics.markets.set(len(markets))

    def _start_connection(self, shard_id: int, codes: Sequence[str]) -> None:
        connection = WsConnection(
            f"ws-{shard_id}",
            codes,
            settings=self.settings,
            queue=self._queue,
            connect_limits=self._connect_limits,
            on_down=self._on_down,
            on_live=self.backfiller.release,
            on_reconnect=self._on_reconnect,
        )
        self._connections[shard_id] = connection
        self._connection_tasks[shard_id] = asyncio.create_task(connection.run(), name=connection.name)

    def _on_down(self, markets: Sequence[str], delivered_ms: int) -> None:
        # The margin covers frames the exchange sends out of order and clock skew between Upbit and us.
        floor = delivered_ms - self.settings.backfill_margin_ms
        wanted = self._plan.markets()
        for market in markets:
            if market in wanted:
                self.backfiller.open(market, floor)

    def _on_reconnect(self) -> None:
        self.reconnects += 1
        self.metrics.reconnects.inc()

    # -- chores -----------------------------------------------------------------------------------------

    def _save_state(self) -> None:
        if self.settings.state_file is not None:
            try:
                self.tracker.save(self.settings.state_file)
            except OSError as exc:
                log.error("cannot write state file %s: %s", self.settings.state_file, exc)

    async def _state_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.state_flush_interval_s)
            self._save_state()

    async def _stats_loop(self) -> None:
        publisher = self._publisher
        assert publisher is not None
        interval = self.settings.log_interval_s
        last_in, last_out, last_t = publisher.received, publisher.published, time.monotonic()
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            elapsed = now - last_t
            received, published = publisher.received, publisher.published
            up = sum(1 for c in self._connections.values() if c.connected)
            self.metrics.connections.set(up)
            self.metrics.queue_depth.set(self._queue.qsize())
            self.metrics.lag_ms.set(publisher.lag_ms)
            log.info(
                "in %.0f/s out %.0f/s | queue %d | lag %d ms | dlq %d | ws %d/%d | markets %d | "
                "reconnects %d | backfill pending %d, trades %d",
                (received - last_in) / elapsed,
                (published - last_out) / elapsed,
                self._queue.qsize(),
                publisher.lag_ms,
                publisher.dead_letters,
                up,
                len(self._connections),
                len(self.markets),
                self.reconnects,
                self.backfiller.pending,
                self.backfiller.backfilled,
            )
            last_in, last_out, last_t = received, published, now
