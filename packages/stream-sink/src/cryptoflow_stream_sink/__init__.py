"""Kafka consumer group -> Redis streams and hashes, idempotent, with a dead-letter topic."""

from __future__ import annotations

from importlib.metadata import version

__version__ = version("cryptoflow-stream-sink")
