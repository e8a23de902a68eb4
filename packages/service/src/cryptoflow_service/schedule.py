"""The Beat schedule: every periodic task, in one place. Each task is idempotent, so a late or doubled
run changes nothing."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

from cryptoflow_service.config import ServiceSettings


def beat_schedule(config: ServiceSettings) -> dict[str, dict[str, Any]]:
    schedule: dict[str, dict[str, Any]] = {
        "ma-cross-daily": {
            "task": "analysis.detect_crosses",
            "schedule": config.daily_cross_every_s,
            "kwargs": {"interval": "1d"},
        },
        "trend-scan": {
            "task": "analysis.trend_scan",
            "schedule": crontab(
                hour=str(config.trend_scan_hour_utc), minute=str(config.trend_scan_minute_utc)
            ),
        },
        "volume-scan": {"task": "analysis.volume_scan", "schedule": config.volume_scan_every_s},
        "redeliver-stalled": {"task": "alerts.redeliver_stalled", "schedule": 300.0},
    }
    if config.minute_markets:
        schedule["ma-cross-minute"] = {
            "task": "analysis.detect_crosses",
            "schedule": config.minute_cross_every_s,
            "kwargs": {"interval": "1m"},
        }
    return schedule
