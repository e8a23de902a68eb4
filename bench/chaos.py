"""Chaos soak of the hot path: upbit-sim → cryptoflow-ingest → Kafka → two cryptoflow-stream-sink instances
→ Redis for `--minutes`, with a fault every few seconds; afterwards every trade the simulator generated
must be in its `trades:{M}` stream exactly once.

    UV_PYTHON_DOWNLOADS=never uv run --package cryptoflow-ingest python bench/chaos.py [--minutes 10]

Not part of `make test` (it runs for minutes). Faults, drawn at random (`--seed` repeats a run):

- WebSocket: every connection cut at once; connections cut every n frames for a few seconds; a stall (no
  frames, no pongs) longer than ingest's idle timeout; malformed, duplicated and reordered frames;
- REST: 503s for a few seconds, around a cut (the backfill must retry);
- processes: ingest or a sink killed (SIGKILL) or stopped (SIGTERM), then started again; the Kafka broker
  killed or stopped and started again; Redis stopped and started again (gracefully: Redis acknowledges a
  write before its append-only file reaches the disk, so a Redis crash can lose the last second, which
  no consumer can notice).

The simulator keeps Upbit's REST limits on. Exit code 0 when no trade is missing or repeated, 1 otherwise
(missing trades are listed for the logs in the work folder).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from hot_path import PY, Sim, describe_missing, drain, kafka_topics, missing_trades, now_ms, start_sim
from redis.asyncio import Redis

from cryptoflow_localstack.kafka_broker import SERVER_JVM_FLAGS, KafkaBroker
from cryptoflow_localstack.redis_server import RedisServer


class Service:
    """A pipeline process that can be killed and started again with the same settings (log appended)."""

    def __init__(self, name: str, module: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self._argv = [PY, "-m", module]
        self._env = {**os.environ, **env}
        self.log = log
        self.starts = 0
        self._popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self._popen = subprocess.Popen(
                self._argv, env=self._env, stdout=log, stderr=log, start_new_session=True
            )
        self.starts += 1

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        popen = self._popen
        if popen is None:
            return 0
        if popen.poll() is None:
            popen.send_signal(sig)
            try:
                popen.wait(30)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()
        self._popen = None
        return popen.returncode


@dataclass
class Stack:
    sim: Sim
    kafka: KafkaBroker
    redis: RedisServer
    ingest: Service
    sinks: list[Service]
    topic_prefix: str
    rng: random.Random
    faults: Counter[str] = field(default_factory=Counter)


Fault = Callable[[Stack], Awaitable[None]]


async def ws_drop(stack: Stack) -> None:
    await stack.sim.post("faults/drop")


async def ws_drop_every(stack: Stack) -> None:
    await stack.sim.post("faults/drop_every", {"n": stack.rng.randint(200, 2_000)})
    await asyncio.sleep(stack.rng.uniform(2, 5))
    await stack.sim.post("faults/drop_every", {"n": 0})


async def ws_stall(stack: Stack) -> None:
    await stack.sim.post("faults/stall", {"seconds": IDLE_TIMEOUT_S + 2})
    await asyncio.sleep(IDLE_TIMEOUT_S + 3)


async def bad_frames(stack: Stack) -> None:
    seconds = stack.rng.uniform(3, 8)
    await stack.sim.post("faults/malformed", {"rate": 0.002, "seconds": seconds})
    await stack.sim.post("faults/duplicate", {"rate": 0.01, "seconds": seconds})
    await stack.sim.post("faults/out_of_order", {"rate": 0.01, "seconds": seconds})


async def rest_errors_around_a_drop(stack: Stack) -> None:
    await stack.sim.post("faults/rest_error", {"status": 503, "seconds": stack.rng.uniform(2, 6)})
    await stack.sim.post("faults/drop")


async def _restart(service: Service, sig: signal.Signals, rng: random.Random) -> None:
    await asyncio.to_thread(service.stop, sig)
    await asyncio.sleep(rng.uniform(0.5, 3))
    service.start()


async def kill_ingest(stack: Stack) -> None:
    await _restart(stack.ingest, signal.SIGKILL, stack.rng)


async def stop_ingest(stack: Stack) -> None:
    await _restart(stack.ingest, signal.SIGTERM, stack.rng)


async def kill_sink(stack: Stack) -> None:
    await _restart(stack.rng.choice(stack.sinks), signal.SIGKILL, stack.rng)


async def stop_sink(stack: Stack) -> None:
    await _restart(stack.rng.choice(stack.sinks), signal.SIGTERM, stack.rng)


async def restart_kafka(stack: Stack) -> None:
    await asyncio.to_thread(stack.rng.choice([stack.kafka.kill, stack.kafka.stop]))
    await asyncio.sleep(stack.rng.uniform(0.5, 3))
    await asyncio.to_thread(stack.kafka.start)


async def restart_redis(stack: Stack) -> None:
    await asyncio.to_thread(stack.redis.stop)
    await asyncio.sleep(stack.rng.uniform(0.5, 3))
    await asyncio.to_thread(stack.redis.start)


FAULTS: list[Fault] = [
    ws_drop,
    ws_drop_every,
    ws_stall,
    bad_frames,
    rest_errors_around_a_drop,
    kill_ingest,
    stop_ingest,
    kill_sink,
    stop_sink,
    restart_kafka,
    restart_redis,
]
IDLE_TIMEOUT_S = 3


async def dead_letters(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        count = 0
        while batches := await consumer.getmany(timeout_ms=3_000):
            count += sum(map(len, batches.values()))
        return count
    finally:
        await consumer.stop()


@dataclass
class Outcome:
    generated: int
    missing: dict[str, set[int]]
    repeated: dict[str, int]
    sim_stats: dict[str, Any]
    dead_letters: int


def pipeline(
    sim: Sim, kafka: KafkaBroker, redis_server: RedisServer, prefix: str, workdir: Path
) -> tuple[Service, list[Service]]:
    kafka_topics(kafka, prefix)
    ingest = Service(
        "ingest",
        "cryptoflow_ingest",
        {
            "CRYPTOFLOW_INGEST_WS_URL": sim.ws_url,
            "CRYPTOFLOW_INGEST_REST_URL": sim.rest_url,
            "CRYPTOFLOW_INGEST_KAFKA_BOOTSTRAP": kafka.bootstrap_servers,
            "CRYPTOFLOW_INGEST_TOPIC_PREFIX": prefix,
            "CRYPTOFLOW_INGEST_STATE_FILE": str(workdir / "ingest-state.json"),
            "CRYPTOFLOW_INGEST_METRICS_PORT": "0",
            "CRYPTOFLOW_INGEST_IDLE_TIMEOUT_S": str(IDLE_TIMEOUT_S),
            "CRYPTOFLOW_INGEST_PING_INTERVAL_S": "1",
        },
        workdir / "ingest.log",
    )
    sink_env = {
        "CRYPTOFLOW_SINK_KAFKA_BOOTSTRAP": kafka.bootstrap_servers,
        "CRYPTOFLOW_SINK_TOPIC_PREFIX": prefix,
        "CRYPTOFLOW_SINK_GROUP_ID": f"chaos-{secrets.token_hex(3)}",
        "CRYPTOFLOW_SINK_REDIS_URL": redis_server.url,
        "CRYPTOFLOW_SINK_METRICS_PORT": "0",
        # Every trade of the run must stay countable.
        "CRYPTOFLOW_SINK_STREAM_MAXLEN": "100000000",
        "CRYPTOFLOW_SINK_DEDUP_MAX_IDS": "100000000",
    }
    sinks = [
        Service(f"sink-{i}", "cryptoflow_stream_sink", sink_env, workdir / f"sink-{i}.log") for i in (1, 2)
    ]
    return ingest, sinks


async def inject_faults(stack: Stack, minutes: float, every: float) -> None:
    started = time.monotonic()
    while time.monotonic() - started < minutes * 60:
        await asyncio.sleep(stack.rng.uniform(every / 2, every * 1.5))
        fault = stack.rng.choice(FAULTS)
        print(
            f"  {time.monotonic() - started:6.0f} s  {time.strftime('%H:%M:%S')}  {fault.__name__}",
            flush=True,
        )
        await fault(stack)
        stack.faults[fault.__name__] += 1


async def outcome(stack: Stack, markets: list[str], started_ms: int, drain_s: float) -> Outcome:
    """Every trade generated since `started_ms`, against what the streams hold once drained."""
    expected = await stack.sim.trade_ids(markets, started_ms)
    generated = sum(map(len, expected.values()))
    print(f"generated {generated:,} trades; waiting up to {drain_s:.0f} s for all of them", flush=True)
    redis = Redis.from_url(stack.redis.url)
    try:
        found = await drain(redis, expected, within_s=drain_s, poll_s=1)
    finally:
        await redis.aclose()
    missing = missing_trades(expected, found)
    repeated = {market: n for market, ids in found.items() if (n := len(ids) - len(set(ids)))}
    dead = await dead_letters(stack.kafka.bootstrap_servers, stack.topic_prefix + "upbit.dlq")
    return Outcome(generated, missing, repeated, await stack.sim.get("stats"), dead)


def report(stack: Stack, result: Outcome, started_ms: int, codes: dict[str, int]) -> int:
    print("\nfaults injected: " + ", ".join(f"{name} {n}" for name, n in sorted(stack.faults.items())))
    connections = result.sim_stats["connections"]
    print(
        f"simulator: {connections['total']} connections, fault counters {result.sim_stats['faults']}; "
        f"dead letters in Kafka: {result.dead_letters}"
    )
    services = [stack.ingest, *stack.sinks]
    print(f"process starts: {', '.join(f'{s.name} {s.starts}' for s in services)}; last exit codes {codes}")
    lost = sum(map(len, result.missing.values()))
    print(f"trades: {result.generated:,} generated, {lost} missing, {sum(result.repeated.values())} repeated")
    for market, ids in sorted(result.missing.items()):
        print(f"  {describe_missing(market, ids, started_ms)}")
    for market, count in sorted(result.repeated.items()):
        print(f"  repeated {market}: {count}")
    ok = not result.missing and not result.repeated
    print("PASS: every trade exactly once" if ok else "FAIL")
    return 0 if ok else 1


async def soak(args: argparse.Namespace, workdir: Path) -> int:
    kafka = KafkaBroker(workdir / "kafka", jvm_flags=SERVER_JVM_FLAGS).start()
    redis_server = RedisServer(workdir / "redis").start()
    sim = start_sim(args.markets, workdir, limits=True)
    prefix = f"chaos.{secrets.token_hex(3)}."
    ingest, sinks = pipeline(sim, kafka, redis_server, prefix, workdir)
    stack = Stack(sim, kafka, redis_server, ingest, sinks, prefix, random.Random(args.seed))
    services = [ingest, *sinks]
    codes: dict[str, int] = {}
    try:
        markets = [m["market"] for m in await sim.get("markets")]
        print(
            f"{kafka.version}, {redis_server.version}, {len(markets)} markets, {args.rate:,} msg/s offered,"
        )
        print(f"{args.minutes:g} min of faults (seed {args.seed}); work files in {workdir}", flush=True)
        await sim.post("generator/pause")
        for service in services:
            service.start()
        await asyncio.sleep(5)  # subscribed, sinks in their group
        await sim.post("generator/rate", {"rate": args.rate})
        started_ms = now_ms()
        await sim.post("generator/resume")
        await inject_faults(stack, args.minutes, args.every)
        await sim.post("faults/clear")
        await sim.post("generator/pause")
        result = await outcome(stack, markets, started_ms, args.drain)
    finally:
        codes = {s.name: s.stop() for s in services}
        sim.proc.stop()
        redis_server.stop()
        kafka.stop()
        # Keep the logs, drop the data: each run writes gigabytes of Kafka segments.
        for data in (kafka.data_dir, redis_server.state_dir / "data"):
            shutil.rmtree(data, ignore_errors=True)
    return report(stack, result, started_ms, codes)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=2_000, help="messages/s the simulator offers")
    parser.add_argument("--markets", type=int, default=20)
    parser.add_argument("--every", type=float, default=8.0, help="mean seconds between faults")
    parser.add_argument("--drain", type=float, default=300.0, help="seconds to wait for the last trades")
    parser.add_argument("--seed", type=int, default=random.randrange(1_000_000))
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cryptoflow-chaos-"))
    return asyncio.run(soak(args, workdir))


if __name__ == "__main__":
    sys.exit(main())
