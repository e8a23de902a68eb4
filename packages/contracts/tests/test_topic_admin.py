"""`cryptoflow-contracts topics apply` against a real broker (the `kafka_broker` fixture)."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from cryptoflow_contracts.cli import main
from cryptoflow_contracts.topic_admin import TopicApplyError, apply_topics
from cryptoflow_contracts.topics import TOPIC_SPECS, Topic, TopicSpec
from cryptoflow_localstack.kafka_broker import KafkaBroker
from cryptoflow_localstack.process import free_port


def _specs(prefix: str, partitions: int = 3) -> tuple[TopicSpec, ...]:
    # TopicSpec.name is a Topic; a test-only name keeps tests apart, and str() is all apply_topics reads.
    return (TopicSpec(f"{prefix}trade", partitions=partitions, retention_ms=60_000),)  # type: ignore[arg-type]


async def test_apply_creates_then_leaves_existing_topics(
    kafka_broker: KafkaBroker, kafka_topic_prefix: str
) -> None:
    specs = _specs(kafka_topic_prefix)
    first = await apply_topics(kafka_broker.bootstrap_servers, specs, min_insync_replicas=1)
    second = await apply_topics(kafka_broker.bootstrap_servers, specs)
    assert [(r.created, r.partitions, r.replication_factor) for r in first] == [(True, 3, 1)]
    assert [(r.created, r.partitions) for r in second] == [(False, 3)]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap_servers)
    await admin.start()
    try:
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, str(specs[0].name))]
        )
    finally:
        await admin.close()
    configs = {entry[0]: entry[1] for entry in response.resources[0][4]}
    assert (configs["retention.ms"], configs["min.insync.replicas"]) == ("60000", "1")


async def test_apply_refuses_a_topic_with_fewer_partitions(
    kafka_broker: KafkaBroker, kafka_topic_prefix: str
) -> None:
    await apply_topics(kafka_broker.bootstrap_servers, _specs(kafka_topic_prefix, partitions=2))
    with pytest.raises(TopicApplyError, match="has 2 partitions, the contract says 4"):
        await apply_topics(kafka_broker.bootstrap_servers, _specs(kafka_topic_prefix, partitions=4))


async def test_apply_refuses_more_replicas_than_brokers(
    kafka_broker: KafkaBroker, kafka_topic_prefix: str
) -> None:
    with pytest.raises(TopicApplyError, match="needs 3 brokers; the cluster has 1"):
        await apply_topics(
            kafka_broker.bootstrap_servers, _specs(kafka_topic_prefix), replication_factor=3, wait_s=2
        )


def test_cli_reports_the_contract_topics(
    kafka_broker: KafkaBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["topics", "apply", "--bootstrap-servers", kafka_broker.bootstrap_servers]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{spec.name}: exists ({spec.partitions} partitions, replication factor 1)" for spec in TOPIC_SPECS
    ]
    assert Topic.TRADE in lines[0]


def test_cli_names_an_unreachable_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    server = f"127.0.0.1:{free_port()}"
    assert main(["topics", "apply", "--bootstrap-servers", server, "--timeout", "1"]) == 1
    assert capsys.readouterr().err.startswith(f"topics apply: no Kafka cluster answered at {server}")
