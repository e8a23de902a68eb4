"""The hot loop alone, fed the recorded Upbit samples, against a real Kafka broker."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from cryptoflow_contracts.records import deserialize_record
from cryptoflow_ingest.connection import Watermark
from cryptoflow_ingest.metrics import IngestMetrics
from cryptoflow_ingest.publisher import Publisher
from cryptoflow_ingest.tracker import TradeTracker
from cryptoflow_localstack.kafka_broker import KafkaBroker


def _lines(path: Path) -> list[bytes]:
    return [line.encode() for line in path.read_text().splitlines() if line.strip()]


async def test_samples_become_records_and_control_frames_do_not(
    samples_dir: Path, kafka_broker: KafkaBroker, topic_prefix: str, kit: Any
) -> None:
    trades = _lines(samples_dir / "ws-trade.jsonl")
    tickers = _lines(samples_dir / "ws-ticker.jsonl") + _lines(samples_dir / "ws-ticker-simple.jsonl")
    books = _lines(samples_dir / "ws-orderbook.jsonl")
    control = _lines(samples_dir / "ws-control.jsonl")
    garbage = [b"[1,2,3]", b'{"type":"trade","code":"KRW-BTC"}']

    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_broker.bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=10)  # smaller than the input: back-pressure
    tracker = TradeTracker(keep_ms=60_000)
    metrics = IngestMetrics()
    publisher = Publisher(
        producer,
        queue,
        tracker=tracker,
        metrics=metrics,
        batch_size=7,
        inflight_batches=2,
        topic_prefix=topic_prefix,
    )
    try:
        task = asyncio.create_task(publisher.run())
        mark = Watermark(0)
        for raw in [*trades, *control, *tickers, *garbage, *books]:
            await queue.put((raw, 1_773_278_140_000, mark))
        await publisher.close()
        await asyncio.wait_for(task, 30)
    finally:
        await producer.stop()

    async def topic(name: str) -> list[Any]:
        return await kit.read_topic(kafka_broker.bootstrap_servers, f"{topic_prefix}{name}", idle_s=0.5)

    assert len(await topic("upbit.trade")) == len(trades)
    assert len(await topic("upbit.ticker")) == len(tickers)
    assert len(await topic("upbit.orderbook")) == len(books)
    dead = await topic("upbit.dlq")
    assert len(dead) == len(garbage)
    reasons = [deserialize_record("upbit.dlq", r.value).reason for r in dead]  # type: ignore[union-attr]
    assert "array" in reasons[0]
    assert "trade_price" in reasons[1]
    assert publisher.published == len(trades) + len(tickers) + len(books) + len(garbage)
    # Control frames are counted, not published; error frames are counted by name.
    sample = metrics.registry.get_sample_value
    assert sample("cryptoflow_ingest_messages_in_total", {"kind": "status"}) == 1
    assert sample("cryptoflow_ingest_messages_in_total", {"kind": "list_subscriptions"}) == 1
    assert sample("cryptoflow_ingest_ws_errors_total", {"name": "INVALID_PARAM"}) == 1
    assert sample("cryptoflow_ingest_ws_errors_total", {"name": "NO_CODES"}) == 1
    assert sample("cryptoflow_ingest_dlq_total") == len(garbage)
    assert sample("cryptoflow_ingest_publish_seconds_count")
    # The acked trades moved the checkpoint; the watermark follows the exchange time.
    checkpoint = tracker.checkpoint()
    assert set(checkpoint) == {"KRW-BTC", "KRW-ETH", "KRW-XRP"}
    assert mark.exchange_ms > 1_773_000_000_000
