"""Kafka consumer group -> Redis streams and hashes, idempotent, with a dead-letter topic."""

from __future__ import annotations

from importlib.metadata import version

__version__ = version("cryptoflow-stream-sink")

# After __version__: the cli module imports it from here.
from cryptoflow_stream_sink.settings import SinkSettings
from cryptoflow_stream_sink.sink import StreamSink, run_sink

__all__ = ["SinkSettings", "StreamSink", "__version__", "run_sink"]
