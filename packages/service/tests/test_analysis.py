"""Analyses against the real PostgreSQL and Redis. The scans read mart.indicators (the batch package's one
indicator engine; rows are planted here as it writes them): MA crosses, trend scan, volume baseline,
the scan-when-changed poll, and the endpoints that show them agreeing to the digit."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from cryptoflow_service.alerts.models import Alert, AlertRule
from cryptoflow_service.analysis import services
from cryptoflow_service.analysis.models import ScanWatermark, Signal, TrendReport, VolumeBaseline
from cryptoflow_service.analysis.tasks import _detect_crosses
from servicetest import plant

NOW = datetime(2026, 3, 12, 1, 15, tzinfo=UTC)
YESTERDAY = date(2026, 3, 11)


def series(
    market: str,
    closes: Sequence[int | str],
    *,
    last_day: date = YESTERDAY,
    golden: Sequence[int] = (),
    dead: Sequence[int] = (),
    updated_at: datetime | None = None,
    **values: Any,
) -> None:
    """Daily indicator rows ending on `last_day`, one per close; `golden` / `dead`: the indexes (negative
    from the end) whose candle the engine flagged as a cross."""
    first = last_day - timedelta(days=len(closes) - 1)
    flagged_golden = {index % len(closes) for index in golden}
    flagged_dead = {index % len(closes) for index in dead}
    for index, close in enumerate(closes):
        extra = dict(values)
        if updated_at is not None:
            extra["updated_at"] = updated_at
        plant.indicator(
            market,
            first + timedelta(days=index),
            str(close),
            golden_cross=index in flagged_golden,
            dead_cross=index in flagged_dead,
            **extra,
        )


def detect(**overrides: Any) -> services.CrossScan:
    arguments: dict[str, Any] = {"interval": "1d", "lookback": 2, "now": NOW} | overrides
    return services.detect_crosses(**arguments)


@pytest.mark.django_db
def test_flagged_crosses_are_recorded_once() -> None:
    series("KRW-BTC", [100, 99, 120], golden=[-1], ma_5=Decimal("99.5"), ma_20=Decimal("98.25"))
    series("KRW-ETH", [100, 101, 80], dead=[-1], ma_5=Decimal("97"), ma_20=Decimal("98"))
    series("KRW-XRP", [100, 100, 100])
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
    assert golden.short_value == Decimal("99.5")
    assert golden.long_value == Decimal("98.25")
    assert golden.change_percent is not None
    assert golden.change_percent.quantize(Decimal("0.01")) == Decimal("21.21")
    assert Signal.objects.get(market="KRW-ETH").kind == "dead_cross"
    again = detect()
    assert again.crosses == 2
    assert again.new_signal_ids == []
    assert Signal.objects.count() == 2


@pytest.mark.django_db
def test_crosses_outside_the_lookback_and_todays_row_are_ignored() -> None:
    series("KRW-BTC", [100, 99, 120, 121, 122, 123], golden=[2])
    assert detect(lookback=2).new_signal_ids == []  # the cross was 4 candles ago
    assert len(detect(lookback=4).new_signal_ids) == 1
    # A row for today (its candle has not closed) is never read.
    series("KRW-ETH", [100, 100, 80], last_day=NOW.date(), dead=[-1])
    detect(lookback=4)
    assert Signal.objects.filter(market="KRW-ETH").count() == 0


@pytest.mark.django_db
def test_older_crosses_fill_the_history_without_alerting() -> None:
    owner = get_user_model().objects.create_user("bob", email="bob@example.com")
    AlertRule.objects.create(owner=owner, name="all", kind="any", channels=["log"])
    series("KRW-BTC", [100, 99, 120, 121, 122, 123, 90], golden=[2], dead=[-1])
    scan = detect(lookback=30, alert_within=2)
    assert len(scan.new_signal_ids) == 2
    assert [a.signal.kind for a in Alert.objects.select_related("signal")] == ["dead_cross"]


@pytest.mark.django_db
def test_minute_crosses_only_for_configured_markets() -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    for market in ("KRW-BTC", "KRW-ETH"):
        plant.indicator_1m(market, start - timedelta(minutes=1), "100")
        plant.indicator_1m(market, start, "101", golden_cross=True, ma_5=Decimal(101), ma_20=Decimal(100))
        # The open minute may flip: never read.
        plant.indicator_1m(market, start + timedelta(minutes=2), "99", dead_cross=True)
    result = _detect_crosses("1m")  # the Celery task's body; settings list KRW-BTC only
    assert result == {"markets": 1, "crosses": 1, "new_signals": 1}
    signal = Signal.objects.get()
    assert (signal.market, signal.interval, signal.candle_start) == ("KRW-BTC", "1m", start)
    assert signal.change_percent == Decimal(1)


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_record_one_signal() -> None:
    series("KRW-BTC", [100, 99, 120], golden=[-1])
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


def rising_btc() -> None:
    """61 days up 5, down 3 (a steady climb, RSI about 62): a top pick."""
    closes = [100]
    for day in range(1, 61):
        closes.append(closes[-1] + (5 if day % 2 else -3))
    series(
        "KRW-BTC",
        closes,
        ma_5=Decimal("158.123456789"),
        ma_20=Decimal("150.98765432109"),
        ma_60=Decimal("130.5"),
        rsi_14=Decimal("62.4567"),
        atr_14=Decimal("4.000000001"),
        avg_volume_30d=Decimal("1234.56789123"),
        bb_percent_b=Decimal("0.7351"),
        macd=Decimal("-0.000123456789"),
    )


@pytest.mark.django_db
def test_trend_scan_and_report_endpoints(api: Any) -> None:
    rising_btc()
    series(
        "KRW-ETH",
        [300 - day * 2 for day in range(61)],
        ma_5=Decimal(184),
        ma_20=Decimal(199),
        ma_60=Decimal(240),
        rsi_14=Decimal(10),
    )
    series("KRW-NEW", [10, 11, 12])
    scan = services.trend_scan(now=NOW)
    assert scan.markets == 3
    assert scan.top_picks == 1
    btc = TrendReport.objects.get(market="KRW-BTC")
    assert btc.day == YESTERDAY
    assert btc.trend == "up"
    assert btc.top_pick
    assert btc.rsi_14 == Decimal("62.4567")  # the engine's value, copied
    assert btc.change_percent_20d is not None
    assert TrendReport.objects.get(market="KRW-NEW").ma_5 is None
    assert TrendReport.objects.get(market="KRW-NEW").change_percent_20d is None
    services.trend_scan(now=NOW)  # idempotent: same rows, updated
    assert TrendReport.objects.count() == 3

    body = api.get("/api/trend-report/").json()
    assert [row["market"] for row in body["results"]] == ["KRW-BTC", "KRW-ETH", "KRW-NEW"]
    assert body["results"][0]["score"] == str(btc.score)
    assert body["results"][1]["trend"] == "down"
    assert [r["market"] for r in api.get("/api/trend-report/?search=et").json()["results"]] == ["KRW-ETH"]
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
def test_three_endpoints_show_the_same_numbers_for_a_market_and_day(api: Any, redis_client: Any) -> None:
    rising_btc()
    plant.market("KRW-BTC")
    services.trend_scan(now=datetime.now(UTC))
    indicators = api.get("/api/indicators/KRW-BTC/").json()["latest"]
    [trend] = api.get("/api/trend-report/?symbol=krw-btc&day=2026-03-11").json()["results"]
    overview = api.get("/api/markets/krw-btc/").json()
    assert indicators["day"] == trend["day"] == overview["indicators"]["day"] == "2026-03-11"
    assert overview["indicators"] == indicators
    assert overview["trend"] == trend
    for name in ("close", "ma_5", "ma_20", "ma_60", "rsi_14"):
        assert indicators[name] == trend[name], name
    # Rounded once, in the field: 8 significant digits on a price's scale, 2 decimals for ratios.
    assert indicators["ma_5"] == "158.12346"
    assert indicators["ma_20"] == "150.98765"
    assert indicators["rsi_14"] == "62.46"
    assert indicators["atr_14"] == "4"
    assert indicators["avg_volume_30d"] == "1234.5679"
    assert indicators["bb_percent_b"] == "0.74"
    assert indicators["macd"] == "-0.00012345679"
    assert indicators["close"] == "160"  # a close is a price: exact
    schema = api.get("/api/schema/?format=json").json()
    row = schema["components"]["schemas"]["IndicatorRow"]["properties"]
    assert "8 significant digits" in row["ma_5"]["description"]
    assert "2 decimals" in row["rsi_14"]["description"]


@pytest.mark.django_db
def test_volume_spike_against_the_30_day_baseline(redis_client: Any) -> None:
    now = datetime.now(UTC)
    today = now.date()
    for market in ("KRW-BTC", "KRW-ETH"):
        plant.indicator(
            market, today - timedelta(days=1), "100", avg_volume_30d=Decimal(100), atr_14=Decimal(4)
        )
    plant.indicator("KRW-NEW", today - timedelta(days=1), "100")  # no 30 days yet: no baseline
    plant.indicator("KRW-OLD", today - timedelta(days=5), "100", avg_volume_30d=Decimal(1))  # stale
    now_ms_ = int(now.timestamp() * 1000)
    plant.ticker(
        redis_client, "KRW-BTC", received_ms=now_ms_, acc_trade_volume="450", signed_change_rate="0.031"
    )
    plant.ticker(redis_client, "KRW-ETH", received_ms=now_ms_, acc_trade_volume="120")
    plant.ticker(redis_client, "KRW-OLD", received_ms=now_ms_, acc_trade_volume="120")
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
def test_scans_run_when_the_indicators_change_and_only_then(redis_client: Any) -> None:
    def poll() -> services.ChangeScan:
        return services.scan_if_changed(interval="1d", lookback=30, alert_within=2, now=NOW)

    assert not poll().changed  # nothing in the mart yet
    first = datetime(2026, 3, 12, 0, 5, tzinfo=UTC)
    series("KRW-BTC", [100, 99, 120], golden=[-1], updated_at=first, ma_5=Decimal(1), rsi_14=Decimal(50))
    scan = poll()
    assert scan.changed
    assert scan.seen == first
    assert scan.crosses is not None
    assert len(scan.crosses.new_signal_ids) == 1
    assert scan.trend is not None
    assert scan.trend.markets == 1
    assert TrendReport.objects.get().rsi_14 == Decimal(50)
    assert ScanWatermark.objects.get(name="indicators_1d").seen == first
    assert not poll().changed  # no change: no scan
    # The engine recomputes yesterday (a corrected candle): updated_at moves, the scan runs again.
    from cryptoflow_service.marts.models import Indicator  # noqa: PLC0415

    Indicator.objects.filter(market="KRW-BTC", day=YESTERDAY).update(
        rsi_14=Decimal(55), updated_at=first + timedelta(minutes=1)
    )
    again = poll()
    assert again.changed
    assert again.crosses is not None
    assert again.crosses.new_signal_ids == []  # detected once
    assert TrendReport.objects.get().rsi_14 == Decimal(55)


@pytest.mark.django_db
def test_signals_endpoint(api: Any) -> None:
    series("KRW-BTC", [100, 99, 120], golden=[-1])
    series("KRW-ETH", [100, 101, 80], dead=[-1])
    plant.market("KRW-BTC")
    detect()
    body = api.get("/api/signals/").json()
    assert body["count"] == 2
    row = next(r for r in body["results"] if r["market"] == "KRW-BTC")
    assert row["kind"] == "golden_cross"
    assert row["price"] == "120"
    assert row["change_percent"] == "21.21"
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
