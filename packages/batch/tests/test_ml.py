"""The ML DAGs and CLI against PostgreSQL: `ml_train` (dag.test()) registers a model with its walk-forward
metrics and baselines and scores every market; `ml_score` and `cryptoflow-batch train/score`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from cryptoflow_batch import cli, jobs
from cryptoflow_ml import synthetic
from cryptoflow_ml.features import FEATURES, features_sha256

UTC = dt.UTC
Query = Callable[..., list[tuple[Any, ...]]]
DAYS = 120
MARKETS = ("KRW-BTC", "KRW-ETH", "BTC-XRP", "USDT-SOL")


def _plant(dsn: str, days: int = DAYS) -> dt.datetime:
    """`days` closed daily candles up to yesterday and their indicator rows, as the marts hold them (the
    indicator values are noise: this test is about the plumbing, not about skill)."""
    today = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - dt.timedelta(days=days)
    with psycopg.connect(dsn) as conn:
        for n, market in enumerate(MARKETS):
            s = synthetic.series(market, periods=days, seed=n)
            for i in range(days):
                start = first + dt.timedelta(days=i)
                close = f"{s.columns['close'][i]:.8f}"
                conn.execute(
                    """INSERT INTO mart.candles_1d VALUES
                       (%s, %s, %s, %s, %s, %s, 1, 1, %s, now())""",
                    (market, start, close, close, close, close, start),
                )
                values = {k: f"{s.columns[k][i]:.8f}" for k in ("ma_5", "ma_20", "ma_60", "rsi_14", "macd",
                          "macd_signal", "bb_percent_b", "atr_14", "volume_zscore_30d")}  # fmt: skip
                conn.execute(
                    """INSERT INTO mart.indicators (market, day, close, ma_5, ma_20, ma_60, rsi_14, macd,
                           macd_signal, bb_percent_b, atr_14, volume_zscore_30d, updated_at)
                       VALUES (%(market)s, %(day)s, %(close)s, %(ma_5)s, %(ma_20)s, %(ma_60)s, %(rsi_14)s,
                           %(macd)s, %(macd_signal)s, %(bb_percent_b)s, %(atr_14)s, %(volume_zscore_30d)s,
                           now())""",
                    {"market": market, "day": start.date(), "close": close, **values},
                )
    return today - dt.timedelta(days=1)


@pytest.mark.airflow
def test_ml_train_dag_registers_a_validated_model_and_scores_every_market(
    run_dag: Callable[..., Any], task_states: Callable[[Any], dict[str, str]], batch_env: str, query: Query
) -> None:
    yesterday = _plant(batch_env)
    run = run_dag("ml_train")
    assert str(run.state) == "success", task_states(run)
    assert task_states(run) == {"train_1d": "success", "train_1m": "skipped"}  # no 1-minute indicators
    models = query(
        """SELECT version, interval, algorithm, features, features_sha256, training_rows, markets, metrics,
                  baseline_metrics, candidate_metrics, beats_baselines, best_baseline, library_versions,
                  hyperparameters, length(artifact), artifact_sha256 = encode(sha256(artifact), 'hex'),
                  train_start, train_end, data_end, note
           FROM mart.ml_models"""
    )
    assert len(models) == 1
    (version, interval, algorithm, features, sha, rows, markets, metrics, baselines, candidates, beats,
     best, versions, params, size, sha_ok, train_start, train_end, data_end, note) = models[0]  # fmt: skip
    assert interval == "1d"
    assert algorithm in {"logistic_regression", "lightgbm"}
    assert features == list(FEATURES)
    assert sha == features_sha256()
    assert sorted(markets) == sorted(MARKETS)
    assert rows == len(MARKETS) * (DAYS - 31)  # 30-period returns; the newest row has no target yet
    assert set(metrics["overall"]) >= {"accuracy", "log_loss", "brier", "roc_auc"}
    assert len(metrics["folds"]) == 5
    assert set(baselines) == {"always_up", "last_direction", "base_rate"}
    assert all(len(b["folds"]) == 5 for b in baselines.values())
    assert set(candidates) == {"logistic_regression", "lightgbm"}
    assert beats is (metrics["overall"]["log_loss"] < baselines[best]["overall"]["log_loss"])
    assert not beats  # noise features on random walks: no skill, and the registry says so
    assert {"scikit-learn", "lightgbm", "numpy"} <= set(versions)
    assert params["gap_periods"] == 1
    assert size > 0
    assert sha_ok
    assert train_end == yesterday - dt.timedelta(days=1)
    assert train_start < train_end
    assert data_end == yesterday
    assert "random walk" in note
    predictions = query(
        "SELECT market, interval, feature_time, model_version, probability_up FROM mart.predictions"
    )
    assert sorted(p[0] for p in predictions) == sorted(MARKETS)
    assert all(p[1:4] == ("1d", yesterday, version) and 0 < p[4] < 1 for p in predictions)

    # Scoring again with the registered artifact reproduces the training run's predictions exactly.
    assert jobs.ml_score_job("1d")["scored"] == len(MARKETS)
    again = query(
        "SELECT market, interval, feature_time, model_version, probability_up FROM mart.predictions"
    )
    assert again == predictions


def test_cli_train_and_score(batch_env: str, query: Query, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["score"]) == 2
    assert "no 1d model is registered" in capsys.readouterr().err
    _plant(batch_env, days=36)  # 5 labelled days after the 30-period warm-up: too few for 5 folds
    assert cli.main(["train", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "not enough 1d history" in err
    query("TRUNCATE mart.candles_1d, mart.indicators")
    _plant(batch_env)
    assert cli.main(["train"]) == 0
    out = capsys.readouterr().out
    for name in ("model logistic_regression", "model lightgbm", "baseline always_up",
                 "baseline last_direction", "baseline base_rate", "beats_baselines=false"):  # fmt: skip
        assert name in out
    assert query("SELECT count(*) FROM mart.ml_models")[0][0] == 1
    assert cli.main(["score"]) == 0
    assert query("SELECT count(*) FROM mart.predictions")[0][0] == len(MARKETS)
