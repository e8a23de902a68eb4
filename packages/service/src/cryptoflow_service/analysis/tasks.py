"""Celery tasks of the analyses: thin wrappers that read the settings and call the services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from cryptoflow_service.analysis import services
from cryptoflow_service.common.conf import service_config


def _scan_if_changed(interval: str = "1d") -> dict[str, Any]:
    """Beat polls this every few seconds; the scans run only when the indicator table changed."""
    config = service_config()
    if interval == "1m":
        if not config.minute_markets:
            return {"changed": False}
        scan = services.scan_if_changed(
            interval="1m",
            lookback=config.signal_history_minute,
            alert_within=config.cross_lookback_minute,
            markets=config.minute_markets,
        )
    else:
        scan = services.scan_if_changed(
            interval="1d",
            lookback=config.signal_history_daily,
            alert_within=config.cross_lookback_daily,
            volume_multiple=config.volume_spike_multiple,
        )
    result: dict[str, Any] = {"changed": scan.changed}
    if scan.crosses is not None:
        result["new_signals"] = len(scan.crosses.new_signal_ids)
    if scan.trend is not None:
        result["trend_markets"] = scan.trend.markets
    return result


def _detect_crosses(interval: str = "1d") -> dict[str, Any]:
    """The cross scan alone, whatever changed (an operator's re-run; Beat uses `scan_if_changed`)."""
    config = service_config()
    minute = interval == "1m"
    if minute and not config.minute_markets:
        return {"markets": 0, "crosses": 0, "new_signals": 0}
    scan = services.detect_crosses(
        interval=interval,
        lookback=config.cross_lookback_minute if minute else config.cross_lookback_daily,
        markets=config.minute_markets if minute else None,
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
scan_if_changed = shared_task(name="analysis.scan_if_changed")(_scan_if_changed)
detect_crosses = shared_task(name="analysis.detect_crosses")(_detect_crosses)
trend_scan = shared_task(name="analysis.trend_scan")(_trend_scan)
volume_scan = shared_task(name="analysis.volume_scan")(_volume_scan)
