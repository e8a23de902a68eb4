"""Creates the contract topics (``TOPIC_SPECS``) on a Kafka cluster: ``cryptoflow-contracts topics apply``.

Idempotent: a topic that exists is left as it is, unless it has fewer partitions than its spec (then the
apply fails naming it: adding partitions moves keys between them, which a person must decide). Needs the
``kafka`` extra (``pip install 'cryptoflow-contracts[kafka]'``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptoflow_contracts.topics import TOPIC_SPECS, TopicSpec

_TOPIC_ALREADY_EXISTS = 36


class TopicApplyError(Exception):
    """The topics could not be applied; the message says why."""


@dataclass(frozen=True, slots=True)
class TopicResult:
    name: str
    created: bool
    partitions: int
    replication_factor: int

    def line(self) -> str:
        state = "created" if self.created else "exists"
        layout = f"{self.partitions} partitions, replication factor {self.replication_factor}"
        return f"{self.name}: {state} ({layout})"


async def apply_topics(
    bootstrap_servers: str,
    specs: Iterable[TopicSpec] = TOPIC_SPECS,
    *,
    replication_factor: int | None = None,
    min_insync_replicas: int | None = None,
    wait_s: float = 60.0,
) -> list[TopicResult]:
    """Creates every topic of ``specs`` that is missing and waits until each partition has a leader.

    ``replication_factor`` defaults to the number of brokers, at most 3; ``min_insync_replicas``, when
    given, is set on the topics this call creates. Waits up to ``wait_s`` seconds for the cluster to
    answer (it may still be starting)."""
    try:
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: PLC0415 - an optional extra
        from aiokafka.errors import for_code  # noqa: PLC0415
    except ImportError:
        raise TopicApplyError(
            "the Kafka client is not installed: install 'cryptoflow-contracts[kafka]'"
        ) from None

    specs = tuple(specs)
    deadline = time.monotonic() + wait_s
    admin = await _connect(AIOKafkaAdminClient, bootstrap_servers, deadline)
    try:
        brokers = len((await admin.describe_cluster())["brokers"])
        # A cluster that is starting registers its brokers one by one: wait for as many as the replicas.
        while replication_factor is not None and brokers < replication_factor and time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            brokers = len((await admin.describe_cluster())["brokers"])
        replicas = replication_factor if replication_factor is not None else max(1, min(brokers, 3))
        if replicas > brokers:
            raise TopicApplyError(
                f"replication factor {replicas} needs {replicas} brokers; the cluster has {brokers}"
            )
        configs_of = {spec.name: _configs(spec, min_insync_replicas) for spec in specs}
        response = await admin.create_topics(
            [NewTopic(str(s.name), s.partitions, replicas, topic_configs=configs_of[s.name]) for s in specs]
        )
        created = set()
        for name, code, *rest in response.topic_errors:
            if code == 0:
                created.add(name)
            elif code != _TOPIC_ALREADY_EXISTS:
                detail = rest[0] if rest and rest[0] else for_code(code).__name__
                raise TopicApplyError(f"cannot create topic {name!r}: {detail}")
        names = [str(spec.name) for spec in specs]
        described = await _wait_led(admin, names, deadline)
    finally:
        await admin.close()
    results = []
    for spec in specs:
        partitions = described[str(spec.name)]["partitions"]
        if len(partitions) < spec.partitions:
            raise TopicApplyError(
                f"topic {spec.name!r} has {len(partitions)} partitions, the contract says {spec.partitions}: "
                "add them by hand (kafka-topics --alter) if moving keys between partitions is acceptable"
            )
        results.append(
            TopicResult(
                str(spec.name), str(spec.name) in created, len(partitions), len(partitions[0]["replicas"])
            )
        )
    return results


def _configs(spec: TopicSpec, min_insync_replicas: int | None) -> dict[str, str]:
    configs = {"retention.ms": str(spec.retention_ms)}
    if min_insync_replicas is not None:
        configs["min.insync.replicas"] = str(min_insync_replicas)
    return configs


async def _connect(client: Any, bootstrap_servers: str, deadline: float) -> Any:
    """An admin client that has reached the cluster; retries until ``deadline`` while it starts."""
    while True:
        admin = client(bootstrap_servers=bootstrap_servers, request_timeout_ms=30000)
        try:
            await admin.start()
            if (await admin.describe_cluster())["brokers"]:
                return admin
        except Exception as exc:  # the client raises several kinds while the cluster starts
            error: Exception | None = exc
        else:
            error = None
        await admin.close()
        if time.monotonic() > deadline:
            reason = f": {error}" if error else ": no broker registered"
            raise TopicApplyError(f"no Kafka cluster answered at {bootstrap_servers}{reason}")
        await asyncio.sleep(1.0)


async def _wait_led(admin: Any, names: list[str], deadline: float) -> dict[str, Any]:
    # Metadata has no change notification to await: poll until every partition has a leader.
    while True:
        described = {t["topic"]: t for t in await admin.describe_topics(names) if t["error_code"] == 0}
        if all(
            name in described
            and described[name]["partitions"]
            and all(p["leader"] >= 0 for p in described[name]["partitions"])
            for name in names
        ):
            return described
        if time.monotonic() > deadline:
            missing = sorted(set(names) - set(described))
            raise TopicApplyError(f"topics without a leader after the timeout: {', '.join(missing) or names}")
        await asyncio.sleep(0.1)
