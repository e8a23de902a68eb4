"""The gap DAG against real PostgreSQL and the simulator: a planted hole is found, repaired from REST and
recorded; a second run finds nothing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest

from cryptoflow_contracts.decimals import loads_exact

Query = Callable[..., list[tuple[Any, ...]]]
MARKETS = ("KRW-BTC", "KRW-ETH")
CANDLES = (
    "SELECT market, candle_start, opening_price, high_price, low_price, trade_price, volume, value,"
    " trade_count"
    " FROM mart.candles_1m ORDER BY 1, 2"
)


def _plant_archive(sim: Any, dsn: str) -> None:
    """Every trade the simulator generated for MARKETS, as the archiver would have stored them."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for market in MARKETS:
            url = f"{sim.process.admin_url}/trades"
            response = httpx.get(url, params={"market": market, "history": "true"})
            response.raise_for_status()
            trades = loads_exact(response.content)["trades"]
            times = [t["timestamp"] for t in trades]
            conn.execute("SELECT lake.ensure_trade_partitions(%s, %s)", (min(times), max(times)))
            with conn.cursor() as cur, cur.copy("COPY lake.trades FROM STDIN") as copy:
                for t in trades:
                    copy.write_row(
                        (market, t["timestamp"], t["sequential_id"], t["trade_price"], t["trade_volume"],
                         t["ask_bid"], t["timestamp"] + 5, "ws")
                    )  # fmt: skip
            minutes = sorted({ts - ts % 60_000 for ts in times})
            conn.execute(
                "SELECT mart.refresh_candles(%s::text[], %s::bigint[])", ([market] * len(minutes), minutes)
            )


@pytest.mark.airflow
def test_gap_dag_finds_exactly_the_planted_holes_and_repairs_them(
    run_dag: Callable[..., Any],
    task_states: Callable[[Any], dict[str, str]],
    query: Query,
    sim: Any,
    batch_dsn: str,
) -> None:
    sim.admin("POST", "/generator/pause")
    try:
        _plant_archive(sim, batch_dsn)
        truth = query(CANDLES)
        now_minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        # Holes: half the trades of two closed minutes of KRW-BTC and one of KRW-ETH (not a market's
        # first archived minute, which the check leaves alone as partial by nature).
        holes: dict[tuple[str, dt.datetime], int] = {}
        for market, picks in (("KRW-BTC", (2, 3)), ("KRW-ETH", (2,))):
            minutes = [r for r in truth if r[0] == market and r[1] < now_minute and r[8] >= 2]
            for i in picks:
                minute = minutes[i][1]
                ms = int(minute.timestamp() * 1000)
                deleted = query(
                    "DELETE FROM lake.trades WHERE (market, trade_timestamp, sequential_id) IN ("
                    " SELECT market, trade_timestamp, sequential_id FROM lake.trades WHERE market = %s"
                    " AND trade_timestamp >= %s AND trade_timestamp < %s ORDER BY sequential_id"
                    " LIMIT %s) RETURNING 1",
                    (market, ms, ms + 60_000, minutes[i][8] // 2),
                )
                query("SELECT mart.refresh_candles(%s::text[], %s::bigint[])", ([market], [ms]))
                holes[(market, minute)] = len(deleted)
        assert query(CANDLES) != truth

        run = run_dag("trade_gaps", logical_date=now_minute + dt.timedelta(minutes=1))
        assert str(run.state) == "success", task_states(run)
        repairs = query("SELECT market, minute, trades_added FROM cryptoflow_meta.trade_repairs")
        assert {(m, t): n for m, t, n in repairs} == holes
        assert query(CANDLES) == truth
        assert query("SELECT count(*) FROM lake.trades WHERE source = 'rest-repair'") == [
            (sum(holes.values()),)
        ]

        again = run_dag("trade_gaps", logical_date=now_minute + dt.timedelta(minutes=1, seconds=1))
        assert str(again.state) == "success", task_states(again)
        assert len(query("SELECT * FROM cryptoflow_meta.trade_repairs")) == len(holes)
    finally:
        sim.admin("POST", "/generator/resume")


def test_a_minute_that_cannot_be_repaired_fails_the_run_and_is_named(
    batch_env: str, query: Query, sim: Any, batch_dsn: str
) -> None:
    from cryptoflow_batch.gaps import UnrepairedGapsError, gap_job  # noqa: PLC0415

    sim.admin("POST", "/generator/pause")
    try:
        _plant_archive(sim, batch_dsn)
        # A trade the exchange never had: no REST trade can take it out again.
        ((minute,),) = query(
            "SELECT candle_start FROM mart.candles_1m WHERE market = 'KRW-BTC'"
            " AND candle_start < date_trunc('minute', now()) ORDER BY 1 OFFSET 2 LIMIT 1"
        )
        ms = int(minute.timestamp() * 1000)
        query("INSERT INTO lake.trades VALUES ('KRW-BTC', %s, 1, 1, 1000, 'BID', 0, 'ws')", (ms + 1,))
        query("SELECT mart.refresh_candles(%s::text[], %s::bigint[])", (["KRW-BTC"], [ms]))
        end = dt.datetime.now(dt.UTC)
        with pytest.raises(UnrepairedGapsError, match=re.escape(f"KRW-BTC {minute.isoformat()}")):
            gap_job(end - dt.timedelta(hours=1), end)
    finally:
        sim.admin("POST", "/generator/resume")
