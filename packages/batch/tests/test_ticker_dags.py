"""`upbit_ticker_el` and `market_stats_24h` run with dag.test() against PostgreSQL and the simulator."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from cryptoflow_batch import jobs
from cryptoflow_batch.quality import DataQualityError

UTC = dt.UTC
pytestmark = pytest.mark.airflow

Query = Callable[..., list[tuple[Any, ...]]]
LAKE_TABLES = ("lake.markets", "lake.ticker")
MART_STATS = (
    "SELECT market, quote, snapshot_at, trade_price, opening_price, high_price, low_price,"
    " prev_closing_price, change, signed_change_price, signed_change_rate, acc_trade_volume_24h,"
    " acc_trade_price_24h, trade_timestamp FROM mart.market_stats_24h ORDER BY market, snapshot_at"
)


def _interval_end() -> dt.datetime:
    """The last closed 10-minute boundary (tickers must be fresh when collected, so: now)."""
    now = dt.datetime.now(UTC)
    return now.replace(minute=now.minute - now.minute % 10, second=0, microsecond=0)


def _dump(query: Query, table: str) -> list[tuple[Any, ...]]:
    return query(f"SELECT * FROM {table} ORDER BY 1, 2, 3")  # noqa: S608 - the test's own table names


def _ms(ms: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=ms)


def test_ticker_el_twice_for_one_interval_gives_identical_tables(
    run_dag: Callable[..., Any], task_states: Callable[[Any], dict[str, str]], query: Query, sim: Any
) -> None:
    end = _interval_end()
    first = run_dag("upbit_ticker_el", logical_date=end)
    assert str(first.state) == "success", task_states(first)
    assert set(task_states(first).values()) == {"success"}
    start = end - dt.timedelta(minutes=10)

    listed = {m["market"] for m in sim.get("/v1/market/all")}
    rows = query("SELECT market, interval_start, interval_end, run_id FROM lake.ticker")
    assert {r[0] for r in rows} == listed
    assert len(rows) == sim.markets
    assert {(r[1], r[2], r[3]) for r in rows} == {(start, end, first.run_id)}
    assert {r[0] for r in query("SELECT market FROM lake.markets")} == listed
    lake = {table: _dump(query, table) for table in LAKE_TABLES}
    assert query("SELECT market, active FROM mart.markets ORDER BY 1") == [(m, True) for m in sorted(listed)]

    stats = run_dag("market_stats_24h")
    assert str(stats.state) == "success", task_states(stats)
    mart = query(MART_STATS)
    assert len(mart) == sim.markets

    again = run_dag("upbit_ticker_el", logical_date=end)
    assert str(again.state) == "success", task_states(again)
    assert again.run_id != first.run_id
    assert {table: _dump(query, table) for table in LAKE_TABLES} == lake
    stats_again = run_dag("market_stats_24h")
    assert str(stats_again.state) == "success"
    assert query(MART_STATS) == mart


def test_market_stats_match_an_independent_computation(batch_env: str, query: Query) -> None:
    end = _interval_end()
    for offset in (20, 10, 0):  # three snapshots per market, transformed in two batches
        interval_end = end - dt.timedelta(minutes=offset)
        jobs.ticker_el_job(interval_end - dt.timedelta(minutes=10), interval_end, f"test-{offset}")
        if offset == 10:
            jobs.transform_job("market_stats_24h")
    second = jobs.transform_job("market_stats_24h")
    assert second["hi"] > second["lo"] > 0  # the second batch read only the new rows

    expected: dict[tuple[str, dt.datetime], tuple[Any, ...]] = {}
    for (payload,) in query("SELECT payload::text FROM lake.ticker"):
        t = json.loads(payload, parse_float=Decimal, parse_int=Decimal)
        expected[(t["market"], _ms(int(t["timestamp"])))] = (
            t["market"],
            t["market"].split("-")[0],
            _ms(int(t["timestamp"])),
            t["trade_price"],
            t["opening_price"],
            t["high_price"],
            t["low_price"],
            t["prev_closing_price"],
            t["change"],
            t["signed_change_price"],
            t["signed_change_rate"],
            t["acc_trade_volume_24h"],
            t["acc_trade_price_24h"],
            _ms(int(t["trade_timestamp"])),
        )
    mart = query(MART_STATS)
    assert len(mart) == len(expected) >= 12
    for row in mart:
        assert row == expected[(row[0], row[2])]
        assert all(not isinstance(v, float) for v in row)


def test_ticker_checks_fail_on_planted_rows_and_name_them(batch_env: str, query: Query) -> None:
    end = _interval_end()
    start = end - dt.timedelta(minutes=10)
    jobs.ticker_el_job(start, end, "clean")
    for check in ("ticker_freshness", "ticker_prices", "ticker_duplicates", "ticker_row_counts"):
        jobs.ticker_check_job(check, start)  # clean data passes

    query(
        """INSERT INTO lake.ticker (endpoint, market, interval_start, interval_end, run_id, request,
                                    collected_at, payload)
           SELECT 'ticker', 'KRW-ZZZ', interval_start, interval_end, run_id, request, collected_at,
                  payload || '{"market": "KRW-ZZZ", "trade_price": 0, "low_price": null}'::jsonb
           FROM lake.ticker WHERE market = 'KRW-BTC'"""
    )
    query(
        """UPDATE lake.ticker SET payload = payload || '{"market": "KRW-BTC"}'::jsonb
           WHERE market = 'KRW-ETH'"""
    )
    seq = {m: s for m, s in query("SELECT market, ingest_seq FROM lake.ticker")}

    with pytest.raises(DataQualityError) as prices:
        jobs.ticker_check_job("ticker_prices", start)
    assert prices.value.problems == [
        f"KRW-ZZZ (lake.ticker ingest_seq {seq['KRW-ZZZ']}): low_price is null, trade_price is 0"
    ]
    assert "ticker_prices failed" in str(prices.value)

    with pytest.raises(DataQualityError) as duplicates:
        jobs.ticker_check_job("ticker_duplicates", start)
    message = str(duplicates.value)
    assert "KRW-BTC: 2 rows in the interval" in message
    assert f"KRW-ETH (lake.ticker ingest_seq {seq['KRW-ETH']}): payload names market KRW-BTC" in message

    with pytest.raises(DataQualityError) as counts:
        jobs.ticker_check_job("ticker_row_counts", start)
    assert counts.value.problems == [
        f"KRW-ZZZ: ticker collected but not listed (lake.ticker ingest_seq {seq['KRW-ZZZ']})"
    ]

    query("DELETE FROM lake.ticker WHERE market = 'KRW-XRP'")
    query("UPDATE lake.ticker SET collected_at = collected_at + interval '1 hour' WHERE market = 'KRW-SOL'")
    with pytest.raises(DataQualityError) as counts:
        jobs.ticker_check_job("ticker_row_counts", start)
    assert "KRW-XRP: listed but no ticker collected" in counts.value.problems
    with pytest.raises(DataQualityError) as stale:
        jobs.ticker_check_job("ticker_freshness", start)
    assert len(stale.value.problems) == 1
    assert stale.value.problems[0].startswith(f"KRW-SOL (lake.ticker ingest_seq {seq['KRW-SOL']}): snapshot ")

    # The mart checks see the planted price too once it is transformed.
    result = jobs.transform_job("market_stats_24h")
    with pytest.raises(DataQualityError, match=r"mart.market_stats_24h KRW-ZZZ @ .*trade_price is 0"):
        jobs.batch_check_job("market_stats_prices", result)
    jobs.batch_check_job("market_stats_completeness", result)


def test_a_failed_check_fails_the_dag_run(
    run_dag: Callable[..., Any], task_states: Callable[[Any], dict[str, str]], query: Query
) -> None:
    end = _interval_end()
    start = end - dt.timedelta(minutes=10)
    query("SELECT lake.ensure_month_partitions('lake.ticker', %s, %s)", (start, start))
    query(
        """INSERT INTO lake.ticker (endpoint, market, interval_start, interval_end, run_id, request,
                                    collected_at, payload)
           VALUES ('ticker', 'KRW-ZZZ', %s, %s, 'planted', 'test', now(),
                   '{"market": "KRW-ZZZ", "trade_price": -1, "timestamp": 0}')""",
        (start, end),
    )
    run = run_dag("upbit_ticker_el", logical_date=end)
    states = task_states(run)
    assert str(run.state) == "failed"
    assert states["extract_load"] == "success"
    assert states["check_ticker_prices"] == "failed"
    assert states["check_ticker_row_counts"] == "failed"
    assert states["check_ticker_freshness"] == "failed"
    assert states["check_ticker_duplicates"] == "success"
    assert states["refresh_markets"] == "upstream_failed"
