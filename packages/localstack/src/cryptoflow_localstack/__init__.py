"""Real Kafka, PostgreSQL and Redis on one machine without Docker: launchers, a CLI and a pytest plugin."""

from __future__ import annotations

from importlib.metadata import version

__version__ = version("cryptoflow-localstack")
