"""Candle DAGs with dag.test(): daily and minute EL, re-runs, replaced candles, checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from cryptoflow_batch import jobs
from cryptoflow_batch.quality import DataQualityError

UTC = dt.UTC
pytestmark = pytest.mark.airflow
Query = Callable[..., list[tuple[Any, ...]]]

CANDLE_COLUMNS = (
    "market, candle_start, opening_price, high_price, low_price, trade_price, volume, value, last_trade_at"
)


def _today() -> dt.datetime:
    return dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _ms(ms: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=ms)


def test_daily_candles_el_twice_then_indicators(
    run_dag: Callable[..., Any], task_states: Callable[[Any], dict[str, str]], query: Query, sim: Any
) -> None:
    today = _today()
    yesterday = today - dt.timedelta(days=1)
    first = run_dag("upbit_candles_el", logical_date=today)
    assert str(first.state) == "success", task_states(first)
    lake = query("SELECT * FROM lake.candles ORDER BY market, candle_start")
    mart = query(f"SELECT {CANDLE_COLUMNS}, updated_at FROM mart.candles_1d ORDER BY 1, 2")  # noqa: S608 - constant
    listed = sorted(m["market"] for m in sim.get("/v1/market/all"))
    assert [row[0] for row in mart] == listed
    assert {row[1] for row in mart} == {yesterday}

    # Each mart row is the simulator's closed day candle, number for number.
    for row in mart:
        truth = sim.get("/v1/candles/days", market=row[0], to=today.strftime("%Y-%m-%dT%H:%M:%S"), count="1")[
            0
        ]
        assert row[1:9] == (
            yesterday,
            truth["opening_price"],
            truth["high_price"],
            truth["low_price"],
            truth["trade_price"],
            truth["candle_acc_trade_volume"],
            truth["candle_acc_trade_price"],
            _ms(truth["timestamp"]),
        )

    again = run_dag("upbit_candles_el", logical_date=today)
    assert str(again.state) == "success", task_states(again)
    assert query("SELECT * FROM lake.candles ORDER BY market, candle_start") == lake
    again_mart = query(f"SELECT {CANDLE_COLUMNS}, updated_at FROM mart.candles_1d ORDER BY 1, 2")  # noqa: S608
    assert again_mart == mart

    indicators = run_dag("market_indicators")
    assert str(indicators.state) == "success", task_states(indicators)
    rows = query("SELECT market, day, close, ma_5, rsi_14, golden_cross FROM mart.indicators ORDER BY 1")
    assert [(r[0], r[1], r[2]) for r in rows] == [(r[0], yesterday.date(), r[5]) for r in mart]
    assert all(r[3] is None and r[4] is None and r[5] is False for r in rows)  # one day: too little history


def test_minute_candles_el_twice_gives_identical_tables(
    run_dag: Callable[..., Any], task_states: Callable[[Any], dict[str, str]], query: Query
) -> None:
    now = dt.datetime.now(UTC)
    end = now.replace(minute=now.minute - now.minute % 10, second=0, microsecond=0)
    first = run_dag("upbit_candles_1m_el", logical_date=end)
    assert str(first.state) == "success", task_states(first)
    lake = query("SELECT * FROM lake.candles ORDER BY market, candle_start")
    assert {r[1] for r in lake} == {"KRW-BTC", "KRW-ETH", "KRW-XRP"}
    assert all(end - dt.timedelta(minutes=10) <= r[2] < end for r in lake)
    # The REST minute candles are the exchange's reference; the mart is built from archived trades.
    assert query("SELECT count(*) FROM mart.candles_1m") == [(0,)]

    again = run_dag("upbit_candles_1m_el", logical_date=end)
    assert str(again.state) == "success", task_states(again)
    assert query("SELECT * FROM lake.candles ORDER BY market, candle_start") == lake

    # The 1-minute indicators follow mart.candles_1m, not the REST reference: nothing to compute yet
    # (their values against TA-Lib, over planted minute candles, are test_indicators.py's).
    indicators = run_dag("market_indicators_1m", logical_date=end)
    assert str(indicators.state) == "success", task_states(indicators)
    assert query("SELECT count(*) FROM mart.indicators_1m") == [(0,)]


def test_an_updated_candle_replaces_the_stored_one(batch_env: str, query: Query) -> None:
    today = _today()
    start = today - dt.timedelta(days=1)
    jobs.candles_el_job("days", start, today, "first")
    jobs.transform_job("candles_1d")
    truth = query("SELECT market, trade_price, volume FROM mart.candles_1d ORDER BY 1")
    # As if the first fetch had seen different (e.g. not yet final) numbers for KRW-BTC.
    query(
        """UPDATE lake.candles SET payload = payload || '{"trade_price": 1.5, "candle_acc_trade_volume": 2}'
           WHERE market = 'KRW-BTC'"""
    )
    query("UPDATE cryptoflow_meta.watermarks SET last_seq = 0 WHERE name = 'candles_1d'")
    jobs.transform_job("candles_1d")
    assert query("SELECT trade_price, volume FROM mart.candles_1d WHERE market = 'KRW-BTC'") == [
        (Decimal("1.5"), Decimal(2))
    ]
    (seq_before,) = query("SELECT ingest_seq FROM lake.candles WHERE market = 'KRW-BTC'")[0]

    result = jobs.candles_el_job("days", start, today, "second")
    assert result["stored"] == 1  # only the changed candle was written
    rows = query("SELECT ingest_seq, run_id FROM lake.candles WHERE market = 'KRW-BTC'")
    assert len(rows) == 1
    assert rows[0][0] > seq_before
    assert rows[0][1] == "second"
    assert jobs.transform_job("candles_1d")["rows"] == 1
    assert query("SELECT market, trade_price, volume FROM mart.candles_1d ORDER BY 1") == truth
    assert query("SELECT count(*) FROM mart.candles_1d")[0][0] == len(truth)


def test_open_candles_stay_out_of_the_mart(batch_env: str, query: Query) -> None:
    today = _today()
    # An interval that ends tomorrow: today's candle is still open when collected.
    jobs.candles_el_job("days", today - dt.timedelta(days=1), today + dt.timedelta(days=1), "open")
    assert {r[0] for r in query("SELECT DISTINCT candle_start FROM lake.candles")} == {
        today - dt.timedelta(days=1),
        today,
    }
    jobs.transform_job("candles_1d")
    assert {r[0] for r in query("SELECT DISTINCT candle_start FROM mart.candles_1d")} == {
        today - dt.timedelta(days=1)
    }


def test_candle_checks_fail_on_planted_rows_and_name_them(batch_env: str, query: Query, sim: Any) -> None:
    today = _today()
    start = today - dt.timedelta(days=1)
    summary = jobs.candles_el_job("days", start, today, "clean")
    markets = summary["markets"]
    for check in ("candles_prices", "candles_duplicates", "candles_row_counts"):
        jobs.candles_check_job(check, unit="days", interval_start=start, interval_end=today, markets=markets)

    query(
        """UPDATE lake.candles SET payload = payload || '{"high_price": 1, "candle_acc_trade_volume": -3}'
           WHERE market = 'KRW-ETH'"""
    )
    query(
        """UPDATE lake.candles SET payload = payload || '{"opening_price": null}'
           WHERE market = 'KRW-XRP'"""
    )
    query("""UPDATE lake.candles SET payload = payload || '{"market": "KRW-BTC"}' WHERE market = 'KRW-SOL'""")
    seq = {m: s for m, s in query("SELECT market, ingest_seq FROM lake.candles")}
    day = start.strftime("%Y-%m-%d %H:%M:%S+00")  # how PostgreSQL prints a UTC timestamptz

    with pytest.raises(DataQualityError) as prices:
        jobs.candles_check_job(
            "candles_prices", unit="days", interval_start=start, interval_end=today, markets=markets
        )
    assert prices.value.problems[0].startswith(
        f"candles/days KRW-ETH {day} (lake.candles ingest_seq {seq['KRW-ETH']}): "
        "candle_acc_trade_volume is -3, high 1 is below open/close/low"
    )
    assert prices.value.problems[1] == (
        f"candles/days KRW-XRP {day} (lake.candles ingest_seq {seq['KRW-XRP']}): opening_price is null"
    )
    assert len(prices.value.problems) == 2

    with pytest.raises(DataQualityError) as duplicates:
        jobs.candles_check_job(
            "candles_duplicates", unit="days", interval_start=start, interval_end=today, markets=markets
        )
    assert any(p.startswith("candles/days KRW-BTC ") and ": 2 rows" in p for p in duplicates.value.problems)
    assert any("KRW-SOL" in p and "payload names KRW-BTC" in p for p in duplicates.value.problems)

    with pytest.raises(DataQualityError) as counts:
        jobs.candles_check_job(
            "candles_row_counts",
            unit="days",
            interval_start=start,
            interval_end=today,
            markets=[*markets, "KRW-NEW"],
        )
    end = today.strftime("%Y-%m-%d %H:%M:%S+00")
    assert counts.value.problems == [f"candles/days KRW-NEW: no candle in [{day}, {end})"]
