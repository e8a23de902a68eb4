"""Analyses against the real PostgreSQL and Redis: MA crosses, trend scan, volume baseline, endpoints."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from cryptoflow_service.analysis import services
from cryptoflow_service.analysis.models import Signal, TrendReport, VolumeBaseline
from cryptoflow_service.analysis.tasks import _detect_crosses
from servicetest import plant

NOW = datetime(2026, 3, 12, 1, 15, tzinfo=UTC)
YESTERDAY = date(2026, 3, 11)
# 25 closes: flat, then a dip, then a rise whose last candle (yesterday) takes MA5 above MA20.
GOLDEN = [100] * 17 + [90, 88, 86, 88, 92, 96, 99, 120]
DEAD = [100] * 17 + [110, 112, 114, 112, 108, 104, 101, 80]


def detect(**overrides: Any) -> services.CrossScan:
    arguments: dict[str, Any] = {
        "interval": "1d",
        "short": 5,
        "long": 20,
        "lookback": 2,
        "now": NOW,
    } | overrides
    return services.detect_crosses(**arguments)


@pytest.mark.django_db
def test_golden_and_dead_crosses_are_recorded_once() -> None:
    plant.daily_candles("KRW-BTC", GOLDEN, last_day=YESTERDAY)
    plant.daily_candles("KRW-ETH", DEAD, last_day=YESTERDAY)
    plant.daily_candles("KRW-XRP", [100] * 25, last_day=YESTERDAY)
    scan = detect()
    assert scan.markets == 3
    assert len(scan.new_signal_ids) == 2
    golden = Signal.objects.get(market="KRW-BTC")
    assert (golden.kind, golden.interval, golden.short_window, golden.long_window) == (
        "golden_cross",
        "1d",
        5,
        20,
    )
    assert golden.candle_start == datetime(2026, 3, 11, tzinfo=UTC)
    assert golden.price == Decimal(120)
    assert golden.short_value == Decimal("99")
    assert golden.long_value > Decimal(95)
    assert golden.change_percent is not None
    assert golden.change_percent.quantize(Decimal("0.01")) == Decimal("21.21")
    assert Signal.objects.get(market="KRW-ETH").kind == "dead_cross"
    again = detect()
    assert again.crosses == 2
    assert again.new_signal_ids == []
    assert Signal.objects.count() == 2
    # Other windows are other signals.
    assert len(detect(short=3, long=10).new_signal_ids) >= 1


@pytest.mark.django_db
def test_crosses_outside_the_lookback_and_open_candles_are_ignored() -> None:
    plant.daily_candles("KRW-BTC", [*GOLDEN, 121, 122, 123], last_day=YESTERDAY)
    assert detect(lookback=2).new_signal_ids == []  # the cross was 3 candles ago
    assert len(detect(lookback=4).new_signal_ids) == 1
    # A daily candle that has not closed yet (today's) is never read.
    plant.daily_candles("KRW-ETH", [*[100] * 24, 80], last_day=NOW.date())
    assert Signal.objects.filter(market="KRW-ETH").count() == 0
    detect(lookback=4)
    assert Signal.objects.filter(market="KRW-ETH").count() == 0


@pytest.mark.django_db
def test_minute_crosses_only_for_configured_markets(settings: Any) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    plant.minute_candles("KRW-BTC", GOLDEN, last_start=start)
    plant.minute_candles("KRW-ETH", GOLDEN, last_start=start)
    result = _detect_crosses("1m")  # the Celery task's body; settings list KRW-BTC only
    assert result == {"markets": 1, "crosses": 1, "new_signals": 1}
    signal = Signal.objects.get()
    assert (signal.market, signal.interval, signal.candle_start) == ("KRW-BTC", "1m", start)


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_record_one_signal() -> None:
    plant.daily_candles("KRW-BTC", GOLDEN, last_day=YESTERDAY)
    barrier = threading.Barrier(4)
    results: list[int] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(len(detect().new_signal_ids))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 0, 0, 1]
    assert Signal.objects.count() == 1


@pytest.mark.django_db
def test_trend_scan_and_report_endpoints(api: Any) -> None:
    rising = [100]
    for day in range(1, 62):  # up 5, down 3: a steady climb with an RSI near 62, not overbought
        rising.append(rising[-1] + (5 if day % 2 else -3))
    falling = [300 - day * 2 for day in range(61)]
    plant.daily_candles("KRW-BTC", rising, last_day=YESTERDAY)
    plant.daily_candles("KRW-ETH", falling, last_day=YESTERDAY)
    plant.daily_candles("KRW-NEW", [10, 11, 12], last_day=YESTERDAY)
    scan = services.trend_scan(now=NOW)
    assert scan.markets == 3
    assert scan.top_picks == 1
    btc = TrendReport.objects.get(market="KRW-BTC")
    assert btc.day == YESTERDAY
    assert btc.trend == "up"
    assert btc.top_pick
    assert btc.ma_60 is not None
    assert TrendReport.objects.get(market="KRW-NEW").ma_5 is None
    services.trend_scan(now=NOW)  # idempotent: same rows, updated
    assert TrendReport.objects.count() == 3

    body = api.get("/api/trend-report/").json()
    # Best score first; ties (both 0 here) by market.
    assert [row["market"] for row in body["results"]] == ["KRW-BTC", "KRW-ETH", "KRW-NEW"]
    assert body["results"][0]["score"] == str(btc.score)
    assert body["results"][1]["trend"] == "down"
    assert [r["market"] for r in api.get("/api/trend-report/?search=et").json()["results"]] == ["KRW-ETH"]
    assert (
        next(r["market"] for r in api.get("/api/trend-report/?ordering=market").json()["results"])
        == "KRW-BTC"
    )
    assert api.get("/api/trend-report/?limit=1").json()["count"] == 3
    assert api.get("/api/trend-report/?trend=down").json()["count"] == 1
    assert api.get("/api/trend-report/?day=2026-03-10").json()["count"] == 0
    picks = api.get("/api/trend-report/top-picks/").json()
    assert picks["day"] == "2026-03-11"
    assert [r["market"] for r in picks["results"]] == ["KRW-BTC"]
    for bad in (
        "/api/trend-report/?day=yesterday",
        "/api/trend-report/?ordering=secret",
        "/api/trend-report/top-picks/?limit=0",
        "/api/trend-report/?trend=flat",
    ):
        assert api.get(bad).status_code == 400, bad


@pytest.mark.django_db
def test_volume_spike_against_the_30_day_baseline(redis_client: Any) -> None:
    now = datetime.now(UTC)
    today = now.date()
    plant.daily_candles("KRW-BTC", [100] * 30, last_day=today - timedelta(days=1), volume=100)
    plant.daily_candles("KRW-ETH", [100] * 30, last_day=today - timedelta(days=1), volume=100)
    plant.daily_candles("KRW-NEW", [100] * 5, last_day=today - timedelta(days=1), volume=1)
    now_ms = int(now.timestamp() * 1000)
    plant.ticker(
        redis_client, "KRW-BTC", received_ms=now_ms, acc_trade_volume="450", signed_change_rate="0.031"
    )
    plant.ticker(redis_client, "KRW-ETH", received_ms=now_ms, acc_trade_volume="120")
    scan = services.volume_scan(multiple=Decimal(3), now=now)
    assert (scan.baselines, scan.spikes, len(scan.new_signal_ids)) == (2, 1, 1)
    spike = Signal.objects.get()
    assert (spike.market, spike.kind, spike.short_value, spike.long_value) == (
        "KRW-BTC",
        "volume_spike",
        450,
        100,
    )
    assert spike.change_percent == Decimal("3.1")
    baseline = VolumeBaseline.objects.get(market="KRW-BTC")
    assert baseline.volume_ratio == Decimal("4.5")
    assert baseline.atr_14 == Decimal(4)
    assert services.volume_scan(multiple=Decimal(3), now=now).new_signal_ids == []
    assert VolumeBaseline.objects.count() == 2


@pytest.mark.django_db
def test_signals_endpoint(api: Any) -> None:
    plant.daily_candles("KRW-BTC", GOLDEN, last_day=YESTERDAY)
    plant.daily_candles("KRW-ETH", DEAD, last_day=YESTERDAY)
    detect()
    body = api.get("/api/signals/").json()
    assert body["count"] == 2
    row = next(r for r in body["results"] if r["market"] == "KRW-BTC")
    assert row["kind"] == "golden_cross"
    assert row["price"] == "120"
    assert row["candle_start_iso"] == "2026-03-11T00:00:00.000Z"
    assert api.get("/api/signals/?kind=dead_cross").json()["results"][0]["market"] == "KRW-ETH"
    assert api.get("/api/signals/?market=KRW-BTC&interval=1d").json()["count"] == 1
    assert api.get("/api/signals/?since=2026-03-12").json()["count"] == 0
    assert api.get("/api/signals/?until=2026-03-12").json()["count"] == 2
    assert [r["market"] for r in api.get("/api/signals/?ordering=market").json()["results"]] == [
        "KRW-BTC",
        "KRW-ETH",
    ]
    assert len(api.get("/api/signals/?limit=1").json()["results"]) == 1
    for bad in ("kind=moon", "interval=5m", "since=x", "ordering=price", "limit=-1"):
        assert api.get(f"/api/signals/?{bad}").status_code == 400, bad
