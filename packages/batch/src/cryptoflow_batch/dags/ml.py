"""The next-close direction model (cryptoflow-ml).

- `ml_train`: on every `mart.indicators` update (once a day, after the daily candles; and after a
  backfill): for 1d and 1m, walk-forward validate logistic regression and LightGBM against the naive
  baselines, register the better one in `mart.ml_models` (with `beats_baselines`) and score every market
  into `mart.predictions`. An interval with too little history is skipped (nothing registered).
- `ml_score`: on every `mart.indicators_1m` update: the current 1m model's predictions for the newest
  closed minute of every market.

On the simulator prices are a random walk: expect `beats_baselines = false`.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from cryptoflow_batch.dag_support import (
    MART_INDICATORS,
    MART_INDICATORS_1M,
    MART_PREDICTIONS,
    ML_MODELS,
    START_DATE,
    TAGS,
    default_args,
)


def _skip_if_skipped(result: dict[str, Any]) -> dict[str, Any]:
    if "skipped" in result:
        from airflow.sdk.exceptions import AirflowSkipException  # noqa: PLC0415

        raise AirflowSkipException(result["skipped"])
    return result


@dag(
    dag_id="ml_train",
    schedule=[MART_INDICATORS],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=1),
    tags=[*TAGS, "ml"],
    doc_md=__doc__,
)
def ml_train() -> None:
    @task(outlets=[ML_MODELS, MART_PREDICTIONS])
    def train(interval: str) -> dict[str, Any]:
        from cryptoflow_batch.jobs import ml_train_job  # noqa: PLC0415  # not at parse time

        return _skip_if_skipped(ml_train_job(interval))

    train.override(task_id="train_1d")("1d")
    train.override(task_id="train_1m")("1m")


@dag(
    dag_id="ml_score",
    schedule=[MART_INDICATORS_1M],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=1),
    tags=[*TAGS, "ml"],
    doc_md=__doc__,
)
def ml_score() -> None:
    @task(outlets=[MART_PREDICTIONS])
    def score_1m() -> dict[str, Any]:
        from cryptoflow_batch.jobs import ml_score_job  # noqa: PLC0415  # not at parse time

        return _skip_if_skipped(ml_score_job("1m"))

    score_1m()


ml_train_dag = ml_train()
ml_score_dag = ml_score()
