"""Apache Kafka in KRaft mode: broker and controller in one JVM, run from the jars install.sh caches."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import uuid
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

from cryptoflow_contracts.topic_admin import apply_topics
from cryptoflow_localstack.process import (
    InstallMissingError,
    Service,
    ServiceError,
    free_port,
    port_open,
    run_tool,
)
from cryptoflow_localstack.settings import DEFAULT_KAFKA_VERSION, check_kafka_version, kafka_libs_dir

_T = TypeVar("_T")
_TOPIC_ALREADY_EXISTS = 36

# Lean JVM for tests on a shared 2-core box: a small heap, the serial collector, and C1 only. Measured here,
# median first start: 2.9 s vs 3.0 s with C2 on an idle box, 5.4-7.0 s vs 7.6-9.4 s on a busy one; a test
# broker never runs long enough for C2 to pay off.
TEST_JVM_FLAGS = (
    "-Xms64m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:-UsePerfData",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
# A broker that runs for long (the local stack) or is measured (benchmarks): what Kafka's own start script
# uses, G1 with short pause goals and both JIT compilers, and the whole heap from the start.
SERVER_JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:-UsePerfData",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)

_LOG4J1 = """\
log4j.rootLogger={level}, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.Target={target}
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
"""

_LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.target = {target}
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.out.ref = OUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
"""


class TopicLike(Protocol):
    """Anything with a topic name and a partition count, e.g. ``cryptoflow_contracts.topics.TopicSpec``.

    A ``retention_ms`` attribute, when present, becomes the topic's ``retention.ms``.
    """

    @property
    def name(self) -> str: ...

    @property
    def partitions(self) -> int: ...


class KafkaBroker(Service):
    """One Kafka node (broker + controller) on ``127.0.0.1:port``, data under ``state_dir/data``."""

    display_name = "Kafka"

    def __init__(
        self,
        state_dir: Path | str,
        *,
        port: int = 0,
        controller_port: int = 0,
        kafka_version: str = DEFAULT_KAFKA_VERSION,
        libs_dir: Path | str | None = None,
        heap: str = "512m",
        jvm_flags: Sequence[str] = TEST_JVM_FLAGS,
        start_timeout: float = 120.0,
        stop_timeout: float = 30.0,
    ) -> None:
        super().__init__(state_dir, port=port, start_timeout=start_timeout, stop_timeout=stop_timeout)
        self.controller_port = controller_port or free_port(self.host)
        self.kafka_version = check_kafka_version(kafka_version, source="kafka_version")
        self.libs_dir = Path(libs_dir) if libs_dir is not None else kafka_libs_dir(self.kafka_version)
        self.heap = heap
        self.jvm_flags = tuple(jvm_flags)

    @property
    def bootstrap_servers(self) -> str:
        return self.address

    @property
    def endpoint(self) -> str:
        return self.bootstrap_servers

    @property
    def version(self) -> str:
        return f"Kafka {self.kafka_version}"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def config_path(self) -> Path:
        return self.state_dir / "server.properties"

    @property
    def _log4j2(self) -> bool:
        # Kafka 4 moved from log4j 1.x (reload4j) to log4j 2.
        return int(self.kafka_version.split(".")[0]) >= 4

    @property
    def _log_configs(self) -> tuple[Path, Path]:
        """The broker's logging configuration (INFO to stdout) and the tools' (WARN to stderr)."""
        name = "log4j2" if self._log4j2 else "log4j"
        return self.state_dir / f"{name}.properties", self.state_dir / f"tools-{name}.properties"

    def check_installed(self) -> None:
        _java()
        jar = self.libs_dir / f"kafka_2.13-{self.kafka_version}.jar"
        if not jar.is_file():
            raise InstallMissingError(
                self.display_name, f"no Kafka {self.kafka_version} jars ({jar} is missing)"
            )

    def install_kafka_versions(self) -> tuple[str, ...]:
        return (self.kafka_version,)

    def create_topics(
        self,
        topics: Iterable[str | TopicLike],
        *,
        partitions: int = 1,
        configs: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        """Creates the topics that do not exist yet and waits until every partition has a leader.

        Plain names get ``partitions`` partitions; ``configs`` (e.g. ``{"retention.ms": "60000"}``)
        applies to every topic created by this call. Existing topics are left as they are.
        """
        wanted = [_topic_request(topic, partitions, configs or {}) for topic in topics]
        if wanted:
            _run_async(lambda: _create_topics(self.bootstrap_servers, wanted), timeout)

    def create_contract_topics(self) -> None:
        """Creates every topic of ``cryptoflow_contracts.topics.TOPIC_SPECS`` with its partitions, as
        production does (``cryptoflow-contracts topics apply``)."""
        _run_async(lambda: apply_topics(self.bootstrap_servers), 120.0)

    def _prepare(self) -> None:
        self.config_path.write_text(self._server_properties())
        broker_log, tools_log = self._log_configs
        template, out, err = (
            (_LOG4J2, "SYSTEM_OUT", "SYSTEM_ERR") if self._log4j2 else (_LOG4J1, "System.out", "System.err")
        )
        broker_log.write_text(template.format(level="INFO", target=out))
        tools_log.write_text(template.format(level="WARN", target=err))
        if not (self.data_dir / "meta.properties").is_file():
            # Static controller.quorum.voters: format without --standalone.
            run_tool(
                self.display_name,
                [
                    *self._java_command(tools_log),
                    *("kafka.tools.StorageTool", "format", "--cluster-id", _cluster_id()),
                    *("--config", str(self.config_path), "--ignore-formatted"),
                ],
                cwd=self.state_dir,
            )

    def _command(self) -> list[str]:
        return [*self._java_command(self._log_configs[0]), "kafka.Kafka", str(self.config_path)]

    def _java_command(self, log_config: Path) -> list[str]:
        logging = (
            f"-Dlog4j2.configurationFile=file:{log_config}"
            if self._log4j2
            else f"-Dlog4j.configuration=file:{log_config}"
        )
        start_heap = [] if any(f.startswith("-Xms") for f in self.jvm_flags) else [f"-Xms{self.heap}"]
        return [
            _java(),
            f"-Xmx{self.heap}",
            *start_heap,
            *self.jvm_flags,
            logging,
            "-cp",
            f"{self.libs_dir}/*",
        ]

    def _server_properties(self) -> str:
        listener, controller = f"{self.host}:{self.port}", f"{self.host}:{self.controller_port}"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{controller}",
            "listeners": f"PLAINTEXT://{listener},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{listener}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            # One node: every replication factor and ISR minimum is 1.
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # Fewer internal partitions: the first consumer group is ready sooner.
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.num.partitions": "4",
            "group.initial.rebalance.delay.ms": "0",
            # After a kill the restarted node must wait out its previous registration's session before
            # it may register again: 2.5 s instead of 9 s makes a crash-restart take ~4 s, not ~14 s.
            "broker.session.timeout.ms": "2500",
            "broker.heartbeat.interval.ms": "500",
            # Topics come from the contracts (create_topics), never from a typo in a producer.
            "auto.create.topics.enable": "false",
            "num.partitions": "1",
            "num.network.threads": "2",
            "num.io.threads": "2",
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def ready(self) -> bool:
        if not port_open(self.host, self.port):
            return False
        try:
            return _run_async(lambda: _broker_count(self.bootstrap_servers), 10.0) > 0
        except Exception:  # any client failure just means "not yet"
            return False


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise InstallMissingError("Kafka", "no java on PATH (and no JAVA_HOME)")
    return java


def _cluster_id() -> str:
    """What ``StorageTool random-uuid`` prints (base64url of 16 random bytes, never starting with '-'),
    without paying a JVM start for it."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _topic_request(
    topic: str | TopicLike, partitions: int, configs: Mapping[str, str]
) -> tuple[str, int, dict[str, str]]:
    if isinstance(topic, str):
        return str(topic), partitions, dict(configs)
    topic_configs: dict[str, str] = {}
    retention_ms = getattr(topic, "retention_ms", None)
    if retention_ms is not None:
        topic_configs["retention.ms"] = str(retention_ms)
    return str(topic.name), topic.partitions, topic_configs | dict(configs)


def _run_async(factory: Callable[[], Coroutine[Any, Any, _T]], timeout: float) -> _T:
    """Runs a coroutine on a private event loop in a worker thread, so it also works when the caller is
    itself inside a running loop (an async test that restarts the broker)."""

    async def bounded() -> _T:
        return await asyncio.wait_for(factory(), timeout)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cryptoflow-localstack") as pool:
        return pool.submit(asyncio.run, bounded()).result()


async def _broker_count(bootstrap_servers: str) -> int:
    from aiokafka.admin import AIOKafkaAdminClient  # noqa: PLC0415 - the plugin loads this module in every run

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5000)
    try:
        await admin.start()
        # A broker registers, is fenced, then unfenced; metadata lists it only once it can lead partitions.
        cluster = await admin.describe_cluster()
        return len(cluster["brokers"])
    finally:
        await admin.close()


async def _create_topics(bootstrap_servers: str, wanted: list[tuple[str, int, dict[str, str]]]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: PLC0415 - see _broker_count
    from aiokafka.errors import for_code  # noqa: PLC0415

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=30000)
    try:
        await admin.start()
        response = await admin.create_topics(
            [NewTopic(name, partitions, 1, topic_configs=configs) for name, partitions, configs in wanted]
        )
        for name, code, *rest in response.topic_errors:
            if code not in (0, _TOPIC_ALREADY_EXISTS):
                detail = rest[0] if rest and rest[0] else for_code(code).__name__
                raise ServiceError(f"Kafka: cannot create topic {name!r}: {detail}")
        names = [name for name, _, _ in wanted]
        # Metadata has no change notification to await: poll until every partition has a leader.
        while not _all_led(await admin.describe_topics(names), names):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


def _all_led(described: list[Any], names: list[str]) -> bool:
    """True when every named topic is known and each of its partitions has a leader."""
    led = {
        topic["topic"]
        for topic in described
        if topic["error_code"] == 0
        and topic["partitions"]
        and all(partition["leader"] >= 0 for partition in topic["partitions"])
    }
    return led.issuperset(names)
