"""What the DAG files share: Assets, start date, retry policy, the checks each DAG runs, and the two DAG
factories (the Asset-triggered transform DAG and the candle extract-load DAG).

Imported at DAG parse time, so it stays cheap: Airflow's SDK and the standard library only.
Reading an environment variable is the only outside input (no files, network or database).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow.sdk import DAG, Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

UTC = dt.UTC
START_DATE = dt.datetime(2026, 1, 1, tzinfo=UTC)
TAGS = ["cryptoflow", "upbit"]

LAKE_MARKETS = Asset(name="lake.markets", uri="cryptoflow://lake/markets")
LAKE_TICKER = Asset(name="lake.ticker", uri="cryptoflow://lake/ticker")
LAKE_CANDLES = Asset(name="lake.candles", uri="cryptoflow://lake/candles")
MART_MARKETS = Asset(name="mart.markets", uri="cryptoflow://mart/markets")
MART_MARKET_STATS_24H = Asset(name="mart.market_stats_24h", uri="cryptoflow://mart/market_stats_24h")
MART_CANDLES_1D = Asset(name="mart.candles_1d", uri="cryptoflow://mart/candles_1d")
MART_CANDLES_1M = Asset(name="mart.candles_1m", uri="cryptoflow://mart/candles_1m")
MART_INDICATORS = Asset(name="mart.indicators", uri="cryptoflow://mart/indicators")
MART_INDICATORS_1M = Asset(name="mart.indicators_1m", uri="cryptoflow://mart/indicators_1m")
ML_MODELS = Asset(name="mart.ml_models", uri="cryptoflow://mart/ml_models")
MART_PREDICTIONS = Asset(name="mart.predictions", uri="cryptoflow://mart/predictions")

# The SQL files under cryptoflow_batch/sql/checks each DAG runs as tasks.
TICKER_CHECKS = ("ticker_freshness", "ticker_prices", "ticker_duplicates", "ticker_row_counts")
CANDLE_CHECKS = ("candles_prices", "candles_duplicates", "candles_row_counts")
BACKFILL_CHECKS = ("candles_prices", "candles_duplicates")
MARKET_STATS_CHECKS = ("market_stats_prices", "market_stats_completeness")
INDICATOR_CHECKS = ("indicators_ranges",)
INDICATOR_1M_CHECKS = ("indicators_1m_ranges",)

RETRY_DELAY_ENV = "CRYPTOFLOW_BATCH_RETRY_DELAY_S"


def retry_delay() -> dt.timedelta:
    """First retry delay: ``$CRYPTOFLOW_BATCH_RETRY_DELAY_S`` seconds (default 30; tests use ~1)."""
    raw = os.environ.get(RETRY_DELAY_ENV, "30")
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{RETRY_DELAY_ENV}={raw!r} is not a number of seconds") from None
    return dt.timedelta(seconds=seconds)


def default_args(retries: int = 3) -> dict[str, Any]:
    """Retries with exponential backoff (Airflow adds jitter); Upbit hiccups heal within minutes."""
    return {
        "owner": "cryptoflow",
        "retries": retries,
        "retry_delay": retry_delay(),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": dt.timedelta(minutes=10),
    }


def run_interval() -> tuple[dt.datetime, dt.datetime, str]:
    """The running task's data interval and run id (call inside a task only)."""
    from airflow.sdk import get_current_context  # noqa: PLC0415  # only meaningful inside a task

    context = get_current_context()
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    run_id = context.get("run_id")
    if start is None or end is None or not run_id:
        raise RuntimeError(f"this task needs a data interval; run {run_id!r} has [{start}, {end})")
    from cryptoflow_batch.lake import plain_utc  # noqa: PLC0415  # not at parse time

    return plain_utc(start), plain_utc(end), run_id


def run_params() -> tuple[dict[str, Any], str]:
    """The running task's DAG-run params and run id (call inside a task only)."""
    from airflow.sdk import get_current_context  # noqa: PLC0415  # only meaningful inside a task

    context = get_current_context()
    return dict(context["params"]), context["run_id"]


@contextmanager
def fail_without_retry_on_bad_data() -> Iterator[None]:
    """Bad data does not get better by retrying: a failed check fails the task at once (no retries)."""
    from airflow.sdk.exceptions import AirflowFailException  # noqa: PLC0415

    from cryptoflow_batch.quality import DataQualityError  # noqa: PLC0415  # not at parse time

    try:
        yield
    except DataQualityError as exc:
        raise AirflowFailException(str(exc)) from exc


def asset_transform_dag(
    *,
    dag_id: str,
    schedule: Asset,
    transform: str,
    outlet: Asset,
    checks: tuple[str, ...],
    doc_md: str,
    cron: str | None = None,
) -> DAG:
    """A DAG that runs on every update of `schedule` (and on `cron` too, when given: for a table that
    writers outside Airflow update): the incremental SQL transform `transform` (outlet `outlet`), then
    each of `checks` over the rows that run produced."""
    timetable = (
        AssetOrTimeSchedule(assets=[schedule], timetable=CronTriggerTimetable(cron, timezone="UTC"))
        if cron
        else [schedule]
    )

    @dag(
        dag_id=dag_id,
        schedule=timetable,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=TAGS,
        doc_md=doc_md,
    )
    def build() -> None:
        @task(task_id="transform", outlets=[outlet])
        def run_transform() -> dict[str, Any]:
            from cryptoflow_batch.jobs import transform_job  # noqa: PLC0415  # not at parse time

            return transform_job(transform)

        @task
        def check(name: str, result: Any) -> None:  # result: transform's summary (an XComArg when wired)
            from cryptoflow_batch.jobs import batch_check_job  # noqa: PLC0415

            with fail_without_retry_on_bad_data():
                batch_check_job(name, result)

        result = run_transform()
        for name in checks:
            check.override(task_id=f"check_{name}")(name, result)

    return build()


def candles_dag(
    *,
    dag_id: str,
    unit: str,
    cron: str,
    interval: dt.timedelta,
    transform: str | None,
    mart: Asset | None,
    doc_md: str,
) -> DAG:
    """A DAG on `cron` that extract-loads the closed `unit` candles of its interval into `lake.candles`,
    runs the candle checks on them, then the transform `transform` into `mart` (none: the lake rows are
    the product)."""

    @dag(
        dag_id=dag_id,
        schedule=CronTriggerTimetable(cron, timezone="UTC", interval=interval),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=TAGS,
        doc_md=doc_md,
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
