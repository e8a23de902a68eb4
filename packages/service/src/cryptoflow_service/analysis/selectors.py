"""Reads of signals and the trend report."""

from __future__ import annotations

from datetime import date

from django.db.models import Max, QuerySet

from cryptoflow_service.analysis.models import Signal, TrendReport


def signals() -> QuerySet[Signal]:
    return Signal.objects.order_by("-candle_start", "-pk")


def recent_signals(*, market: str, limit: int) -> list[Signal]:
    return list(Signal.objects.filter(market=market).order_by("-candle_start", "-pk")[:limit])


def latest_report_day() -> date | None:
    day: date | None = TrendReport.objects.aggregate(day=Max("day"))["day"]
    return day


def trend_report(*, day: date | None) -> QuerySet[TrendReport]:
    """The report of `day` (default: the newest day reported)."""
    day = day or latest_report_day()
    return (
        TrendReport.objects.filter(day=day).order_by("-score", "market")
        if day
        else TrendReport.objects.none()
    )


def top_picks(*, day: date | None, limit: int) -> list[TrendReport]:
    return list(trend_report(day=day).filter(top_pick=True)[:limit])


def latest_trend(*, market: str) -> TrendReport | None:
    return TrendReport.objects.filter(market=market).order_by("-day").first()
