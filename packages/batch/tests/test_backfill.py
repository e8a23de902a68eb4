"""Backfill (DAG and CLI) against the simulator's history, resuming, and the indicators it feeds."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from decimal import Decimal, localcontext
from typing import Any

import pytest

from cryptoflow_batch.backfill import BackfillRequest, MarketProgress, backfill
from cryptoflow_batch.cli import main
from cryptoflow_batch.settings import load_settings
from cryptoflow_upbit_client import UpbitRetriesExhausted

UTC = dt.UTC
pytestmark = pytest.mark.airflow
Query = Callable[..., list[tuple[Any, ...]]]
FMT = "%Y-%m-%dT%H:%M:%S"


def _sim_truth(sim: Any, endpoint: str, market: str, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """The simulator's candles in [start, end), asked for block by block (each block under 200 buckets)."""
    block = dt.timedelta(days=150) if endpoint == "candles/days" else dt.timedelta(hours=2)
    truth: dict[str, Any] = {}
    to = end
    while to > start:
        for candle in sim.get(f"/v1/{endpoint}", market=market, to=to.strftime(FMT), count="200"):
            bucket = dt.datetime.fromisoformat(candle["candle_date_time_utc"]).replace(tzinfo=UTC)
            if max(start, to - block) <= bucket < to:
                truth[candle["candle_date_time_utc"]] = candle
        to -= block
    return truth


def _lake(query: Query, endpoint: str, market: str) -> dict[str, Any]:
    from cryptoflow_contracts.decimals import loads_exact  # noqa: PLC0415

    rows = query(
        "SELECT payload::text FROM lake.candles WHERE endpoint = %s AND market = %s ORDER BY candle_start",
        (endpoint, market),
    )
    payloads = [loads_exact(text) for (text,) in rows]
    lake = {p["candle_date_time_utc"]: p for p in payloads}
    assert len(lake) == len(payloads), "duplicate candles in the lake"
    return lake


def _without_changes(candles: dict[str, Any]) -> dict[str, Any]:
    return {k: {f: v for f, v in c.items() if f != "unit"} for k, c in candles.items()}


def test_backfill_dag_stores_exactly_the_simulators_minute_candles(
    run_dag: Callable[..., Any], task_states: Callable[[Any], dict[str, str]], query: Query, sim: Any
) -> None:
    started = dt.datetime.now(UTC) - dt.timedelta(seconds=float(sim.admin("GET", "/stats")["uptime_s"]))
    end = started.replace(second=0, microsecond=0) - dt.timedelta(minutes=15)  # the settled past
    start = end - dt.timedelta(hours=6)
    conf = {"markets": ["KRW-ETH"], "from": start.isoformat(), "to": end.isoformat(), "unit": "minutes/1"}
    run = run_dag("upbit_candles_backfill", conf=conf)
    assert str(run.state) == "success", task_states(run)

    truth = _sim_truth(sim, "candles/minutes/1", "KRW-ETH", start, end)
    lake = _lake(query, "candles/minutes/1", "KRW-ETH")
    assert len(truth) > 200  # more than one page
    assert lake == truth
    ((pages, done),) = query("SELECT pages, done FROM cryptoflow_meta.backfill_progress")
    assert done is True
    assert pages >= 2
    mart = query("SELECT candle_start, trade_price FROM mart.candles_1m WHERE market = 'KRW-ETH' ORDER BY 1")
    assert [(r[0].strftime(FMT), r[1]) for r in mart] == [(k, truth[k]["trade_price"]) for k in sorted(truth)]

    before = sim.rest_statuses().get("200", 0)
    again = run_dag("upbit_candles_backfill", conf=conf)
    assert str(again.state) == "success", task_states(again)
    assert _lake(query, "candles/minutes/1", "KRW-ETH") == truth
    assert sim.rest_statuses().get("200", 0) == before  # complete: nothing fetched again


def test_backfill_resumes_after_a_failure_and_indicators_match(
    batch_env: str,
    query: Query,
    sim: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    today = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start, middle = today - dt.timedelta(days=420), today - dt.timedelta(days=100)
    markets = ["KRW-BTC", "BTC-ETH"]

    # First part, interrupted: the exchange starts failing right after the first stored page.
    monkeypatch.setenv("CRYPTOFLOW_BATCH_HTTP_MAX_RETRIES", "0")
    monkeypatch.setenv("CRYPTOFLOW_BATCH_CONCURRENCY", "1")
    request = BackfillRequest.build(unit="days", markets=markets, start=start, end=middle)

    def break_after_first_page(progress: MarketProgress) -> None:
        if progress.pages == 1 and not progress.done:
            sim.fault(status=500, count=1000)

    with pytest.raises(ExceptionGroup) as failed:
        asyncio.run(backfill(load_settings(), request, run_id="broken", on_progress=break_after_first_page))
    assert failed.group_contains(UpbitRetriesExhausted)
    saved = query("SELECT market, pages, done, next_to FROM cryptoflow_meta.backfill_progress ORDER BY 1")
    assert saved == [("KRW-BTC", 1, False, middle - dt.timedelta(days=200))]
    sim.clear_faults()

    # The same command again resumes (KRW-BTC from where it stopped), with a progress bar.
    monkeypatch.setenv("CRYPTOFLOW_BATCH_HTTP_MAX_RETRIES", "8")
    argv = ["backfill", "--markets", ",".join(markets), "--from", start.date().isoformat(), "--unit", "days"]
    assert main([*argv, "--to", middle.date().isoformat()]) == 0
    assert "backfill candles/days: 2 markets" in capsys.readouterr().out
    assert query("SELECT market, pages, done FROM cryptoflow_meta.backfill_progress ORDER BY 1") == [
        ("BTC-ETH", 2, True),
        ("KRW-BTC", 2, True),
    ]
    for market in markets:
        assert _lake(query, "candles/days", market) == _sim_truth(sim, "candles/days", market, start, middle)
    # Then the rest, so the indicators are updated incrementally on top of the first part.
    assert main([*argv[:-2], "--from", middle.date().isoformat(), "--to", today.date().isoformat()]) == 0
    for market in markets:
        truth = _sim_truth(sim, "candles/days", market, start, today)
        assert len(truth) == 420  # one candle per day, no gaps
        assert _without_changes(_lake(query, "candles/days", market)) == _without_changes(truth)

    _check_indicators(query, markets)


def _mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


def _wilder(values: list[Decimal], n: int) -> list[Decimal | None]:
    """Wilder's smoothing as TA-Lib seeds it: the mean of the first n values, then (avg * (n-1) + v) / n."""
    out: list[Decimal | None] = [None] * (n - 1)
    avg = _mean(values[:n])
    out.append(avg)
    for v in values[n:]:
        avg = (avg * (n - 1) + v) / n
        out.append(avg)
    return out


def _expected(candles: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """(close, ma_5, ma_20, ma_60, rsi_14, atr_14, avg_volume_30d, golden, dead) per day, by definition
    (TA-Lib's: Wilder's RSI and ATR; test_indicators_talib.py compares every indicator with TA-Lib)."""
    highs, lows, closes, volumes = ([c[k] for c in candles] for k in (1, 2, 3, 4))
    n = len(candles)
    ma = {
        w: [_mean(closes[i - w + 1 : i + 1]) if i >= w - 1 else None for i in range(n)] for w in (5, 20, 60)
    }
    moves = [closes[j] - closes[j - 1] for j in range(1, n)]
    gains = _wilder([max(m, Decimal(0)) for m in moves], 14)
    losses = _wilder([max(-m, Decimal(0)) for m in moves], 14)
    true_ranges = [
        max(highs[j] - lows[j], abs(highs[j] - closes[j - 1]), abs(lows[j] - closes[j - 1]))
        for j in range(1, n)
    ]
    atrs = [None, *_wilder(true_ranges, 14)]
    rows = []
    for i in range(n):
        rsi = atr = None
        if i >= 14:
            gain, loss = gains[i - 1], losses[i - 1]
            assert gain is not None
            assert loss is not None
            rsi = Decimal(0) if gain + loss == 0 else 100 * gain / (gain + loss)
            atr = atrs[i]
        volume = _mean(volumes[i - 29 : i + 1]) if i >= 29 else None
        golden = dead = False
        if i >= 20:
            golden = ma[5][i] > ma[20][i] and ma[5][i - 1] <= ma[20][i - 1]  # type: ignore[operator]
            dead = ma[5][i] < ma[20][i] and ma[5][i - 1] >= ma[20][i - 1]  # type: ignore[operator]
        rows.append((closes[i], ma[5][i], ma[20][i], ma[60][i], rsi, atr, volume, golden, dead))
    return rows


def _check_indicators(query: Query, markets: list[str]) -> None:
    """mart.indicators against a plain-Python computation over the same daily candles."""
    for market in markets:
        candles = query(
            "SELECT candle_start, high_price, low_price, trade_price, volume FROM mart.candles_1d"
            " WHERE market = %s ORDER BY candle_start",
            (market,),
        )
        got = query(
            "SELECT close, ma_5, ma_20, ma_60, rsi_14, atr_14, avg_volume_30d, golden_cross, dead_cross"
            " FROM mart.indicators WHERE market = %s ORDER BY day",
            (market,),
        )
        assert len(got) == len(candles) == 420
        with localcontext() as ctx:
            ctx.prec = 50
            expected = _expected(candles)
        for day, have, want in zip([c[0] for c in candles], got, expected, strict=True):
            assert have[7:] == want[7:], (market, day)
            for name, a, b in zip(
                ("close", "ma5", "ma20", "ma60", "rsi", "atr", "vol30"), have, want, strict=False
            ):
                if b is None:
                    assert a is None, (market, day, name)
                else:
                    assert abs(a - b) <= Decimal("1e-12") * max(Decimal(1), abs(b)), (market, day, name, a, b)
        # the random walk crosses at least once in 420 days, so the flags were exercised
        assert any(row[7] or row[8] for row in expected)
