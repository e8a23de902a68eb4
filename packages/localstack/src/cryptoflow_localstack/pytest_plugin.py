"""pytest plugin (entry point ``pytest11``): real Kafka, PostgreSQL and Redis for every package's tests.

Session fixtures start each server the first time a test asks for it, on free loopback ports with data in
pytest's temporary folder, and stop it when the session ends:

- ``kafka_broker``    -> KafkaBroker   (``.bootstrap_servers``; the contract topics already exist)
- ``postgres_server`` -> PostgresServer (``.dsn``, ``.create_database(name)``)
- ``redis_server``    -> RedisServer   (``.url``)

Function fixtures: ``postgres_db`` (a fresh database URL), ``redis_db`` (DB 0 flushed, its URL),
``kafka_topic_prefix`` and ``kafka_group_id`` (unique names per test).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cryptoflow_localstack.install import ensure_installed
from cryptoflow_localstack.kafka_broker import KafkaBroker
from cryptoflow_localstack.postgres_server import PostgresServer
from cryptoflow_localstack.process import Process, Service, ServiceError
from cryptoflow_localstack.redis_server import RedisServer
from cryptoflow_localstack.samples import SamplesNotFoundError, upbit_samples_dir
from cryptoflow_localstack.settings import SettingsError, auto_install, check_kafka_version, kafka_version

_OWNER_FILE = "owner.pid"
_PG_TMP_PREFIX = "cryptoflow-localstack-pg-"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        "cryptoflow-localstack", "real Kafka, PostgreSQL and Redis (cryptoflow-localstack)"
    )
    group.addoption(
        "--kafka-version",
        dest="cryptoflow_kafka_version",
        default=None,
        metavar="VERSION",
        help="Kafka version for the kafka_broker fixture (default: $CRYPTOFLOW_KAFKA_VERSION or 3.9.1)",
    )


def pytest_configure(config: pytest.Config) -> None:
    try:
        _kafka_version(config)
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_LAUNCHER] = _Launcher(config)


def pytest_report_header(config: pytest.Config) -> str:
    return f"localstack: services start on first use; kafka_broker runs Kafka {_kafka_version(config)}"


class _Launcher:
    """Starts the session's servers: installs what is missing, reports versions, stops them at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._services: list[Service] = []
        self._swept = False

    def say(self, text: str) -> None:
        reporter = self._config.pluginmanager.get_plugin("terminalreporter")
        capture = self._config.pluginmanager.get_plugin("capturemanager")
        if reporter is None or capture is None:
            print(f"localstack: {text}", file=sys.stderr)
            return
        # Fixtures run under output capture; these lines belong in the run's log (CI shows the versions).
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"localstack: {text}")

    def start(self, service: Service, tmp_path_factory: pytest.TempPathFactory) -> None:
        mode = os.environ.get("CRYPTOFLOW_SERVICES", "local")
        if mode != "local":
            # Docker-based services (pytest-docker + deploy/compose) are not wired in yet: say so, never
            # quietly run something other than what was asked for.
            raise ServiceError(
                f"CRYPTOFLOW_SERVICES={mode!r} is not supported; unset it to use local services"
            )
        if not self._swept:
            self._swept = True
            _stop_orphans(tmp_path_factory.getbasetemp(), self.say)
        ensure_installed(service, auto_install=auto_install(), say=self.say)
        service.state_dir.mkdir(parents=True, exist_ok=True)
        (service.state_dir / _OWNER_FILE).write_text(f"{os.getpid()}\n")
        started = time.monotonic()
        service.start()
        self._services.append(service)
        self.say(f"{service.version} on {service.address} (started in {time.monotonic() - started:.1f} s)")

    def stop(self, service: Service) -> None:
        service.stop()
        if service in self._services:
            self._services.remove(service)

    def restart_stopped(self) -> None:
        """A test that stopped or killed a server and failed before starting it again must not take the
        rest of the session down with it."""
        for service in self._services:
            if not service.running:
                self.say(f"{service.version} was left stopped by the previous test; starting it again")
                service.start()


_LAUNCHER = pytest.StashKey[_Launcher]()


@pytest.fixture(scope="session")
def kafka_broker(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KafkaBroker]:
    """A Kafka broker (KRaft, one node) with the contract topics created."""
    launcher = request.config.stash[_LAUNCHER]
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"), kafka_version=_kafka_version(request.config))
    launcher.start(broker, tmp_path_factory)
    try:
        broker.create_contract_topics()
        yield broker
    finally:
        launcher.stop(broker)


@pytest.fixture(scope="session")
def redis_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RedisServer]:
    """A Redis server with an append-only file (data survives stop/start and kill/start)."""
    launcher = request.config.stash[_LAUNCHER]
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    launcher.start(server, tmp_path_factory)
    try:
        yield server
    finally:
        launcher.stop(server)


@pytest.fixture(scope="session")
def postgres_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostgresServer]:
    """A PostgreSQL server; ``.dsn`` is the superuser URL of database ``postgres``."""
    launcher = request.config.stash[_LAUNCHER]
    if os.geteuid() == 0:
        # As root the server runs as 'postgres', which cannot enter pytest's 0700 folder: use one of its own
        # (the launcher hands it to 'postgres').
        state = Path(tempfile.mkdtemp(prefix=_PG_TMP_PREFIX))
    else:
        state = tmp_path_factory.mktemp("postgres")
    # Test data need not survive a machine crash: no fsync, much faster CREATE DATABASE.
    server = PostgresServer(state, durable=False)
    try:
        launcher.start(server, tmp_path_factory)
        yield server
    finally:
        launcher.stop(server)
        if os.geteuid() == 0:
            shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def postgres_db(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a new, empty database for this test; dropped afterwards."""
    name = f"t_{_slug(request.node.name, 40, '_')}_{secrets.token_hex(4)}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


@pytest.fixture
def redis_db(redis_server: RedisServer) -> str:
    """URL of Redis DB 0, flushed before the test."""
    redis_server.flushdb(0)
    return redis_server.url


@pytest.fixture
def kafka_topic_prefix(request: pytest.FixtureRequest) -> str:
    """A prefix no other test uses, for topics this test creates (``f"{prefix}trades"``)."""
    return f"test.{_slug(request.node.name, 60, '-')}.{secrets.token_hex(3)}."


@pytest.fixture
def kafka_group_id(request: pytest.FixtureRequest) -> str:
    """A consumer group id no other test uses."""
    return f"test-{_slug(request.node.name, 60, '-')}-{secrets.token_hex(3)}"


@pytest.fixture(scope="session")
def upbit_samples(request: pytest.FixtureRequest) -> Path:
    """The Upbit sample frames and responses (`testdata/upbit-samples`, or `$UPBIT_SAMPLES_DIR`)."""
    try:
        return upbit_samples_dir(request.config.rootpath)
    except SamplesNotFoundError as exc:
        pytest.fail(str(exc))


@pytest.fixture(autouse=True)
def _localstack_restart_stopped(request: pytest.FixtureRequest) -> None:
    request.config.stash[_LAUNCHER].restart_stopped()


def _kafka_version(config: pytest.Config) -> str:
    option = config.getoption("cryptoflow_kafka_version")
    if option:
        return check_kafka_version(option, source="--kafka-version")
    return kafka_version()


def _slug(text: str, limit: int, sep: str) -> str:
    return re.sub(r"[^a-z0-9]+", sep, text.lower()).strip(sep)[:limit] or "test"


def _stop_orphans(basetemp: Path, say: Callable[[str], None]) -> None:
    """Stops servers that an earlier session left running when it died without its teardown (SIGKILL).

    Only folders whose owning pytest process is gone are touched, so concurrent sessions are safe, and
    only processes that work in that folder (or name it on their command line) are killed.
    """
    found = [*basetemp.parent.glob(f"pytest-*/*/{_OWNER_FILE}")]
    found += Path(tempfile.gettempdir()).glob(f"{_PG_TMP_PREFIX}*/{_OWNER_FILE}")
    # pytest adds "...current" symlinks next to numbered folders: visit each real folder once.
    for owner in sorted({path.resolve() for path in found}):
        try:
            pid = int(owner.read_text().strip())
        except (OSError, ValueError):
            continue
        if pid == os.getpid() or _process_exists(pid):
            continue
        for pid_file in owner.parent.glob("*.pid"):
            if pid_file == owner:
                continue
            leftover = Process(
                log_path=pid_file.with_suffix(".log"), pid_path=pid_file, marker=str(owner.parent)
            )
            if leftover.alive:
                say(f"stopping a server left running by dead session {pid}: {owner.parent}")
                leftover.kill()
        if owner.parent.name.startswith(_PG_TMP_PREFIX):
            shutil.rmtree(owner.parent, ignore_errors=True)  # nobody else would remove it
        else:
            owner.unlink(missing_ok=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
