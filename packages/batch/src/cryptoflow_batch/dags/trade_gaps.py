"""Hourly: the archive's gap check and repair for the previous hour (see `cryptoflow_batch.gaps`).

Per market and closed minute, the archive's candle (from `lake.trades`) against the exchange's REST minute
candle; a differing minute's trades are fetched from `/v1/trades/ticks`, archived (`rest-repair`), the
candle rebuilt and the repair recorded in `cryptoflow_meta.trade_repairs`. A minute that cannot be
repaired fails the run and is named in the error. Re-running an hour finds nothing new.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import CronTriggerTimetable, dag, task

from cryptoflow_batch.dag_support import MART_CANDLES_1M, START_DATE, TAGS, default_args, run_interval


@dag(
    dag_id="trade_gaps",
    schedule=CronTriggerTimetable("5 * * * *", timezone="UTC", interval=dt.timedelta(hours=1)),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=1),
    tags=TAGS,
    doc_md=__doc__,
)
def trade_gaps() -> None:
    @task(outlets=[MART_CANDLES_1M])
    def check_and_repair() -> dict[str, Any]:
        from cryptoflow_batch.gaps import gap_job  # noqa: PLC0415  # not at parse time

        start, end, _ = run_interval()
        return gap_job(start, end)

    check_and_repair()


trade_gaps_dag = trade_gaps()
