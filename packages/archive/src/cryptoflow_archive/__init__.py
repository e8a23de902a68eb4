"""Kafka consumer group -> PostgreSQL: every trade archived exactly once, candles built from it."""

from __future__ import annotations

from importlib.metadata import version

__version__ = version("cryptoflow-archive")

# After __version__: the cli module imports it from here.
from cryptoflow_archive.archiver import Archiver, run_archiver
from cryptoflow_archive.settings import ArchiveSettings

__all__ = ["ArchiveSettings", "Archiver", "__version__", "run_archiver"]
