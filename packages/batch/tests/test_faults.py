"""The simulator answering 429 or 5xx for a while: the EL task retries (client, then Airflow), completes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

UTC = dt.UTC
pytestmark = pytest.mark.airflow


@pytest.mark.parametrize("status", [429, 503])
def test_ticker_el_rides_out_an_outage(
    status: int,
    run_dag: Callable[..., Any],
    query: Callable[..., list[tuple[Any, ...]]],
    sim: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One client retry per task try: the first try meets two bad answers and fails; Airflow retries the task,
    # whose client then rides out the third bad answer.
    monkeypatch.setenv("CRYPTOFLOW_BATCH_HTTP_MAX_RETRIES", "1")
    now = dt.datetime.now(UTC)
    end = now.replace(minute=now.minute - now.minute % 10, second=0, microsecond=0)
    before = sim.rest_statuses().get(str(status), 0)
    sim.fault(status=status, count=3)
    run = run_dag("upbit_ticker_el", logical_date=end)

    from airflow.models.taskinstancehistory import TaskInstanceHistory  # noqa: PLC0415
    from airflow.utils.session import create_session  # noqa: PLC0415

    with create_session() as session:
        states = {ti.task_id: str(ti.state) for ti in run.get_task_instances(session=session)}
        earlier = (
            session.query(TaskInstanceHistory)
            .filter_by(dag_id="upbit_ticker_el", run_id=run.run_id, task_id="extract_load")
            .all()
        )
        earlier_states = [str(ti.state) for ti in earlier]
    assert str(run.state) == "success", states
    assert set(states.values()) == {"success"}
    assert earlier_states == ["failed"]  # one failed try, then an Airflow retry won
    assert sim.rest_statuses().get(str(status), 0) - before == 3
    listed = {m["market"] for m in sim.get("/v1/market/all")}
    assert {m for (m,) in query("SELECT market FROM lake.ticker")} == listed  # nothing missing
    assert {m for (m,) in query("SELECT market FROM lake.markets")} == listed


def test_candles_el_absorbs_short_429_bursts_in_the_client(
    batch_env: str, query: Callable[..., list[tuple[Any, ...]]], sim: Any
) -> None:
    from cryptoflow_batch import jobs  # noqa: PLC0415

    today = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    sim.fault(status=429, count=3)
    summary = jobs.candles_el_job("days", today - dt.timedelta(days=1), today, "burst")
    assert summary["stored"] == len(summary["markets"]) == sim.markets
    assert query("SELECT count(*) FROM lake.candles")[0][0] == sim.markets
