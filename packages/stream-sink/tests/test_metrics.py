"""Every counter a dashboard plots is exported at 0 from the start, not only after its first event."""

from __future__ import annotations

from prometheus_client import generate_latest

from cryptoflow_stream_sink.metrics import RETRIED_OPERATIONS, SKIP_REASONS, SinkMetrics
from cryptoflow_stream_sink.settings import SinkSettings
from cryptoflow_stream_sink.sink import StreamSink


def _series(metrics: SinkMetrics) -> dict[str, float]:
    lines = generate_latest(metrics.registry).decode().splitlines()
    return {name: float(value) for name, value in (line.rsplit(" ", 1) for line in lines if line[:1] != "#")}


def test_a_new_sink_exports_every_counter_at_zero() -> None:
    sink = StreamSink(SinkSettings(topic_prefix="t."))
    series = _series(sink.metrics)
    for topic in ("t.upbit.trade", "t.upbit.ticker", "t.upbit.orderbook"):
        assert series[f'cryptoflow_sink_dlq_total{{topic="{topic}"}}'] == 0
        assert series[f'cryptoflow_sink_consumer_lag{{topic="{topic}"}}'] == 0
    for kind, reason in SKIP_REASONS:
        assert series[f'cryptoflow_sink_records_skipped_total{{kind="{kind}",reason="{reason}"}}'] == 0
    for operation in RETRIED_OPERATIONS:
        assert series[f'cryptoflow_sink_retries_total{{operation="{operation}"}}'] == 0
    assert series["cryptoflow_sink_commit_failures_total"] == 0
