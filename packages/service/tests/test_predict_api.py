"""`/api/predict/` over the real PostgreSQL: the registry and predictions tables as cryptoflow-batch's
migration creates them, a model row with the walk-forward figures of a real training run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from cryptoflow_ml import synthetic
from cryptoflow_ml.features import pooled_features
from cryptoflow_ml.training import HONESTY_NOTE, TrainingResult, train
from servicetest import plant

pytestmark = pytest.mark.django_db

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
YESTERDAY = TODAY - timedelta(days=1)
VERSION = "1d-test"


@pytest.fixture(scope="module")
def trained() -> TrainingResult:
    return train(pooled_features(synthetic.markets(4, periods=120, seed=5)), interval="1d")


def _register(result: TrainingResult, *, version: str = VERSION, interval: str = "1d") -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO mart.ml_models (version, interval, algorithm, train_start, train_end, data_start,
                   data_end, training_rows, markets, features, features_sha256, hyperparameters,
                   library_versions, metrics, baseline_metrics, candidate_metrics, beats_baselines,
                   best_baseline, note, artifact, artifact_sha256, created_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                   now())""",
            [
                version, interval, result.algorithm, YESTERDAY - timedelta(days=90),
                YESTERDAY - timedelta(days=1),
                YESTERDAY - timedelta(days=120), YESTERDAY, result.n_rows, ["KRW-BTC"],
                json.dumps(list(result.features)), result.features_sha256, json.dumps(result.hyperparameters),
                json.dumps(result.library_versions), json.dumps(result.metrics),
                json.dumps(result.baseline_metrics), json.dumps(result.candidates), result.beats_baselines,
                result.best_baseline, HONESTY_NOTE, result.artifact, result.artifact_sha256,
            ],
        )  # fmt: skip


def _predict(market: str, feature_time: datetime, p: float, *, version: str = VERSION) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO mart.predictions VALUES (%s, '1d', %s, %s, %s, now())",
            [market, feature_time, version, p],
        )


def test_the_current_models_prediction_with_its_honesty_figures(api: Any, trained: TrainingResult) -> None:
    _register(trained)
    _predict("KRW-BTC", YESTERDAY, 0.5123)
    _predict("KRW-BTC", YESTERDAY - timedelta(days=1), 0.9)  # older features: not the answer
    response = api.get("/api/predict/?market=krw-btc&interval=1d")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["market"] == "KRW-BTC"
    assert body["probability_up"] == 0.5123
    assert body["direction"] == "up"
    assert body["model_version"] == VERSION
    assert body["beats_baselines"] is trained.beats_baselines is False  # a random walk: no skill
    assert body["feature_time"] == int(YESTERDAY.timestamp() * 1000)
    assert body["predicts_close_of"] == int(TODAY.timestamp() * 1000)
    walk_forward = body["model"]["walk_forward"]
    assert walk_forward["model"] == trained.metrics["overall"]
    assert walk_forward["baselines"] == {k: v["overall"] for k, v in trained.baseline_metrics.items()}
    assert set(walk_forward["candidates"]) == {"logistic_regression", "lightgbm"}
    assert body["model"]["best_baseline"] == trained.best_baseline
    assert "random walk" in body["note"]
    assert api.get("/api/predict/?symbol=KRW-BTC").json() == body  # alias; 1d by default

    # A newer model is the current one: its prediction answers, not the older model's.
    _register(trained, version="1d-newer")
    _predict("KRW-BTC", YESTERDAY, 0.42, version="1d-newer")
    newer = api.get("/api/predict/?market=KRW-BTC").json()
    assert (newer["model_version"], newer["direction"], newer["probability_up"]) == (
        "1d-newer",
        "not_up",
        0.42,
    )


def test_unknown_market_is_404(api: Any, trained: TrainingResult) -> None:
    _register(trained)
    response = api.get("/api/predict/?market=KRW-NOPE")
    assert response.status_code == 404
    assert response.json()["detail"] == "Unknown market KRW-NOPE."


def test_no_model_no_prediction_or_stale_features_is_409(api: Any, trained: TrainingResult) -> None:
    plant.market("KRW-BTC")
    response = api.get("/api/predict/?market=KRW-BTC")
    assert response.status_code == 409
    assert "No 1d model is registered yet" in response.json()["detail"]

    _register(trained)
    response = api.get("/api/predict/?market=KRW-BTC")
    assert response.status_code == 409
    assert f"Model {VERSION} has no prediction for KRW-BTC" in response.json()["detail"]

    _predict("KRW-BTC", TODAY - timedelta(days=2), 0.6)  # predicted yesterday's close: that period is over
    response = api.get("/api/predict/?market=KRW-BTC")
    assert response.status_code == 409
    assert "older than one interval" in response.json()["detail"]
    assert api.get("/api/predict/?market=KRW-BTC&interval=1m").status_code == 409  # no 1m model


def test_bad_parameters_are_400(api: Any) -> None:
    assert api.get("/api/predict/").status_code == 400
    assert api.get("/api/predict/?market=nonsense").status_code == 400
    assert api.get("/api/predict/?market=KRW-BTC&symbol=KRW-ETH").status_code == 400
    assert api.get("/api/predict/?market=KRW-BTC&interval=1h").status_code == 400


def test_predict_is_in_the_openapi_schema(api: Any) -> None:
    schema = api.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/predict/"]["get"]
    assert operation["operationId"] == "predict"
    assert {p["name"] for p in operation["parameters"]} == {"market", "symbol", "interval"}
    assert set(operation["responses"]) == {"200", "400", "404", "409", "503"}
