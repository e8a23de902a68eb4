"""Manual: backfill candles of some markets over [from, to) by paging backwards with `to`/`count`.

Resumable (progress per market is kept in `cryptoflow_meta.backfill_progress`; run it again with the
same parameters to continue), rate-limited by the shared Upbit client, one log line per page. Also
available as `cryptoflow-batch backfill`. Day and minute candles then flow into their marts.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from cryptoflow_batch.dag_support import (
    BACKFILL_CHECKS,
    LAKE_CANDLES,
    MART_CANDLES_1D,
    START_DATE,
    TAGS,
    default_args,
    fail_without_retry_on_bad_data,
    run_params,
)

UNITS = ["days", "minutes/1", "minutes/3", "minutes/5", "minutes/10", "minutes/15", "minutes/30",
         "minutes/60", "minutes/240", "weeks", "months", "seconds"]  # fmt: skip


@dag(
    dag_id="upbit_candles_backfill",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    default_args=default_args(),
    tags=[*TAGS, "backfill"],
    doc_md=__doc__,
    params={
        "markets": Param(["KRW-BTC"], type="array", items={"type": "string"}, description="Market codes"),
        "from": Param("2026-01-01", type="string", description="Oldest bucket start (date or ISO 8601, UTC)"),
        "to": Param("2026-02-01", type="string", description="Exclusive end (date or ISO 8601, UTC)"),
        "unit": Param("days", type="string", enum=UNITS),
    },
)
def upbit_candles_backfill() -> None:
    @task
    def backfill() -> dict[str, Any]:
        from cryptoflow_batch.jobs import backfill_job  # noqa: PLC0415  # not at parse time

        params, run_id = run_params()
        return backfill_job(
            markets=params["markets"],
            start=params["from"],
            end=params["to"],
            unit=params["unit"],
            run_id=run_id,
        )

    @task
    def check(name: str) -> None:
        from cryptoflow_batch.backfill import parse_time  # noqa: PLC0415
        from cryptoflow_batch.jobs import candles_check_job  # noqa: PLC0415

        params, _ = run_params()
        with fail_without_retry_on_bad_data():
            candles_check_job(
                name,
                unit=params["unit"],
                interval_start=parse_time(params["from"]),
                interval_end=parse_time(params["to"]),
                markets=params["markets"],
            )

    @task(outlets=[LAKE_CANDLES, MART_CANDLES_1D])
    def to_marts() -> list[dict[str, Any]]:
        from cryptoflow_batch.jobs import transform_job  # noqa: PLC0415

        # Minute candles stay in the lake (the reference); mart.candles_1m is built from archived trades.
        return [transform_job("candles_1d")]

    checks = [check.override(task_id=f"check_{name}")(name) for name in BACKFILL_CHECKS]
    backfill() >> checks >> to_marts()


upbit_candles_backfill_dag = upbit_candles_backfill()
