"""The Beat schedule: every periodic task, in one place. Each task is idempotent, so a late or doubled
run changes nothing."""

from __future__ import annotations

from typing import Any

from cryptoflow_service.config import ServiceSettings


def beat_schedule(config: ServiceSettings) -> dict[str, dict[str, Any]]:
    schedule: dict[str, dict[str, Any]] = {
        # The analyses run when their data changes: a cheap poll of mart.indicators' max(updated_at).
        "scan-daily-on-change": {
            "task": "analysis.scan_if_changed",
            "schedule": config.indicators_poll_every_s,
            "kwargs": {"interval": "1d"},
        },
        # Today's live volume moves all day, not with the daily indicators.
        "volume-scan": {"task": "analysis.volume_scan", "schedule": config.volume_scan_every_s},
        "price-rules": {"task": "alerts.evaluate_price_rules", "schedule": config.price_rules_every_s},
        "mart-rules": {"task": "alerts.evaluate_mart_rules", "schedule": config.mart_rules_every_s},
        "redeliver-stalled": {"task": "alerts.redeliver_stalled", "schedule": 300.0},
    }
    if config.minute_markets:
        schedule["scan-minute-on-change"] = {
            "task": "analysis.scan_if_changed",
            "schedule": config.indicators_poll_every_s,
            "kwargs": {"interval": "1m"},
        }
    return schedule
