"""Candles into the lake and the candle marts.

- `upbit_candles_el`: daily, once the UTC day has closed (plus a short settle), the day candle of every
  listed market (or `CRYPTOFLOW_BATCH_DAILY_CANDLE_MARKETS`) -> `mart.candles_1d`.
- `upbit_candles_1m_el`: every 10 minutes, the closed minute candles of
  `CRYPTOFLOW_BATCH_MINUTE_CANDLE_MARKETS` -> `lake.candles` only: the exchange's reference. The mart
  `mart.candles_1m` is built from archived trades for every market (cryptoflow-archive).

Candles are upserted: a candle fetched again replaces the stored one, never adds a second. Checks run on
the interval's lake rows before the mart is updated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, Asset, CronTriggerTimetable, dag, task

from cryptoflow_batch.dag_support import (
    CANDLE_CHECKS,
    LAKE_CANDLES,
    MART_CANDLES_1D,
    START_DATE,
    TAGS,
    default_args,
    fail_without_retry_on_bad_data,
    run_interval,
)


def candles_dag(
    *, dag_id: str, unit: str, cron: str, interval: dt.timedelta, transform: str | None, mart: Asset | None
) -> DAG:
    @dag(
        dag_id=dag_id,
        schedule=CronTriggerTimetable(cron, timezone="UTC", interval=interval),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=TAGS,
        doc_md=__doc__,
    )
    def candles() -> None:
        @task
        def extract_load() -> dict[str, Any]:
            from cryptoflow_batch.jobs import candles_el_job  # noqa: PLC0415  # not at parse time

            return candles_el_job(unit, *run_interval())

        @task
        def check(name: str, loaded: Any) -> None:  # loaded: extract_load's summary (an XComArg when wired)
            from cryptoflow_batch.jobs import candles_check_job  # noqa: PLC0415

            start, end, _ = run_interval()
            with fail_without_retry_on_bad_data():
                candles_check_job(
                    name, unit=unit, interval_start=start, interval_end=end, markets=loaded["markets"]
                )

        @task(outlets=[LAKE_CANDLES] if mart is None else [LAKE_CANDLES, mart])
        def to_mart() -> dict[str, Any] | None:
            from cryptoflow_batch.jobs import transform_job  # noqa: PLC0415

            # Without a transform the checked lake rows are the product (the exchange's reference).
            return None if transform is None else transform_job(transform)

        loaded = extract_load()
        checks = [check.override(task_id=f"check_{name}")(name, loaded) for name in CANDLE_CHECKS]
        checks >> to_mart()

    return candles()


upbit_candles_el_dag = candles_dag(
    dag_id="upbit_candles_el",
    unit="days",
    cron="0 0 * * *",
    interval=dt.timedelta(days=1),
    transform="candles_1d",
    mart=MART_CANDLES_1D,
)
upbit_candles_1m_el_dag = candles_dag(
    dag_id="upbit_candles_1m_el",
    unit="minutes/1",
    cron="*/10 * * * *",
    interval=dt.timedelta(minutes=10),
    transform=None,
    mart=None,
)
