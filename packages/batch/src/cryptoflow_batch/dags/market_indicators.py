"""On every `mart.candles_1d` update: MA 5/20/60, RSI 14, ATR 14, 30-day average volume and golden/dead
cross flags per market per UTC day -> `mart.indicators` (SQL window functions, incremental)."""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from cryptoflow_batch.dag_support import (
    INDICATOR_CHECKS,
    MART_CANDLES_1D,
    MART_INDICATORS,
    START_DATE,
    TAGS,
    default_args,
    fail_without_retry_on_bad_data,
)


@dag(
    dag_id="market_indicators",
    schedule=[MART_CANDLES_1D],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=TAGS,
    doc_md=__doc__,
)
def market_indicators() -> None:
    @task(outlets=[MART_INDICATORS])
    def transform() -> dict[str, Any]:
        from cryptoflow_batch.jobs import transform_job  # noqa: PLC0415  # not at parse time

        return transform_job("indicators")

    @task
    def check(name: str, result: Any) -> None:  # result: transform's summary (an XComArg when wired)
        from cryptoflow_batch.jobs import batch_check_job  # noqa: PLC0415

        with fail_without_retry_on_bad_data():
            batch_check_job(name, result)

    result = transform()
    for name in INDICATOR_CHECKS:
        check.override(task_id=f"check_{name}")(name, result)


market_indicators_dag = market_indicators()
