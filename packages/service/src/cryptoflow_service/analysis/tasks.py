"""Celery tasks of the analyses: thin wrappers that read the settings and call the services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from cryptoflow_service.analysis import services
from cryptoflow_service.common.conf import service_config


def _detect_crosses(interval: str = "1d") -> dict[str, Any]:
    config = service_config()
    if interval == "1m":
        if not config.minute_markets:
            return {"markets": 0, "crosses": 0, "new_signals": 0}
        scan = services.detect_crosses(
            interval="1m",
            short=config.ma_short_window,
            long=config.ma_long_window,
            lookback=config.cross_lookback_minute,
            markets=config.minute_markets,
        )
    else:
        scan = services.detect_crosses(
            interval="1d",
            short=config.ma_short_window,
            long=config.ma_long_window,
            lookback=config.cross_lookback_daily,
        )
    return {"markets": scan.markets, "crosses": scan.crosses, "new_signals": len(scan.new_signal_ids)}


def _trend_scan() -> dict[str, Any]:
    scan = services.trend_scan()
    return {"markets": scan.markets, "top_picks": scan.top_picks}


def _volume_scan() -> dict[str, Any]:
    scan = services.volume_scan(multiple=service_config().volume_spike_multiple)
    return {"baselines": scan.baselines, "spikes": scan.spikes, "new_signals": len(scan.new_signal_ids)}


# Registered through a call rather than as decorators: celery is untyped, and this keeps the
# functions themselves typed.
detect_crosses = shared_task(name="analysis.detect_crosses")(_detect_crosses)
trend_scan = shared_task(name="analysis.trend_scan")(_trend_scan)
volume_scan = shared_task(name="analysis.volume_scan")(_volume_scan)
