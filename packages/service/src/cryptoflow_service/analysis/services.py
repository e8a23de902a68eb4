"""Writes of the analyses: MA-cross signals, the trend report, the volume baseline and its spikes.

Every function is idempotent: signals are inserted with ON CONFLICT DO NOTHING on their unique
constraint, and only the call that inserted a signal fires its alerts, in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from cryptoflow_service.alerts.services import fire_alerts
from cryptoflow_service.analysis.models import (
    Interval,
    ScanWatermark,
    Signal,
    SignalKind,
    TrendReport,
    VolumeBaseline,
)
from cryptoflow_service.analysis.scoring import PLACES, percent_change, trend_score
from cryptoflow_service.common.db import insert_ignore_returning_ids
from cryptoflow_service.live import selectors as live
from cryptoflow_service.marts.selectors import indicators_changed_at, recent_indicators

logger = logging.getLogger(__name__)

MA_SHORT, MA_LONG = 5, 20
"""The windows of mart.indicators' `golden_cross` / `dead_cross` flags (the batch engine's definition)."""


@dataclass(frozen=True, slots=True)
class CrossScan:
    markets: int
    crosses: int
    new_signal_ids: list[int]


def detect_crosses(
    *,
    interval: str,
    lookback: int,
    alert_within: int | None = None,
    markets: Sequence[str] | None = None,
    now: datetime | None = None,
) -> CrossScan:
    """Record the MA5/MA20 crosses the indicator engine flagged on the newest `lookback` closed candles of
    each market (every market, or `markets`) as signals, once each. Alerts fire for the new ones among the
    newest `alert_within` candles (default: all `lookback`): an older cross seen for the first time (the
    first scan after a start fills the signal history) is recorded without alerting anyone."""
    now = now or datetime.now(UTC)
    alert_within = lookback if alert_within is None else alert_within
    history = recent_indicators(interval=interval, count=lookback, closed_before=now, markets=markets)
    rows: list[dict[str, Any]] = []
    for market, indicator_rows in history.items():
        for index, row in enumerate(indicator_rows):
            if not (row.golden_cross or row.dead_cross):
                continue
            previous = getattr(row, "prev_close", None)
            rows.append(
                {
                    "market": market,
                    "kind": SignalKind.GOLDEN_CROSS if row.golden_cross else SignalKind.DEAD_CROSS,
                    "interval": interval,
                    "short_window": MA_SHORT,
                    "long_window": MA_LONG,
                    "candle_start": _start_of(row),
                    "price": row.close,
                    "change_percent": percent_change(previous, row.close) if previous is not None else None,
                    "short_value": row.ma_5,
                    "long_value": row.ma_20,
                    "detected_at": now,
                    "_alert": index >= len(indicator_rows) - alert_within,
                }
            )
    new_ids = _record_signals(rows)
    logger.info(
        "cross scan %s: %d markets, %d crosses in the last %d candles, %d new",
        interval,
        len(history),
        len(rows),
        lookback,
        len(new_ids),
    )
    return CrossScan(markets=len(history), crosses=len(rows), new_signal_ids=new_ids)


def _start_of(row: Any) -> datetime:
    if hasattr(row, "day"):
        day: date = row.day
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    start: datetime = row.candle_start
    return start


def _record_signals(rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert the signals that are new; fire alerts for the new ones not marked `_alert: False`."""
    quiet = {(row["market"], row["kind"], row["candle_start"]) for row in rows if not row.get("_alert", True)}
    columns = [{key: value for key, value in row.items() if key != "_alert"} for row in rows]
    with transaction.atomic():
        new_ids = insert_ignore_returning_ids(Signal, columns, constraint="signal_once")
        if new_ids:
            new = Signal.objects.filter(pk__in=new_ids).order_by("pk")
            fire_alerts(signals=[s for s in new if (s.market, s.kind, s.candle_start) not in quiet])
    return new_ids


@dataclass(frozen=True, slots=True)
class TrendScan:
    markets: int
    top_picks: int


def trend_scan(*, now: datetime | None = None, markets: Sequence[str] | None = None) -> TrendScan:
    """Score every market's trend on its newest closed day of mart.indicators and upsert the day's report
    row (the indicator values are copied as the engine computed them)."""
    now = now or datetime.now(UTC)
    latest = recent_indicators(interval=Interval.DAY, count=1, closed_before=now, markets=markets)
    reports: list[TrendReport] = []
    for market, (row,) in latest.items():
        before = getattr(row, "close_20_before", None)
        change_20d = percent_change(before, row.close) if before is not None else None
        score = trend_score(
            close=row.close,
            ma_5=row.ma_5,
            ma_20=row.ma_20,
            ma_60=row.ma_60,
            rsi_14=row.rsi_14,
            change_percent_20d=change_20d,
        )
        reports.append(
            TrendReport(
                market=market,
                day=row.day,  # type: ignore[attr-defined]  # a daily row
                close=row.close,
                ma_5=row.ma_5,
                ma_20=row.ma_20,
                ma_60=row.ma_60,
                rsi_14=row.rsi_14,
                change_percent_20d=change_20d,
                score=score.score,
                trend=score.trend,
                top_pick=score.top_pick,
                computed_at=now,
            )
        )
    TrendReport.objects.bulk_create(
        reports,
        update_conflicts=True,
        unique_fields=["market", "day"],
        update_fields=[
            "close",
            "ma_5",
            "ma_20",
            "ma_60",
            "rsi_14",
            "change_percent_20d",
            "score",
            "trend",
            "top_pick",
            "computed_at",
        ],
    )
    picks = sum(report.top_pick for report in reports)
    logger.info("trend scan: %d markets, %d top picks", len(reports), picks)
    return TrendScan(markets=len(reports), top_picks=picks)


@dataclass(frozen=True, slots=True)
class VolumeScan:
    baselines: int
    spikes: int
    new_signal_ids: list[int]


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def volume_scan(
    *, multiple: Decimal, now: datetime | None = None, markets: Sequence[str] | None = None
) -> VolumeScan:
    """Baseline = yesterday's row of mart.indicators (30-day average volume, ATR 14); today = the live
    ticker's volume since 00:00 UTC. A market trading at least `multiple` times its average volume today
    gets one `volume_spike` signal for the day."""
    now = now or datetime.now(UTC)
    today = now.astimezone(UTC).date()
    today_start = datetime(today.year, today.month, today.day, tzinfo=UTC)
    latest = recent_indicators(interval=Interval.DAY, count=1, closed_before=today_start, markets=markets)
    complete = {
        market: row
        for market, (row,) in latest.items()
        if row.avg_volume_30d is not None and row.day == today - timedelta(days=1)  # type: ignore[attr-defined]
    }
    live_tickers = {ticker["market"]: ticker for ticker in live.tickers(markets=list(complete))}

    baselines: list[VolumeBaseline] = []
    spikes: list[dict[str, Any]] = []
    for market, row in complete.items():
        average: Decimal = row.avg_volume_30d
        atr_14 = row.atr_14
        ticker = _todays_ticker(live_tickers.get(market), today_start)
        volume = _decimal(ticker.get("acc_trade_volume")) if ticker else None
        high, low = (_decimal(ticker.get(name)) if ticker else None for name in ("high_price", "low_price"))
        day_range = high - low if high is not None and low is not None else None
        ratio = (volume / average).quantize(PLACES) if volume is not None and average > 0 else None
        baselines.append(
            VolumeBaseline(
                market=market,
                day=today,
                avg_volume_30d=average,
                atr_14=atr_14,
                today_volume=volume,
                volume_ratio=ratio,
                today_range=day_range,
                range_atr_ratio=(day_range / atr_14).quantize(PLACES)
                if day_range is not None and atr_14
                else None,
                computed_at=now,
            )
        )
        price = _decimal(ticker.get("trade_price")) if ticker else None
        if ratio is not None and ratio >= multiple and price is not None:
            rate = _decimal(ticker.get("signed_change_rate")) if ticker else None
            spikes.append(
                {
                    "market": market,
                    "kind": SignalKind.VOLUME_SPIKE.value,
                    "interval": Interval.DAY.value,
                    "short_window": 1,
                    "long_window": 30,
                    "candle_start": today_start,
                    "price": price,
                    "change_percent": (rate * 100).quantize(PLACES) if rate is not None else None,
                    "short_value": volume,
                    "long_value": average,
                    "detected_at": now,
                }
            )
    VolumeBaseline.objects.bulk_create(
        baselines,
        update_conflicts=True,
        unique_fields=["market", "day"],
        update_fields=[
            "avg_volume_30d",
            "atr_14",
            "today_volume",
            "volume_ratio",
            "today_range",
            "range_atr_ratio",
            "computed_at",
        ],
    )
    new_ids = _record_signals(spikes)
    logger.info("volume scan: %d baselines, %d spikes, %d new", len(baselines), len(spikes), len(new_ids))
    return VolumeScan(baselines=len(baselines), spikes=len(spikes), new_signal_ids=new_ids)


def _todays_ticker(ticker: dict[str, Any] | None, today_start: datetime) -> dict[str, Any] | None:
    """The ticker only if its last trade is from today (UTC): its `acc_*` fields restart at 00:00 UTC."""
    if ticker is None or "trade_timestamp" not in ticker:
        return None
    traded = datetime.fromtimestamp(ticker["trade_timestamp"] / 1000, tz=UTC)
    return ticker if traded >= today_start else None


@dataclass(frozen=True, slots=True)
class ChangeScan:
    interval: str
    changed: bool
    seen: datetime | None
    crosses: CrossScan | None = None
    trend: TrendScan | None = None
    volume: VolumeScan | None = None


def scan_if_changed(
    *,
    interval: str,
    lookback: int,
    alert_within: int,
    volume_multiple: Decimal | None = None,
    markets: Sequence[str] | None = None,
    now: datetime | None = None,
) -> ChangeScan:
    """Run the scans of `interval` when its indicator table changed since the last scan: compare
    `max(updated_at)` with the stored watermark, scan, then move the watermark, all in one transaction
    that holds the watermark row, so two pollers never scan the same change twice (and the scans are
    idempotent anyway: a crash before the commit just scans again). Daily: the cross, trend and volume
    scans; 1-minute: the cross scan of `markets`."""
    name = f"indicators_{interval}"
    with transaction.atomic():
        ScanWatermark.objects.get_or_create(name=name)
        mark = ScanWatermark.objects.select_for_update().get(name=name)
        seen = indicators_changed_at(interval=interval)
        if seen is None or (mark.seen is not None and seen <= mark.seen):
            return ChangeScan(interval=interval, changed=False, seen=mark.seen)
        crosses = detect_crosses(
            interval=interval, lookback=lookback, alert_within=alert_within, markets=markets, now=now
        )
        trend = volume = None
        if interval == Interval.DAY:
            trend = trend_scan(now=now, markets=markets)
            if volume_multiple is not None:
                volume = volume_scan(multiple=volume_multiple, now=now, markets=markets)
        mark.seen, mark.scanned_at = seen, datetime.now(UTC)
        mark.save()
    logger.info("indicators_%s changed (newest row %s): scanned", interval, seen.isoformat())
    return ChangeScan(interval=interval, changed=True, seen=seen, crosses=crosses, trend=trend, volume=volume)
