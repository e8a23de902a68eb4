"""Mart endpoints over the real PostgreSQL (tables created by cryptoflow-batch's migrations)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from servicetest import plant

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 12, 1, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


@pytest.fixture
def stats() -> None:
    plant.stats("KRW-BTC", snapshot_at=T0, price="104000000", change_rate="0.01", volume="2000", value="9")
    plant.stats("KRW-BTC", snapshot_at=T1, price="104862000.5", change_rate="0.02", volume="2100", value="10")
    plant.stats("KRW-ETH", snapshot_at=T1, price="3500000", change_rate="-0.03", volume="50000", value="8")
    plant.stats("KRW-XRP", snapshot_at=T0, price="3100", change_rate="0", volume="9000000", value="7")
    plant.stats("BTC-ETH", snapshot_at=T1, price="0.0334", change_rate="0.005", volume="12.5", value="0.4")


def markets(body: dict[str, Any]) -> list[str]:
    return [row["market"] for row in body["results"]]


def test_market_stats_latest_per_market(api: Any, stats: None) -> None:
    body = api.get("/api/market-stats/").json()
    assert body["count"] == 4
    assert markets(body) == ["BTC-ETH", "KRW-BTC", "KRW-ETH", "KRW-XRP"]
    btc = body["results"][1]
    assert btc["snapshot_at"] == int(T1.timestamp() * 1000)
    assert btc["snapshot_at_iso"] == "2026-03-12T01:05:00.000Z"
    assert btc["trade_price"] == "104862000.5"
    assert btc["signed_change_rate"] == "0.02"
    assert btc["trade_timestamp"] == btc["snapshot_at"]


def test_market_stats_as_of(api: Any, stats: None) -> None:
    body = api.get(f"/api/market-stats/?as_of={int(T0.timestamp() * 1000)}").json()
    assert markets(body) == ["KRW-BTC", "KRW-XRP"]
    assert body["results"][0]["trade_price"] == "104000000"
    assert api.get("/api/market-stats/?as_of=2026-03-12T00:00:00Z").json()["count"] == 0
    assert api.get("/api/market-stats/?as_of=soon").status_code == 400


def test_market_stats_filters_and_ordering(api: Any, stats: None) -> None:
    assert markets(api.get("/api/market-stats/?quote=krw&ordering=-signed_change_rate").json()) == [
        "KRW-BTC",
        "KRW-XRP",
        "KRW-ETH",
    ]
    assert markets(api.get("/api/market-stats/?min_change_rate=0.005&max_change_rate=0.015").json()) == [
        "BTC-ETH"
    ]
    assert markets(api.get("/api/market-stats/?min_volume=2050&ordering=acc_trade_volume_24h").json()) == [
        "KRW-BTC",
        "KRW-ETH",
        "KRW-XRP",
    ]
    assert markets(api.get("/api/market-stats/?max_volume=100").json()) == ["BTC-ETH"]
    assert markets(api.get("/api/market-stats/?min_value=9").json()) == ["KRW-BTC"]
    assert markets(api.get("/api/market-stats/?market=KRW-ETH,krw-xrp").json()) == ["KRW-ETH", "KRW-XRP"]
    assert markets(api.get("/api/market-stats/?ordering=-trade_price,market").json())[0] == "KRW-BTC"


def test_market_stats_pagination(api: Any, stats: None) -> None:
    first = api.get("/api/market-stats/?limit=2").json()
    assert first["count"] == 4
    assert markets(first) == ["BTC-ETH", "KRW-BTC"]
    assert "offset=2" in first["next"]
    assert first["previous"] is None
    second = api.get("/api/market-stats/?limit=2&offset=2").json()
    assert markets(second) == ["KRW-ETH", "KRW-XRP"]
    assert second["next"] is None
    assert api.get("/api/market-stats/?offset=10").json()["results"] == []


@pytest.mark.parametrize(
    "params",
    [
        "limit=0",
        "limit=501",
        "limit=two",
        "offset=-1",
        "ordering=password",
        "min_change_rate=abc",
        "min_volume=1e999999",
        "max_value=NaN",
        "market=KRW_BTC",
        "quote=%00",
        "as_of=99999999999999999",
    ],
)
def test_market_stats_bad_params(api: Any, stats: None, params: str) -> None:
    response = api.get(f"/api/market-stats/?{params}")
    assert response.status_code == 400, response.content
    assert response.json()["status"] == 400


def test_market_stats_history(api: Any, stats: None) -> None:
    body = api.get("/api/market-stats/krw-btc/").json()
    assert body["count"] == 2
    assert [row["trade_price"] for row in body["results"]] == [
        "104862000.5",
        "104000000",
    ]
    ranged = api.get("/api/market-stats/KRW-BTC/?from=2026-03-12T01:01:00Z&to=2026-03-12T02:00:00Z").json()
    assert ranged["count"] == 1
    assert api.get("/api/market-stats/KRW-BTC/?limit=1").json()["next"] is not None
    assert api.get("/api/market-stats/KRW-NONE/").status_code == 404
    assert api.get("/api/market-stats/KRW-BTC/?from=2026-03-13&to=2026-03-12").status_code == 400
    assert api.get("/api/market-stats/nope/").status_code == 400


def test_candles_daily_and_minute(api: Any) -> None:
    plant.daily_candles("KRW-BTC", [100, 101, "102.5", 103], last_day=date(2026, 3, 11))
    plant.minute_candles("KRW-BTC", [1, 2, 3], last_start=datetime(2026, 3, 12, 1, 2, tzinfo=UTC))
    body = api.get("/api/candles/KRW-BTC/").json()
    assert body["interval"] == "1d"
    assert body["count"] == 4
    first = body["candles"][0]
    assert first["candle_start_iso"] == "2026-03-08T00:00:00.000Z"
    assert first["trade_price"] == "100"
    assert first["candle_start"] == int(datetime(2026, 3, 8, tzinfo=UTC).timestamp() * 1000)
    assert body["candles"][2]["high_price"] == "104.5"
    assert body["candles"][2]["value"] == "10250.0"
    newest_two = api.get("/api/candles/KRW-BTC/?limit=2").json()["candles"]
    assert [c["trade_price"] for c in newest_two] == ["102.5", "103"]
    from_start = api.get("/api/candles/KRW-BTC/?from=2026-03-09&limit=2").json()["candles"]
    assert [c["trade_price"] for c in from_start] == ["101", "102.5"]
    until = api.get("/api/candles/KRW-BTC/?to=2026-03-09T00:00:00Z").json()["candles"]
    assert [c["trade_price"] for c in until] == ["100", "101"]
    minutes = api.get("/api/candles/krw-btc/?interval=1m").json()
    assert minutes["interval"] == "1m"
    assert [c["trade_price"] for c in minutes["candles"]] == ["1", "2", "3"]


def test_candles_errors(api: Any) -> None:
    plant.market("KRW-BTC")
    assert api.get("/api/candles/KRW-BTC/").json()["candles"] == []  # known market, no candles yet
    assert api.get("/api/candles/KRW-NONE/").status_code == 404
    for params in ("interval=5m", "limit=0", "limit=2001", "from=x", "from=2026-03-02&to=2026-03-01"):
        assert api.get(f"/api/candles/KRW-BTC/?{params}").status_code == 400, params


def test_indicators(api: Any) -> None:
    for offset in range(3):
        plant.indicator(
            "KRW-BTC",
            date(2026, 3, 9) + timedelta(days=offset),
            str(100 + offset),
            ma_5=Decimal("99.5"),
            rsi_14=Decimal("55.25") if offset else None,
            golden_cross=offset == 2,
        )
    body = api.get("/api/indicators/KRW-BTC/").json()
    assert body["count"] == 3
    assert [row["day"] for row in body["history"]] == [
        "2026-03-09",
        "2026-03-10",
        "2026-03-11",
    ]
    latest = body["latest"]
    assert latest["day"] == "2026-03-11"
    assert latest["close"] == "102"
    assert latest["golden_cross"] is True
    assert latest["rsi_14"] == "55.25"
    assert latest["ma_20"] is None
    assert latest["day_start"] == int(datetime(2026, 3, 11, tzinfo=UTC).timestamp() * 1000)
    assert body["history"][0]["rsi_14"] is None
    assert api.get("/api/indicators/KRW-BTC/?limit=1").json()["history"][0]["day"] == "2026-03-11"
    assert api.get("/api/indicators/KRW-BTC/?from=2026-03-10&to=2026-03-10").json()["count"] == 1
    assert api.get("/api/indicators/KRW-NONE/").status_code == 404
    assert api.get("/api/indicators/KRW-BTC/?limit=1001").status_code == 400


def test_archived_trades_page_newest_to_oldest_returns_every_trade_once(api: Any) -> None:
    from django.db import connection  # noqa: PLC0415

    plant.market("KRW-BTC")
    t0 = 1_773_278_125_000
    # 2,500 trades over two UTC days, ids not in time order, several in the same millisecond.
    rows = [("KRW-BTC", t0 + (i // 3) * 120_000, 10_000_000 - i * 7 % 1_000 * 1_000 - i, f"1000.{i}", "0.1")
            for i in range(2_500)]  # fmt: skip
    rows += [("KRW-ETH", t0, 1, "5", "1")]
    with connection.cursor() as cursor:
        cursor.execute("SELECT lake.ensure_trade_partitions(%s, %s)", (t0, t0 + 3 * 86_400_000))
        cursor.executemany(
            "INSERT INTO lake.trades VALUES (%s, %s, %s, %s, %s, 'BID', %s, 'ws')",
            [(m, ts, sid, price, volume, ts + 5) for m, ts, sid, price, volume in rows],
        )
    expected = sorted(((ts, sid) for m, ts, sid, *_ in rows if m == "KRW-BTC"), reverse=True)

    seen: list[tuple[int, int]] = []
    url: str | None = "/api/trades/?market=krw-btc&limit=1000"
    pages = 0
    while url:
        body = api.get(url).json()
        assert body["market"] == "KRW-BTC"
        seen += [(t["trade_timestamp"], t["sequential_id"]) for t in body["trades"]]
        url = body["next"]
        pages += 1
    assert seen == expected  # every trade once, newest first
    assert pages == 3
    first = api.get("/api/trades/?market=KRW-BTC&limit=1").json()["trades"][0]
    assert first["price"] == "1000.2499"
    assert first["source"] == "ws"

    # Back towards the newest with `after`, and a time window.
    ts, sid = expected[10]
    newer = api.get(f"/api/trades/?market=KRW-BTC&after={ts}-{sid}&limit=5").json()["trades"]
    assert [(t["trade_timestamp"], t["sequential_id"]) for t in newer] == expected[5:10]
    start = expected[-1][0]
    window = api.get(f"/api/trades/?market=KRW-BTC&from={start}&to={start}&limit=1000").json()["trades"]
    assert len(window) == sum(1 for t, _ in expected if t == start)
    for params in (
        "",
        "market=KRW-BTC&limit=1001",
        "market=KRW-BTC&before=x",
        "market=KRW-BTC&before=1-1&after=1-1",
    ):
        assert api.get(f"/api/trades/?{params}").status_code == 400, params
    assert api.get("/api/trades/?market=KRW-NONE").status_code == 404


def test_candles_by_market_query_every_interval(api: Any) -> None:
    plant.market("KRW-BTC")
    plant.minute_candles("KRW-BTC", [1, 2, 3], last_start=datetime(2026, 3, 12, 1, 2, tzinfo=UTC))
    body = api.get("/api/candles/?market=krw-btc&interval=1m").json()
    assert body == api.get("/api/candles/KRW-BTC/?interval=1m").json()
    assert [c["trade_price"] for c in body["candles"]] == ["1", "2", "3"]
    assert api.get("/api/candles/?market=KRW-BTC&interval=1h").json()["candles"] == []
    assert api.get("/api/candles/?interval=1m").status_code == 400
