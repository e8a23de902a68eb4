"""Micro-benchmark of cryptoflow-stream-sink (not a test): records/s from a pre-filled topic into Redis.

Three figures from the same records in the same run, on a Kafka and a Redis of its own
(cryptoflow-localstack, loopback, temp folder):

1. ceiling  plain pipelined XADD MAXLEN ~ / HSET of the already-encoded records, batch by batch: what
            Redis takes with no guard, no staleness check, no Kafka and no decoding.
2. writer   the sink's Redis functions (exactly-once guard, latest-wins) on the same encoded batches.
3. sink     the whole sink: Kafka fetch, header check, validation, plan, one pipeline, commit.

It also prints what the guard and the stream cost in Redis memory per trade.

    uv run --package cryptoflow-stream-sink python packages/stream-sink/bench/bench_sink.py
    ... --trades 200000 --tickers 20000 --orderbooks 5000 --markets 50 --batch-size 1000
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from cryptoflow_contracts import redis_keys
from cryptoflow_contracts.records import (
    OrderbookRecord,
    OrderbookUnit,
    RecordHeaders,
    RecordModel,
    TickerRecord,
    TradeRecord,
    kafka_key,
    serialize,
)
from cryptoflow_contracts.topics import Topic
from cryptoflow_localstack.kafka_broker import SERVER_JVM_FLAGS, KafkaBroker
from cryptoflow_localstack.redis_server import RedisServer
from cryptoflow_stream_sink.batch import build
from cryptoflow_stream_sink.settings import SinkSettings
from cryptoflow_stream_sink.sink import StreamSink
from cryptoflow_stream_sink.writer import Plan, RedisWriter, round_trip

PREFIX = "bench."
T0 = 1_773_278_125_000


def records(trades: int, tickers: int, orderbooks: int, markets: int) -> list[RecordModel]:
    """Interleaved like live traffic; trade ids unique per market and not in time order."""
    names = [f"KRW-C{i:03d}" for i in range(markets)]
    keyed: list[tuple[float, RecordModel]] = []
    for i in range(trades):
        ts = T0 + i + (5 if i % 2 else -5)
        keyed.append((i, _trade(names[i % markets], 17_732_781_250_000_000 + i, ts)))
    for i in range(tickers):
        keyed.append(((i + 0.5) * trades / tickers, _ticker(names[i % markets], T0 + i)))
    for i in range(orderbooks):
        keyed.append(((i + 0.25) * trades / orderbooks, _orderbook(names[i % markets], T0 + i)))
    keyed.sort(key=lambda pair: pair[0])
    return [record for _, record in keyed]


def _trade(market: str, sid: int, ts: int) -> TradeRecord:
    return TradeRecord(
        market=market,
        sequential_id=sid,
        trade_timestamp=ts,
        timestamp=ts + 3,
        received_ms=ts + 15,
        price=Decimal("104862000.0") + sid % 1000,
        volume=Decimal("0.00412") + Decimal(sid % 97) / 10**8,
        side="BID" if sid % 3 else "ASK",
        prev_closing_price=Decimal("104215000.0"),
        change="RISE",
        change_price=Decimal("647000.0"),
        best_ask_price=Decimal("104862000.0"),
        best_ask_size=Decimal("0.02171756"),
        best_bid_price=Decimal("104861000.0"),
        best_bid_size=Decimal("0.14029487"),
        stream_type="REALTIME",
        source="ws",
    )


_UNITS = [
    OrderbookUnit(
        ask_price=Decimal(104862000 + k * 1000),
        ask_size=Decimal("0.73956512"),
        bid_price=Decimal(104861000 - k * 1000),
        bid_size=Decimal("0.14029487"),
    )
    for k in range(30)
]


def _orderbook(market: str, ts: int) -> OrderbookRecord:
    return OrderbookRecord(
        market=market,
        timestamp=ts,
        received_ms=ts + 9,
        total_ask_size=Decimal("22.18695360"),
        total_bid_size=Decimal("4.20884610"),
        units=_UNITS,
        level=Decimal(0),
        stream_type="REALTIME",
        source="ws",
    )


def _ticker(market: str, ts: int) -> TickerRecord:
    d = Decimal
    return TickerRecord(
        market=market,
        trade_timestamp=ts - 7,
        timestamp=ts,
        received_ms=ts + 11,
        opening_price=d("104215000.0"),
        high_price=d("105120000.0"),
        low_price=d("103980000.0"),
        trade_price=d("104862000.0"),
        prev_closing_price=d("104215000.0"),
        change="RISE",
        change_price=d("647000.0"),
        signed_change_price=d("647000.0"),
        change_rate=d("0.0062083193"),
        signed_change_rate=d("0.0062083193"),
        trade_volume=d("0.00412"),
        acc_trade_volume=d("1412.61142214"),
        acc_trade_price=d("147660279944.1342"),
        acc_trade_volume_24h=d("3021.79822552"),
        acc_trade_price_24h=d("315445528126.6728"),
        acc_ask_volume=d("701.22833678"),
        acc_bid_volume=d("711.38308536"),
        side="BID",
        highest_52_week_price=d("181540000.0"),
        highest_52_week_date="2025-10-06",
        lowest_52_week_price=d("88512000.0"),
        lowest_52_week_date="2026-02-05",
        market_state="ACTIVE",
        stream_type="REALTIME",
        source="ws",
    )


class _Message:
    """A record as the sink would read it from Kafka (for building the same plans without Kafka)."""

    __slots__ = ("headers", "key", "offset", "partition", "topic", "value")

    def __init__(self, record: RecordModel, offset: int) -> None:
        self.topic = f"{PREFIX}{record.TOPIC}"
        self.partition = 0
        self.offset = offset
        self.key = kafka_key(record)  # type: ignore[arg-type]
        self.value = serialize(record)
        self.headers = RecordHeaders.for_record(record).to_kafka()


def plans(all_records: Sequence[RecordModel], batch_size: int) -> list[Plan]:
    topics = {f"{PREFIX}{t}": t for t in (Topic.TRADE, Topic.TICKER, Topic.ORDERBOOK)}
    messages = [_Message(r, i) for i, r in enumerate(all_records)]
    return [build(messages[i : i + batch_size], topics).plan for i in range(0, len(messages), batch_size)]


async def ceiling(redis: Redis, batches: Sequence[Plan], maxlen: int) -> float:
    """Plain pipelined writes of the same encoded fields, XADD MAXLEN ~ and DEL+HSET, sent as the sink
    sends (`round_trip`: packed by hiredis)."""
    await redis.flushdb()
    started = time.perf_counter()
    for plan in batches:
        commands: list[tuple[object, ...]] = []
        for market, trades in plan.trades.items():
            key = redis_keys.trades_key(market)
            commands += [("XADD", key, "MAXLEN", "~", maxlen, "*", *trade.fields) for trade in trades]
        for key_of, latest in (
            (redis_keys.ticker_key, plan.tickers),
            (redis_keys.orderbook_key, plan.orderbooks),
        ):
            for market, entry in latest.items():
                commands += [("DEL", key_of(market)), ("HSET", key_of(market), *entry.fields)]
        await round_trip(redis, commands)
    return time.perf_counter() - started


async def writer_only(redis: Redis, batches: Sequence[Plan], settings: SinkSettings) -> float:
    await redis.flushdb()
    writer = RedisWriter(
        redis,
        stream_maxlen=settings.stream_maxlen,
        dedup_max_ids=settings.dedup_max_ids,
        dedup_horizon_ms=settings.dedup_horizon_ms,
    )
    await writer.load_functions()
    started = time.perf_counter()
    for plan in batches:
        await writer.write(plan)
    return time.perf_counter() - started


async def fill_topics(broker: KafkaBroker, all_records: Sequence[RecordModel]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=broker.bootstrap_servers, acks="all", linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        sent = []
        for record in all_records:
            headers = RecordHeaders.for_record(record).to_kafka()
            topic = f"{PREFIX}{record.TOPIC}"
            sent.append(await producer.send(topic, serialize(record), key=kafka_key(record), headers=headers))  # type: ignore[arg-type]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def whole_sink(settings: SinkSettings, total: int) -> tuple[float, StreamSink]:
    """From the first record read to the last one read, written and committed."""
    sink = StreamSink(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(sink.run(stop))
    registry = sink.metrics.registry

    def read() -> float:
        return sum(
            registry.get_sample_value("cryptoflow_sink_records_in_total", {"kind": k}) or 0.0
            for k in ("trade", "ticker", "orderbook")
        )

    while read() == 0:  # noqa: ASYNC110 - polling the sink's own counters, as a scraper would
        await asyncio.sleep(0.002)
    started = time.perf_counter()
    while (registry.get_sample_value("cryptoflow_sink_records_committed_total") or 0) < total:
        if task.done():
            task.result()
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    return elapsed, sink


async def main_async(args: argparse.Namespace) -> None:
    state = Path(tempfile.mkdtemp(prefix="cryptoflow-sink-bench-"))
    print(f"state in {state}")
    broker = KafkaBroker(state / "kafka", jvm_flags=SERVER_JVM_FLAGS)
    redis_server = RedisServer(state / "redis")
    broker.start()
    redis_server.start()
    try:
        names = [f"{PREFIX}{t}" for t in (Topic.TRADE, Topic.TICKER, Topic.ORDERBOOK)]
        broker.create_topics(names, partitions=args.partitions)
        broker.create_topics([f"{PREFIX}{Topic.DLQ}"])
        all_records = records(args.trades, args.tickers, args.orderbooks, args.markets)
        total = len(all_records)
        settings = SinkSettings(
            kafka_bootstrap=broker.bootstrap_servers,
            group_id="bench",
            topic_prefix=PREFIX,
            redis_url=redis_server.url,
            batch_size=args.batch_size,
            metrics_port=None,
            log_interval_s=3600,
        )
        print(
            f"{total} records ({args.trades} trades, {args.tickers} tickers, {args.orderbooks} orderbooks) "
            f"over {args.markets} markets, batch {args.batch_size}, stream maxlen {settings.stream_maxlen}, "
            f"guard {settings.dedup_max_ids} ids/market"
        )
        started = time.perf_counter()
        await fill_topics(broker, all_records)
        print(f"filled the topics in {time.perf_counter() - started:.1f} s")
        batches = plans(all_records, args.batch_size)

        redis = Redis.from_url(redis_server.url)
        raws, luas, fulls = [], [], []
        try:
            # Interleaved and repeated, best of each kept: the machine is shared, its load comes and goes.
            for round_ in range(args.rounds):
                raws.append(await ceiling(redis, batches, settings.stream_maxlen))
                luas.append(await writer_only(redis, batches, settings))
                await redis.flushdb()
                group = settings.model_copy(update={"group_id": f"bench-{round_}"})
                full, sink = await whole_sink(group, total)
                fulls.append(full)
                out = sink.metrics.registry.get_sample_value(
                    "cryptoflow_sink_records_out_total", {"kind": "trade"}
                )
                assert out == args.trades, f"the sink wrote {out} of {args.trades} trades"
            guard = await redis.memory_usage(redis_keys.trade_ids_key("KRW-C000")) or 0
            stream = await redis.memory_usage(redis_keys.trades_key("KRW-C000")) or 0
            ids = await redis.zcard(redis_keys.trade_ids_key("KRW-C000"))
            entries = await redis.xlen(redis_keys.trades_key("KRW-C000"))
        finally:
            await redis.aclose()
        raw, lua, full = min(raws), min(luas), min(fulls)

        print(f"best of {args.rounds} rounds")
        print(f"ceiling  plain pipelined XADD/HSET  {total / raw:>10,.0f} records/s  ({raw:.2f} s)")
        print(f"writer   sink functions (guard)    {total / lua:>10,.0f} records/s  ({lua:.2f} s)")
        print(f"sink     Kafka -> Redis, committed {total / full:>10,.0f} records/s  ({full:.2f} s)")
        print(f"ratio    sink / ceiling = {raw / full:.2f}, writer / ceiling = {raw / lua:.2f}")
        if ids and entries:
            print(
                f"memory   guard {guard / ids:.0f} B/id ({ids} ids), stream {stream / entries:.0f} B/entry "
                f"({entries} entries)"
            )
    finally:
        broker.stop()
        redis_server.stop()
        shutil.rmtree(state, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--trades", type=int, default=200_000)
    parser.add_argument("--tickers", type=int, default=20_000)
    parser.add_argument("--orderbooks", type=int, default=5_000)
    parser.add_argument("--markets", type=int, default=50)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=2, help="repeat the three phases, keep the best")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
