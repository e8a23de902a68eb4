"""Every counter a dashboard plots is exported at 0 from the start, not only after its first event."""

from __future__ import annotations

from prometheus_client import generate_latest

from cryptoflow_contracts.topics import Topic
from cryptoflow_ingest.metrics import IngestMetrics


def test_new_metrics_export_every_counter_at_zero() -> None:
    lines = generate_latest(IngestMetrics().registry).decode().splitlines()
    pairs = (line.rsplit(" ", 1) for line in lines if line[:1] != "#")
    series = {name: float(value) for name, value in pairs}
    for kind in ("trade", "ticker", "orderbook", "invalid"):
        assert series[f'cryptoflow_ingest_messages_in_total{{kind="{kind}"}}'] == 0
    for topic in Topic:
        assert series[f'cryptoflow_ingest_messages_out_total{{topic="{topic.value}"}}'] == 0
    for name in ("dlq", "reconnects", "backfilled_trades", "backfill_requests"):
        assert series[f"cryptoflow_ingest_{name}_total"] == 0
