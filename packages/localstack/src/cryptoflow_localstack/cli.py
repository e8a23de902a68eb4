"""``cryptoflow-localstack``: install, start (detached), stop and check local Kafka, PostgreSQL and Redis."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from cryptoflow_localstack.install import ensure_installed, run_install
from cryptoflow_localstack.kafka_broker import SERVER_JVM_FLAGS, KafkaBroker
from cryptoflow_localstack.postgres_server import PostgresServer
from cryptoflow_localstack.process import Service, ServiceError
from cryptoflow_localstack.redis_server import RedisServer
from cryptoflow_localstack.settings import Settings, SettingsError, check_kafka_version, kafka_libs_dir

SERVICES = ("kafka", "postgres", "redis")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "install":
            versions = [check_kafka_version(v, source="--kafka-version") for v in args.kafka_version or ()]
            return run_install(versions or [settings.kafka_version]).returncode
        unknown = sorted(set(args.services) - set(SERVICES))
        if unknown:
            choices = ", ".join(SERVICES)
            print(
                f"cryptoflow-localstack: unknown service(s) {', '.join(unknown)}; choose from {choices}",
                file=sys.stderr,
            )
            return 2
        services = [_service(name, settings) for name in args.services or SERVICES]
        if args.command == "up":
            return _up(services, auto_install=settings.auto_install)
        if args.command == "down":
            return _down(services)
        return _status(services)
    except (SettingsError, ServiceError) as exc:
        print(f"cryptoflow-localstack: {exc}", file=sys.stderr)
        # a bad variable or --kafka-version is the user's to fix (2); a service that will not start or
        # stop is the machine's state (1)
        return 2 if isinstance(exc, SettingsError) else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cryptoflow-localstack",
        description="Real Kafka, PostgreSQL and Redis on loopback, without Docker.",
        epilog="Environment: CRYPTOFLOW_STATE_DIR (default <repo>/.state), CRYPTOFLOW_KAFKA_PORT (9092), "
        "CRYPTOFLOW_KAFKA_CONTROLLER_PORT (9093), CRYPTOFLOW_PG_PORT (5432), CRYPTOFLOW_REDIS_PORT (6379), "
        "CRYPTOFLOW_KAFKA_VERSION (3.9.1), CRYPTOFLOW_CACHE_DIR (~/.cache/cryptoflow), "
        "CRYPTOFLOW_AUTO_INSTALL (1).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    install = commands.add_parser("install", help="install PostgreSQL, Redis, Java, Maven and Kafka jars")
    install.add_argument(
        "--kafka-version", action="append", metavar="VERSION", help="Kafka version to fetch (repeatable)"
    )
    for name, text in (
        ("up", "start services detached (all by default) and create the contract topics"),
        ("down", "stop services (all by default)"),
        ("status", "show services; exit 1 when one is down"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("services", nargs="*", metavar="SERVICE", help=" | ".join(SERVICES))
    return parser


def _service(name: str, settings: Settings) -> Service:
    folder = settings.state_dir / name
    if name == "kafka":
        return KafkaBroker(
            folder,
            port=settings.kafka_port,
            controller_port=settings.kafka_controller_port,
            kafka_version=settings.kafka_version,
            libs_dir=kafka_libs_dir(settings.kafka_version, settings.cache_dir),
            jvm_flags=SERVER_JVM_FLAGS,  # the stack runs for hours: no test shortcuts
        )
    if name == "postgres":
        return PostgresServer(folder, port=settings.postgres_port)
    return RedisServer(folder, port=settings.redis_port)


def _up(services: list[Service], *, auto_install: bool) -> int:
    for service in services:
        if service.running:
            note = "already running"
        else:
            ensure_installed(service, auto_install=auto_install)
            started = time.monotonic()
            service.start()
            note = f"started in {time.monotonic() - started:.1f} s"
        if isinstance(service, KafkaBroker):
            service.create_contract_topics()
        print(f"{service.key:<9} {service.version:<18} {service.endpoint:<40} {note}")
        print(f"{'':<9} log {service.process.log_path}")
    return 0


def _down(services: list[Service]) -> int:
    for service in services:
        if service.running:
            service.stop()
            print(f"{service.key:<9} stopped")
        else:
            print(f"{service.key:<9} not running")
    return 0


def _status(services: list[Service]) -> int:
    down = 0
    for service in services:
        up = service.running and service.ready()
        down += not up
        print(f"{service.key:<9} {'up' if up else 'down':<5} {service.version:<18} {service.endpoint}")
    return 1 if down else 0
