"""Hot-path benchmark: upbit-sim → cryptoflow-ingest → Kafka → cryptoflow-stream-sink → Redis, one machine.

    UV_PYTHON_DOWNLOADS=never uv run --package cryptoflow-ingest python bench/hot_path.py [--quick]

Starts its own Kafka and Redis (cryptoflow-localstack, temp folder) and runs the simulator, the sink and
ingest as separate processes, as in production. It prints:

1. the ceiling of each leg alone, fed the same records the simulator produces:
   - the contracts' CPU per frame (validation + normalization + serialization, no I/O),
   - raw aiokafka produce (acks=all, idempotence, ingest's linger/batch settings), both with send() per
     record + gathered futures and with one send_batch() per partition (what ingest does),
   - raw pipelined Redis writes (XADD per trade, HSET per ticker/orderbook; no exactly-once guard);
2. end to end at increasing offered rates: achieved messages/s, drain time after the simulator stops,
   lost trades (every generated trade must be in its `trades:{M}` stream), latency p50/p99 from the
   trade's exchange timestamp to the moment a Redis reader sees it after a warm-up at the same rate
   (`--warmup`; the warm-up's own figures are printed too) — and the ratio to the leg ceilings.

A rate counts as sustained when nothing is lost and the pipeline drains within `--max-drain` seconds.
Figures, not assertions: speed targets live here, not in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import aiohttp
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from redis.asyncio import Redis

from cryptoflow_contracts import redis_keys
from cryptoflow_contracts.hotpath import WsRecord, ws_record
from cryptoflow_contracts.records import RecordHeaders, TradeRecord, record_from_ws, serialize
from cryptoflow_contracts.topics import TOPIC_SPECS, Topic
from cryptoflow_contracts.ws import WsOrderbook, WsTicker, WsTrade, parse_ws_frame
from cryptoflow_ingest.settings import WsFormat
from cryptoflow_ingest.subscriptions import subscribe_request
from cryptoflow_localstack.kafka_broker import SERVER_JVM_FLAGS, KafkaBroker
from cryptoflow_localstack.redis_server import RedisServer
from cryptoflow_stream_sink.writer import round_trip

PY = sys.executable


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- processes ---------------------------------------------------------------------------------------


class Proc:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        self._file = log.open("wb")
        self.popen = subprocess.Popen(
            argv, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=self._file, start_new_session=True
        )

    def first_line(self, timeout: float = 30.0) -> str:
        assert self.popen.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.popen.stdout.readline().decode()
            if line:
                return line.strip()
            if self.popen.poll() is not None:
                break
        raise RuntimeError(f"{self.name} printed nothing; see {self.log}")

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._file.close()
        return self.popen.returncode


@dataclass
class Sim:
    proc: Proc
    ws_url: str
    rest_url: str
    admin_url: str

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(f"{self.admin_url}/{path}", json=body or {})
            response.raise_for_status()
            return response.json()

    async def get(self, path: str, **params: Any) -> Any:
        async with httpx.AsyncClient(timeout=60) as http:
            response = await http.get(f"{self.admin_url}/{path}", params=params)
            response.raise_for_status()
            return response.json()

    async def trade_ids(self, markets: list[str], since_ms: int) -> dict[str, set[int]]:
        """The ids of every trade the simulator generated from `since_ms` on, per market."""
        out: dict[str, set[int]] = {}
        for market in markets:
            body = await self.get("trades", market=market, history="true", order="asc")
            out[market] = {int(t["sequential_id"]) for t in body["trades"] if int(t["timestamp"]) >= since_ms}
        return out


def start_sim(markets: int, workdir: Path, *, limits: bool = False) -> Sim:
    """The simulator at 1,000 msg/s, paused by the caller; without Upbit's limits unless `limits`."""
    proc = Proc(
        "upbit-sim",
        [
            PY,
            "-m",
            "upbit_sim",
            "serve",
            "--port",
            "0",
            "--markets",
            str(markets),
            "--rate",
            "1000",
            *([] if limits else ["--no-limits"]),
            "--history-minutes",
            "0",
            "--log-interval",
            "0",
            "--seed",
            "7",
        ],
        {},
        workdir / "sim.log",
    )
    parts = dict(item.split("=", 1) for item in proc.first_line().split()[1:])
    return Sim(proc, parts["ws"], parts["rest"], parts["admin"])


# -- leg ceilings -------------------------------------------------------------------------------------


async def sample_frames(sim: Sim, markets: list[str], count: int) -> list[bytes]:
    """Raw frames exactly as the simulator sends them to ingest (trade/ticker/orderbook mix)."""
    frames: list[bytes] = []
    await sim.post("generator/rate", {"rate": 20_000})
    await sim.post("generator/resume")
    async with aiohttp.ClientSession() as http, http.ws_connect(sim.ws_url, max_msg_size=0) as ws:
        await ws.send_str(subscribe_request(markets, orderbook_depth=30, ws_format=WsFormat.DEFAULT).decode())
        while len(frames) < count:
            frames.append(await ws.receive_bytes())
    await sim.post("generator/pause")
    return frames


@dataclass
class Prepared:
    topic: str
    key: bytes
    value: bytes
    record: Any


def prepare(frames: list[bytes]) -> list[Prepared]:
    out = []
    for raw in frames:
        frame = parse_ws_frame(raw)
        if isinstance(frame, WsTrade | WsTicker | WsOrderbook):
            record = record_from_ws(frame, received_ms=now_ms())
            out.append(Prepared(record.TOPIC.value, record.market.encode(), serialize(record), record))
    return out


def hot_loop_cpu(frames: list[bytes], seconds: float = 3.0) -> tuple[float, dict[str, float]]:
    """Frames/s of ingest's contracts step (`hotpath.ws_record`: validation, normalization,
    serialization) on one core, and µs per kind."""
    per_kind: dict[str, list[float]] = {}
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for raw in frames:
            t0 = time.perf_counter()
            record = ws_record(raw, received_ms=1, source="ws")
            if isinstance(record, WsRecord):
                per_kind.setdefault(record.kind, []).append(time.perf_counter() - t0)
            done += 1
    elapsed = time.perf_counter() - started
    return done / elapsed, {kind: statistics.fmean(v) * 1e6 for kind, v in per_kind.items()}


async def raw_produce(
    bootstrap: str, prefix: str, records: list[Prepared], total: int, *, batched: bool
) -> float:
    """Records/s of aiokafka alone. `batched=False`: `send()` per record, futures gathered per 1,000;
    `batched=True`: one `send_batch()` per partition per 1,000 records (what ingest does)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=0,  # as ingest
        max_batch_size=256 * 1024,
    )
    await producer.start()
    headers = {t: RecordHeaders(contract=t).to_kafka() for t in {r.topic for r in records}}
    partitioner = DefaultPartitioner()
    partitions = {t: sorted(await producer.partitions_for(prefix + t)) for t in headers}
    try:
        started = time.perf_counter()
        sent = 0
        while sent < total:
            chunk = records[: min(1000, total - sent)]
            futures = []
            if batched:
                builders: dict[tuple[str, int], Any] = {}
                for r in chunk:
                    tp = (prefix + r.topic, partitioner(r.key, partitions[r.topic], partitions[r.topic]))
                    builder = builders.get(tp)
                    if builder is None:
                        builder = builders[tp] = producer.create_batch()
                    if (
                        builder.append(key=r.key, value=r.value, timestamp=None, headers=headers[r.topic])
                        is None
                    ):
                        futures.append(await producer.send_batch(builder, tp[0], partition=tp[1]))
                        builder = builders[tp] = producer.create_batch()
                        builder.append(key=r.key, value=r.value, timestamp=None, headers=headers[r.topic])
                for (topic, partition), builder in builders.items():
                    futures.append(await producer.send_batch(builder, topic, partition=partition))
            else:
                for r in chunk:
                    futures.append(
                        await producer.send(
                            prefix + r.topic, value=r.value, key=r.key, headers=headers[r.topic]
                        )
                    )
            await asyncio.gather(*futures)
            sent += len(chunk)
        return sent / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def raw_redis(url: str, records: list[Prepared], total: int) -> float:
    """Records/s of Redis alone: XADD per trade, HSET per ticker/orderbook, pipelines of 1,000 sent as the
    sink sends them (`round_trip`, packed by hiredis), the field lists prepared beforehand (no exactly-once
    guard, no decoding)."""
    commands: list[tuple[object, ...]] = []
    for record in records:
        market = record.key.decode()
        fields = [
            x for k, v in record.record.model_dump(mode="json").items() if v is not None for x in (k, str(v))
        ]
        if isinstance(record.record, TradeRecord):
            commands.append(
                ("XADD", f"bench:{redis_keys.trades_key(market)}", "MAXLEN", "~", 10_000, "*", *fields)
            )
        else:
            commands.append(("HSET", f"bench:{record.topic}:{{{market}}}", *fields))
    redis = Redis.from_url(url)
    try:
        started = time.perf_counter()
        sent = 0
        while sent < total:
            chunk = [commands[(sent + i) % len(commands)] for i in range(min(1000, total - sent))]
            await round_trip(redis, chunk)
            sent += len(chunk)
        return sent / (time.perf_counter() - started)
    finally:
        await redis.flushdb()
        await redis.aclose()


# -- end to end -----------------------------------------------------------------------------------------


@dataclass
class Result:
    rate: int
    seconds: float
    frames: int = 0
    trades: int = 0
    achieved: float = 0.0
    drain_s: float = 0.0
    lost: int = 0
    # Per trade: (exchange trade time, latency to a Redis reader), and (exchange trade time, simulator ->
    # ingest's socket read, ingest's read -> readable in Kafka).
    redis_samples: list[tuple[int, int]] = field(default_factory=list)
    kafka_samples: list[tuple[int, int, int]] = field(default_factory=list)
    steady_from_ms: int = 0  # trades from here on are past the warm-up

    def redis_latencies(self, *, steady: bool = True) -> list[float]:
        return [float(lat) for ts, lat in self.redis_samples if (ts >= self.steady_from_ms) == steady]

    def kafka_legs(self, *, steady: bool = True) -> list[tuple[int, int]]:
        return [
            (feed, inside) for ts, feed, inside in self.kafka_samples if (ts >= self.steady_from_ms) == steady
        ]

    @property
    def sustained(self) -> bool:
        return self.lost == 0 and self.drain_s <= ARGS.max_drain


# Latency is sampled on every LATENCY_EVERY-th market: reading every trade back (redis-py and aiokafka
# parse in Python) took a sixth of a core at 10,000 msg/s, CPU the pipeline under test then lacked.
LATENCY_EVERY = 4


async def read_latencies(
    redis: Redis, markets: list[str], out: list[tuple[int, int]], stop: asyncio.Event
) -> None:
    """XREAD the markets' trades streams; latency = the moment an entry is seen - its exchange trade time."""
    last = {redis_keys.trades_key(m): "$" for m in markets}
    while not stop.is_set():
        replies = await redis.xread(last, block=100, count=10_000)  # type: ignore[arg-type]
        seen = now_ms()
        for key, entries in replies:
            for entry_id, fields in entries:
                trade_ms = int(fields[b"trade_timestamp"])
                out.append((trade_ms, seen - trade_ms))
                last[key.decode()] = entry_id


async def stream_ids(redis: Redis, market: str) -> list[int]:
    """The `sequential_id` of every entry of the market's trades stream, repeats included."""
    entries = cast(list[tuple[bytes, dict[bytes, bytes]]], await redis.xrange(redis_keys.trades_key(market)))
    return [int(fields[b"sequential_id"]) for _, fields in entries]


async def drain(
    redis: Redis, expected: dict[str, set[int]], *, within_s: float, poll_s: float
) -> dict[str, list[int]]:
    """Waits until every expected trade is in its stream (XLEN first, it is cheap; then the ids), or
    `within_s` has passed; returns the streams' ids."""
    deadline = time.monotonic() + within_s
    while True:
        lengths = [await redis.xlen(redis_keys.trades_key(m)) for m in expected]
        late = time.monotonic() > deadline
        if late or all(n >= len(ids) for n, ids in zip(lengths, expected.values(), strict=True)):
            found = {market: await stream_ids(redis, market) for market in expected}
            if late or not missing_trades(expected, found):
                return found
        await asyncio.sleep(poll_s)


async def watch_growth(redis: Redis, markets: list[str], last_growth: list[int], stop: asyncio.Event) -> None:
    """Sets `last_growth[0]` to the moment the trades streams last grew (polled every 50 ms): once
    drained, when the last trade became visible."""
    total = 0
    while not stop.is_set():
        async with redis.pipeline(transaction=False) as pipe:
            for market in markets:
                pipe.xlen(redis_keys.trades_key(market))
            now = sum(await pipe.execute())
        if now > total:
            total, last_growth[0] = now, now_ms()
        await asyncio.sleep(0.05)


def missing_trades(expected: dict[str, set[int]], found: dict[str, list[int]]) -> dict[str, set[int]]:
    return {market: lost for market, ids in expected.items() if (lost := ids - set(found[market]))}


def describe_missing(market: str, lost: set[int], started_ms: int) -> str:
    """Which trades are missing: evidence for finding where they went (ingest and sink logs)."""
    first = sorted(lost)[:5]
    shown = ", ".join(f"{sid} (+{sid // 10_000 - started_ms} ms)" for sid in first)
    return f"missing {market}: {len(lost)}: {shown}{' ...' if len(lost) > len(first) else ''}"


async def read_kafka_latencies(
    bootstrap: str, topic: str, markets: list[str], out: list[tuple[int, int, int]], stop: asyncio.Event
) -> None:
    """The ingest leg alone, per trade of `markets`: (exchange trade time, simulator -> ingest's socket
    read, ingest's read -> readable in Kafka); their sum is the trade's latency to Kafka. Reads only the
    partitions that hold those markets."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="latest")
    await consumer.start()
    try:
        partitions = list(range(next(spec.partitions for spec in TOPIC_SPECS if spec.name == Topic.TRADE)))
        keys = {m.encode() for m in markets}
        partitioner = DefaultPartitioner()
        consumer.assign([TopicPartition(topic, partitioner(k, partitions, partitions)) for k in keys])
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100)
            seen = now_ms()
            for records in batches.values():
                for record in records:
                    if record.key not in keys:
                        continue
                    value = json.loads(record.value)
                    trade_ms, received_ms = value["trade_timestamp"], value["received_ms"]
                    out.append((trade_ms, received_ms - trade_ms, seen - received_ms))
    finally:
        await consumer.stop()


@contextlib.contextmanager
def pipeline(sim: Sim, kafka: KafkaBroker, redis_url: str, workdir: Path, tag: str) -> Iterator[str]:
    prefix = f"bench.{tag}.{secrets.token_hex(3)}."
    kafka_topics(kafka, prefix)
    bootstrap = kafka.bootstrap_servers
    sink = Proc(
        "sink",
        [PY, "-m", "cryptoflow_stream_sink"],
        {
            "CRYPTOFLOW_SINK_KAFKA_BOOTSTRAP": bootstrap,
            "CRYPTOFLOW_SINK_TOPIC_PREFIX": prefix,
            "CRYPTOFLOW_SINK_GROUP_ID": f"bench-{tag}-{secrets.token_hex(3)}",
            "CRYPTOFLOW_SINK_REDIS_URL": redis_url,
            "CRYPTOFLOW_SINK_METRICS_PORT": "0",
            # Streams are capped (MAXLEN ~) in production; here every trade must stay countable.
            "CRYPTOFLOW_SINK_STREAM_MAXLEN": "1000000",
            "CRYPTOFLOW_SINK_DEDUP_MAX_IDS": "1000000",
        },
        workdir / f"sink-{tag}.log",
    )
    ingest = Proc(
        "ingest",
        [PY, "-m", "cryptoflow_ingest"],
        {
            "CRYPTOFLOW_INGEST_WS_URL": sim.ws_url,
            "CRYPTOFLOW_INGEST_REST_URL": sim.rest_url,
            "CRYPTOFLOW_INGEST_KAFKA_BOOTSTRAP": bootstrap,
            "CRYPTOFLOW_INGEST_TOPIC_PREFIX": prefix,
            "CRYPTOFLOW_INGEST_STATE_FILE": str(workdir / f"state-{tag}.json"),
            "CRYPTOFLOW_INGEST_METRICS_PORT": "0",
            "CRYPTOFLOW_INGEST_LOG_INTERVAL_S": "2",
            **dict(item.split("=", 1) for item in ARGS.ingest_env),
        },
        workdir / f"ingest-{tag}.log",
    )
    try:
        yield prefix
    finally:
        for proc in (ingest, sink):
            code = proc.stop()
            if code != 0:
                print(f"  ! {proc.name} exited {code}; see {proc.log}", file=sys.stderr)


def kafka_topics(kafka: KafkaBroker, prefix: str) -> None:
    for spec in TOPIC_SPECS:
        kafka.create_topics([prefix + spec.name.value], partitions=spec.partitions)


async def run_rate(sim: Sim, markets: list[str], kafka: KafkaBroker, redis_url: str, *, rate: int) -> Result:
    bootstrap = kafka.bootstrap_servers
    workdir = Path(kafka.state_dir).parent
    result = Result(rate, ARGS.duration)
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await sim.post("generator/pause")
    with pipeline(sim, kafka, redis_url, workdir, f"r{rate}") as prefix:
        # Subscribed once the simulator counts our subscriptions.
        for _ in range(300):
            stats = await sim.get("stats")
            if stats["subscriptions"]["current"] >= 3 * len(markets):
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError("ingest did not subscribe")
        await asyncio.sleep(2)  # sink joined its group
        before = await sim.get("stats")
        stop = asyncio.Event()
        sampled = markets[::LATENCY_EVERY]
        last_growth = [0]
        readers = [
            asyncio.create_task(watch_growth(redis, markets, last_growth, stop)),
            asyncio.create_task(read_latencies(redis, sampled, result.redis_samples, stop)),
            asyncio.create_task(
                read_kafka_latencies(bootstrap, prefix + "upbit.trade", sampled, result.kafka_samples, stop)
            ),
        ]
        await asyncio.sleep(1)  # readers positioned at the end
        await sim.post("generator/rate", {"rate": rate})
        started_ms = now_ms()
        await sim.post("generator/resume")
        # Latency percentiles describe the steady state; the warm-up's are printed apart (the first
        # second of traffic through fresh processes and topics is slower: JIT, first fetches).
        await asyncio.sleep(ARGS.warmup)
        result.steady_from_ms = now_ms()
        await asyncio.sleep(ARGS.duration)
        await sim.post("generator/pause")
        paused_ms = now_ms()
        after = await sim.get("stats")
        result.frames = sum(
            after["frames_sent"].get(k, 0) - before["frames_sent"].get(k, 0)
            for k in ("trade", "ticker", "orderbook")
        )
        expected = await sim.trade_ids(markets, started_ms - 5)
        result.trades = sum(len(v) for v in expected.values())
        # Still missing after the drain: lost, or too far behind to count as sustained.
        missing = missing_trades(expected, await drain(redis, expected, within_s=120, poll_s=0.05))
        for market, lost in missing.items():
            print(f"           {describe_missing(market, lost, started_ms)}")
        stop.set()
        await asyncio.gather(*readers)
        result.lost = sum(map(len, missing.values()))
        result.drain_s = max(0, last_growth[0] - paused_ms) / 1000
        result.achieved = result.frames / ((last_growth[0] - started_ms) / 1000)
    await redis.aclose()
    return result


# -- main ---------------------------------------------------------------------------------------------


async def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="cryptoflow-bench-"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"hot-path benchmark: {os.cpu_count()} cores, load average {load}; work files in {workdir}")
    kafka = KafkaBroker(workdir / "kafka", jvm_flags=SERVER_JVM_FLAGS)
    redis_server = RedisServer(workdir / "redis")
    kafka.start()
    redis_server.start()
    sim = start_sim(ARGS.markets, workdir)
    try:
        markets = [m["market"] for m in await sim.get("markets")]
        print(f"{kafka.version} {kafka.bootstrap_servers}, Redis {redis_server.url}, {len(markets)} markets")

        frames = await sample_frames(sim, markets, 20_000)
        prepared = prepare(frames)
        mix = {
            k: sum(1 for p in prepared if p.record.kind == k) / len(prepared)
            for k in ("trade", "ticker", "orderbook")
        }
        cpu_rate, per_kind = hot_loop_cpu(frames)
        kafka_topics(kafka, "bench.raw.")
        send_rate = await raw_produce(kafka.bootstrap_servers, "bench.raw.", prepared, 50_000, batched=False)
        produce_rate = await raw_produce(
            kafka.bootstrap_servers, "bench.raw.", prepared, 200_000, batched=True
        )
        redis_rate = await raw_redis(redis_server.url, prepared, 100_000)
        print(
            "\nleg ceilings (same records as the simulator sends; mix "
            + ", ".join(f"{k} {v:.0%}" for k, v in mix.items())
            + ")"
        )
        print(
            f"  contracts CPU (validate+record+serialize): {cpu_rate:>9,.0f} frames/s  (/cpu below)  "
            + "  ".join(f"{k} {v:.0f} µs" for k, v in per_kind.items())
        )
        print(f"  raw aiokafka send() + gathered futures   : {send_rate:>9,.0f} records/s")
        print(f"  raw aiokafka send_batch() per partition  : {produce_rate:>9,.0f} records/s  (/kafka below)")
        print(f"  raw pipelined Redis writes               : {redis_rate:>9,.0f} records/s  (/redis below)")

        print(f"\nend to end, {ARGS.warmup:.0f} s warm-up + {ARGS.duration:.0f} s per offered rate")
        print(f"  sustained = no trade lost and drained within {ARGS.max_drain} s after the simulator stops")
        print("  latency ms = exchange trade time -> seen by a reader")
        print("               in Kafka (the ingest leg) / in Redis (end to end)")
        print(
            f"  {'offered':>8} {'achieved':>9} {'trades':>7} {'lost':>5} {'drain s':>8} "
            f"{'kafka p50/p99':>14} {'redis p50/p99':>14}  {'/kafka':>7} {'/redis':>7} {'/cpu':>6}"
        )
        best = 0.0
        for rate in ARGS.rates:
            r = await run_rate(sim, markets, kafka, redis_server.url, rate=rate)
            legs = r.kafka_legs()
            to_kafka = [float(feed + inside) for feed, inside in legs]
            to_redis = r.redis_latencies()
            kafka_lat = f"{pct(to_kafka, 0.5):.0f}/{pct(to_kafka, 0.99):.0f}"
            redis_lat = f"{pct(to_redis, 0.5):.0f}/{pct(to_redis, 0.99):.0f}"
            print(
                f"  {rate:>8,} {r.achieved:>9,.0f} {r.trades:>7,} {r.lost:>5} {r.drain_s:>8.2f} "
                f"{kafka_lat:>14} {redis_lat:>14}  "
                f"{r.achieved / produce_rate:>7.2f} {r.achieved / redis_rate:>7.2f} "
                f"{r.achieved / cpu_rate:>6.2f}"
                f"  {'sustained' if r.sustained else 'NOT sustained'}",
                flush=True,
            )
            if r.sustained:
                best = max(best, r.achieved)
            feed = [float(a) for a, _ in legs]
            inside = [float(b) for _, b in legs]
            warm = r.redis_latencies(steady=False)
            print(
                f"           of the Kafka latency: simulator -> ingest read p50/p99 {pct(feed, 0.5):.0f}/"
                f"{pct(feed, 0.99):.0f} ms, ingest read -> in Kafka p50/p99 {pct(inside, 0.5):.0f}/"
                f"{pct(inside, 0.99):.0f} ms; warm-up ({len(warm):,} trades) Redis p50/p99 "
                f"{pct(warm, 0.5):.0f}/{pct(warm, 0.99):.0f} ms"
            )
        print(
            f"\nhighest sustained end-to-end rate: {best:,.0f} msg/s (target >= 20,000); "
            "latency target: p99 < 50 ms at 1,000 msg/s"
        )
    finally:
        sim.proc.stop()
        redis_server.stop()
        kafka.stop()
        # Keep the logs, drop the data: each run writes gigabytes of Kafka segments.
        for data in (kafka.data_dir, redis_server.state_dir / "data"):
            shutil.rmtree(data, ignore_errors=True)
    return 0


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--markets", type=int, default=20)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per offered rate")
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="seconds at each rate before latencies count"
    )
    parser.add_argument(
        "--rates",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1_000, 5_000, 10_000, 15_000, 20_000],
    )
    parser.add_argument("--max-drain", type=float, default=2.0)
    parser.add_argument(
        "--ingest-env", action="append", default=[], metavar="NAME=VALUE", help="extra ingest settings"
    )
    parser.add_argument("--quick", action="store_true", help="1,000 and 5,000 msg/s for 8 s each")
    args = parser.parse_args()
    if args.quick:
        args.rates, args.duration = [1_000, 5_000], 8.0
    return args


ARGS = _args() if __name__ == "__main__" else argparse.Namespace()

if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
