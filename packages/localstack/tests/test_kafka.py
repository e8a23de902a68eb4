"""The Kafka launcher against real brokers: the session's 3.9 broker and a 4.x one."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from cryptoflow_contracts.topics import TOPIC_SPECS, Topic
from cryptoflow_localstack.install import ensure_installed
from cryptoflow_localstack.kafka_broker import KafkaBroker
from cryptoflow_localstack.process import InstallMissingError, ServiceStartError, port_open

# The newest 4.x line the machine resolves from Maven Central; install.sh fetches it on first use.
KAFKA4_VERSION = os.environ.get("CRYPTOFLOW_KAFKA4_VERSION", "4.1.1")


@pytest.fixture(scope="module")
def kafka4_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka4"), kafka_version=KAFKA4_VERSION)
    ensure_installed(broker)
    with broker.start():
        broker.create_contract_topics()
        yield broker


@pytest.fixture(params=["session-broker", "kafka4-broker"])
def any_broker(request: pytest.FixtureRequest) -> KafkaBroker:
    name = "kafka_broker" if request.param == "session-broker" else "kafka4_broker"
    broker: KafkaBroker = request.getfixturevalue(name)
    return broker


async def produce(bootstrap_servers: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"KRW-BTC")
    finally:
        await producer.stop()


async def consume(bootstrap_servers: str, topic: str, group_id: str, wanted: set[bytes]) -> set[bytes]:
    """Reads the topic from the start until every wanted value has been seen (other tests share it)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: set[bytes] = set()
    try:
        async with asyncio.timeout(60):
            while not wanted <= seen:
                batches = await consumer.getmany(timeout_ms=500)
                seen |= {record.value for records in batches.values() for record in records if record.value}
    finally:
        await consumer.stop()
    return seen & wanted


async def test_contract_topics_exist_with_their_partitions_and_retention(kafka_broker: KafkaBroker) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap_servers)
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics([str(s.name) for s in TOPIC_SPECS])}
        configs = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, str(spec.name)) for spec in TOPIC_SPECS]
        )
    finally:
        await admin.close()
    assert {name: len(t["partitions"]) for name, t in described.items()} == {
        str(spec.name): spec.partitions for spec in TOPIC_SPECS
    }
    retention = {
        resource[3]: {entry[0]: entry[1] for entry in resource[4]}["retention.ms"]
        for response in configs
        for resource in response.resources
    }
    assert retention == {str(spec.name): str(spec.retention_ms) for spec in TOPIC_SPECS}


async def test_message_survives_broker_stop_and_start(any_broker: KafkaBroker, kafka_group_id: str) -> None:
    before, after = (f"{label}-{secrets.token_hex(4)}".encode() for label in ("before", "after"))
    await produce(any_broker.bootstrap_servers, Topic.TRADE, [before])

    any_broker.stop()
    assert not any_broker.running
    assert not port_open(any_broker.host, any_broker.port)
    any_broker.start()

    await produce(any_broker.bootstrap_servers, Topic.TRADE, [after])
    wanted = {before, after}
    assert await consume(any_broker.bootstrap_servers, Topic.TRADE, kafka_group_id, wanted) == wanted


async def test_acknowledged_message_survives_a_kill(kafka_broker: KafkaBroker, kafka_group_id: str) -> None:
    value = f"killed-{secrets.token_hex(4)}".encode()
    await produce(kafka_broker.bootstrap_servers, Topic.TICKER, [value])

    kafka_broker.kill()
    assert not kafka_broker.running
    kafka_broker.start()

    assert await consume(kafka_broker.bootstrap_servers, Topic.TICKER, kafka_group_id, {value}) == {value}


async def test_producer_outlives_a_broker_restart(kafka_broker: KafkaBroker, kafka_group_id: str) -> None:
    values = [f"long-lived-{n}-{secrets.token_hex(4)}".encode() for n in range(2)]
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_broker.bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        await producer.send_and_wait(Topic.ORDERBOOK, values[0], key=b"KRW-ETH")
        kafka_broker.restart()
        await producer.send_and_wait(Topic.ORDERBOOK, values[1], key=b"KRW-ETH")
    finally:
        await producer.stop()
    wanted = set(values)
    assert await consume(kafka_broker.bootstrap_servers, Topic.ORDERBOOK, kafka_group_id, wanted) == wanted


async def test_create_topics_is_idempotent(kafka_broker: KafkaBroker, kafka_topic_prefix: str) -> None:
    topic = f"{kafka_topic_prefix}extra"
    kafka_broker.create_topics([topic], partitions=3, configs={"retention.ms": "60000"})
    kafka_broker.create_topics([topic], partitions=3)

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap_servers)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    assert described["error_code"] == 0
    assert len(described["partitions"]) == 3


def test_version_names_the_broker(any_broker: KafkaBroker) -> None:
    assert any_broker.version == f"Kafka {any_broker.kafka_version}"
    assert any_broker.bootstrap_servers == f"127.0.0.1:{any_broker.port}"


def test_missing_jars_point_at_the_install_script(tmp_path: Path) -> None:
    broker = KafkaBroker(tmp_path / "kafka", libs_dir=tmp_path / "no-such-libs")
    with pytest.raises(InstallMissingError, match=r"install\.sh") as error:
        broker.start()
    assert "no-such-libs" in str(error.value)
    assert not broker.running


def test_unusable_jars_report_the_command_and_java_error(tmp_path: Path) -> None:
    libs = tmp_path / "libs"
    libs.mkdir()
    (libs / "kafka_2.13-3.9.1.jar").write_bytes(b"not a jar")
    broker = KafkaBroker(tmp_path / "kafka", kafka_version="3.9.1", libs_dir=libs)
    with pytest.raises(ServiceStartError) as error:
        broker.start()
    message = str(error.value)
    assert message.startswith("Kafka did not start")
    assert "kafka.tools.StorageTool format" in message
    assert "ClassNotFoundException" in message


def test_a_broker_that_exits_reports_its_log_tail(kafka_broker: KafkaBroker, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        controller_port = taken.getsockname()[1]
        broker = KafkaBroker(
            tmp_path / "kafka",
            controller_port=controller_port,
            kafka_version=kafka_broker.kafka_version,
            libs_dir=kafka_broker.libs_dir,
        )
        with pytest.raises(ServiceStartError) as error:
            broker.start()
    message = str(error.value)
    assert "the process exited" in message
    assert "kafka.Kafka" in message
    assert "Address already in use" in message
    assert not broker.running
