"""Writes of the analyses: MA-cross signals, the trend report, the volume baseline and its spikes.

Every function is idempotent: signals are inserted with ON CONFLICT DO NOTHING on their unique
constraint, and only the call that inserted a signal fires its alerts, in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from cryptoflow_service.alerts.services import fire_alerts
from cryptoflow_service.analysis import indicators
from cryptoflow_service.analysis.models import Interval, Signal, SignalKind, TrendReport, VolumeBaseline
from cryptoflow_service.common.db import insert_ignore_returning_ids
from cryptoflow_service.live import selectors as live
from cryptoflow_service.marts.selectors import recent_candles

logger = logging.getLogger(__name__)

HISTORY_MARGIN = 30
"""Extra candles read before the lookback so the side of the MAs before it is known."""
TREND_HISTORY = 61
"""Candles for MA60 and RSI14 of the last day, plus its 20-day change."""
VOLUME_DAYS = 30
ATR_PERIOD = 14


@dataclass(frozen=True, slots=True)
class CrossScan:
    markets: int
    crosses: int
    new_signal_ids: list[int]


def detect_crosses(
    *,
    interval: str,
    short: int,
    long: int,
    lookback: int,
    markets: Sequence[str] | None = None,
    now: datetime | None = None,
) -> CrossScan:
    """Find MA(short)/MA(long) crosses on the newest `lookback` closed candles of each market (all markets
    with daily candles, or `markets`) and record each as a signal once; alerts fire for the new ones."""
    now = now or datetime.now(UTC)
    history = recent_candles(
        interval=interval, count=long + lookback + HISTORY_MARGIN, closed_before=now, markets=markets
    )
    rows: list[dict[str, Any]] = []
    for market, candles in history.items():
        closes = [candle.trade_price for candle in candles]
        first_checked = len(closes) - lookback
        for cross in indicators.crosses(closes, short, long):
            if cross.index < first_checked:
                continue
            candle = candles[cross.index]
            change = (
                indicators.percent_change(closes[cross.index - 1], closes[cross.index])
                if cross.index
                else None
            )
            rows.append(
                {
                    "market": market,
                    "kind": cross.kind,
                    "interval": interval,
                    "short_window": short,
                    "long_window": long,
                    "candle_start": candle.candle_start,
                    "price": candle.trade_price,
                    "change_percent": change,
                    "short_value": cross.short_ma,
                    "long_value": cross.long_ma,
                    "detected_at": now,
                }
            )
    new_ids = _record_signals(rows)
    logger.info(
        "cross scan %s MA%d/%d: %d markets, %d crosses in lookback, %d new",
        interval,
        short,
        long,
        len(history),
        len(rows),
        len(new_ids),
    )
    return CrossScan(markets=len(history), crosses=len(rows), new_signal_ids=new_ids)


def _record_signals(rows: Sequence[dict[str, Any]]) -> list[int]:
    with transaction.atomic():
        new_ids = insert_ignore_returning_ids(Signal, rows, constraint="signal_once")
        if new_ids:
            fire_alerts(signals=list(Signal.objects.filter(pk__in=new_ids).order_by("pk")))
    return new_ids


@dataclass(frozen=True, slots=True)
class TrendScan:
    markets: int
    top_picks: int


def trend_scan(*, now: datetime | None = None, markets: Sequence[str] | None = None) -> TrendScan:
    """Score every market's trend on its last closed daily candle and upsert the day's report row."""
    now = now or datetime.now(UTC)
    history = recent_candles(interval=Interval.DAY, count=TREND_HISTORY, closed_before=now, markets=markets)
    reports: list[TrendReport] = []
    for market, candles in history.items():
        closes = [candle.trade_price for candle in candles]
        close = closes[-1]
        ma_5, ma_20, ma_60 = (indicators.sma(closes, window) for window in (5, 20, 60))
        rsi_14 = indicators.rsi(closes, 14)
        change_20d = indicators.percent_change(closes[-21], close) if len(closes) > 20 else None
        score = indicators.trend_score(
            close=close, ma_5=ma_5, ma_20=ma_20, ma_60=ma_60, rsi_14=rsi_14, change_percent_20d=change_20d
        )
        reports.append(
            TrendReport(
                market=market,
                day=candles[-1].candle_start.astimezone(UTC).date(),
                close=close,
                ma_5=ma_5,
                ma_20=ma_20,
                ma_60=ma_60,
                rsi_14=rsi_14,
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
    """Baseline = the 30 closed daily candles before today (average volume, ATR14); today = the live
    ticker's volume since 00:00 UTC. A market trading at least `multiple` times its average volume today
    gets one `volume_spike` signal for the day."""
    now = now or datetime.now(UTC)
    today = now.astimezone(UTC).date()
    today_start = datetime(today.year, today.month, today.day, tzinfo=UTC)
    history = recent_candles(
        interval=Interval.DAY, count=VOLUME_DAYS, closed_before=today_start, markets=markets
    )
    complete = {market: candles for market, candles in history.items() if len(candles) == VOLUME_DAYS}
    live_tickers = {ticker["market"]: ticker for ticker in live.tickers(markets=list(complete))}

    baselines: list[VolumeBaseline] = []
    spikes: list[dict[str, Any]] = []
    for market, candles in complete.items():
        average = (sum((candle.volume for candle in candles), Decimal(0)) / VOLUME_DAYS).quantize(
            indicators.PLACES
        )
        atr_14 = indicators.atr(
            [c.high_price for c in candles],
            [c.low_price for c in candles],
            [c.trade_price for c in candles],
            ATR_PERIOD,
        )
        ticker = _todays_ticker(live_tickers.get(market), today_start)
        volume = _decimal(ticker.get("acc_trade_volume")) if ticker else None
        high, low = (_decimal(ticker.get(name)) if ticker else None for name in ("high_price", "low_price"))
        day_range = high - low if high is not None and low is not None else None
        ratio = (volume / average).quantize(indicators.PLACES) if volume is not None and average > 0 else None
        baselines.append(
            VolumeBaseline(
                market=market,
                day=today,
                avg_volume_30d=average,
                atr_14=atr_14,
                today_volume=volume,
                volume_ratio=ratio,
                today_range=day_range,
                range_atr_ratio=(day_range / atr_14).quantize(indicators.PLACES)
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
                    "long_window": VOLUME_DAYS,
                    "candle_start": today_start,
                    "price": price,
                    "change_percent": (rate * 100).quantize(indicators.PLACES) if rate is not None else None,
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
