"""Every 10 minutes: the listing and the ticker of every market (KRW, BTC, USDT) into the lake.

Rows are tagged with the run's data interval; a re-run of the interval is a no-op. Data-quality checks
run on the interval's rows, then `mart.markets` is refreshed and the `lake.ticker` Asset is updated
(which schedules `market_stats_24h`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import CronTriggerTimetable, dag, task

from cryptoflow_batch.dag_support import (
    LAKE_MARKETS,
    LAKE_TICKER,
    MART_MARKETS,
    START_DATE,
    TAGS,
    TICKER_CHECKS,
    default_args,
    fail_without_retry_on_bad_data,
    run_interval,
)


@dag(
    dag_id="upbit_ticker_el",
    schedule=CronTriggerTimetable("*/10 * * * *", timezone="UTC", interval=dt.timedelta(minutes=10)),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=TAGS,
    doc_md=__doc__,
)
def upbit_ticker_el() -> None:
    @task(outlets=[LAKE_MARKETS])
    def extract_load() -> dict[str, Any]:
        from cryptoflow_batch.jobs import ticker_el_job  # noqa: PLC0415  # not at parse time

        return ticker_el_job(*run_interval())

    @task
    def check(name: str) -> None:
        from cryptoflow_batch.jobs import ticker_check_job  # noqa: PLC0415

        start, _, _ = run_interval()
        with fail_without_retry_on_bad_data():
            ticker_check_job(name, start)

    @task(outlets=[LAKE_TICKER, MART_MARKETS])
    def refresh_markets() -> dict[str, Any]:
        from cryptoflow_batch.jobs import transform_job  # noqa: PLC0415

        return transform_job("markets")

    checks = [check.override(task_id=f"check_{name}")(name) for name in TICKER_CHECKS]
    extract_load() >> checks >> refresh_markets()


upbit_ticker_el_dag = upbit_ticker_el()
