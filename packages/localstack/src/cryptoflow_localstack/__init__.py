"""Real Kafka, PostgreSQL and Redis on one machine without Docker: launchers, a CLI and a pytest plugin."""

from __future__ import annotations

from importlib.metadata import version

from cryptoflow_localstack.install import ensure_installed, run_install
from cryptoflow_localstack.kafka_broker import KafkaBroker
from cryptoflow_localstack.postgres_server import PostgresServer
from cryptoflow_localstack.process import InstallMissingError, Service, ServiceError, ServiceStartError
from cryptoflow_localstack.redis_server import RedisServer
from cryptoflow_localstack.settings import DEFAULT_KAFKA_VERSION

__version__ = version("cryptoflow-localstack")

__all__ = [
    "DEFAULT_KAFKA_VERSION",
    "InstallMissingError",
    "KafkaBroker",
    "PostgresServer",
    "RedisServer",
    "Service",
    "ServiceError",
    "ServiceStartError",
    "__version__",
    "ensure_installed",
    "run_install",
]
