"""On every `lake.ticker` update: new ticker rows -> `mart.market_stats_24h` (SQL upsert in PostgreSQL).

Incremental: only lake rows past the transform's watermark are read, so the cost follows the new rows.
Checks then verify the rows this run produced.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from cryptoflow_batch.dag_support import (
    LAKE_TICKER,
    MARKET_STATS_CHECKS,
    MART_MARKET_STATS_24H,
    START_DATE,
    TAGS,
    default_args,
    fail_without_retry_on_bad_data,
)


@dag(
    dag_id="market_stats_24h",
    schedule=[LAKE_TICKER],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=TAGS,
    doc_md=__doc__,
)
def market_stats_24h() -> None:
    @task(outlets=[MART_MARKET_STATS_24H])
    def transform() -> dict[str, Any]:
        from cryptoflow_batch.jobs import transform_job  # noqa: PLC0415  # not at parse time

        return transform_job("market_stats_24h")

    @task
    def check(name: str, result: Any) -> None:  # result: transform's summary (an XComArg when wired)
        from cryptoflow_batch.jobs import batch_check_job  # noqa: PLC0415

        with fail_without_retry_on_bad_data():
            batch_check_job(name, result)

    result = transform()
    for name in MARKET_STATS_CHECKS:
        check.override(task_id=f"check_{name}")(name, result)


market_stats_24h_dag = market_stats_24h()
