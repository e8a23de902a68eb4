"""Upbit WebSocket -> Kafka producer with market discovery and REST gap backfill."""

from __future__ import annotations

from importlib.metadata import version

__version__ = version("cryptoflow-ingest")
