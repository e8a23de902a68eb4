"""Kafka probe for scripts/compose-cluster-check.sh, run inside the contracts image on the compose network
(it has aiokafka; the brokers advertise their container names, which only that network resolves).

    python cluster-probe.py BOOTSTRAP layout TOPIC              # replicas, ISR sizes, min.insync.replicas
    python cluster-probe.py BOOTSTRAP produce TOPIC FIRST COUNT  # keys FIRST..FIRST+COUNT-1, acks=all
    python cluster-probe.py BOOTSTRAP count TOPIC COUNT          # consume from the start until COUNT keys
    python cluster-probe.py BOOTSTRAP wait-isr TOPIC REPLICAS    # until every partition's ISR has REPLICAS

Each prints one line and exits 1 with the reason when the check does not hold.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType


async def describe(bootstrap: str, topic: str) -> tuple[list[tuple[int, int]], str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        layout = [(len(p["replicas"]), len(p["isr"])) for p in described["partitions"]]
        (configs,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        entries = {entry[0]: entry[1] for entry in configs.resources[0][4]}
        return layout, entries.get("min.insync.replicas", "?")
    finally:
        await admin.close()


async def layout(bootstrap: str, topic: str) -> None:
    parts, min_isr = await describe(bootstrap, topic)
    replicas = {r for r, _ in parts}
    print(f"{topic}: {len(parts)} partitions, replicas {sorted(replicas)}, min.insync.replicas {min_isr}")
    if replicas != {3} or min_isr != "2":
        sys.exit(f"{topic}: expected replication factor 3 and min.insync.replicas 2")


async def produce(bootstrap: str, topic: str, first: int, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        started = time.monotonic()
        sends = [
            await producer.send(topic, key=str(i).encode(), value=b"probe")
            for i in range(first, first + count)
        ]
        await asyncio.gather(*sends)
        print(f"produced {count} records with acks=all in {time.monotonic() - started:.1f} s")
    finally:
        await producer.stop()


async def count(bootstrap: str, topic: str, expected: int) -> None:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    seen: Counter[bytes] = Counter()
    deadline = time.monotonic() + 60
    try:
        while len(seen) < expected and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                seen.update(r.key for r in records if r.key is not None)
    finally:
        await consumer.stop()
    repeated = sum(n - 1 for n in seen.values())
    print(f"consumed {len(seen)} distinct keys of {expected}, {repeated} repeated")
    if len(seen) != expected or repeated or set(seen) != {str(i).encode() for i in range(expected)}:
        sys.exit("records lost or repeated")


async def wait_isr(bootstrap: str, topic: str, replicas: int) -> None:
    deadline = time.monotonic() + 120
    while True:
        parts, _ = await describe(bootstrap, topic)
        if all(isr == replicas for _, isr in parts):
            print(f"{topic}: every partition's ISR has {replicas} replicas again")
            return
        if time.monotonic() > deadline:
            sys.exit(f"{topic}: ISR sizes still {[isr for _, isr in parts]} after 120 s")
        await asyncio.sleep(1)


def main() -> None:
    bootstrap, command, topic, *rest = sys.argv[1:]
    numbers = [int(n) for n in rest]
    match command:
        case "layout":
            asyncio.run(layout(bootstrap, topic))
        case "produce":
            asyncio.run(produce(bootstrap, topic, *numbers))
        case "count":
            asyncio.run(count(bootstrap, topic, *numbers))
        case "wait-isr":
            asyncio.run(wait_isr(bootstrap, topic, *numbers))
        case _:
            sys.exit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
