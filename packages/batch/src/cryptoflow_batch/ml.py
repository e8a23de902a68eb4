"""The next-close direction model against the marts: read the candle and indicator marts, train and
validate with `cryptoflow-ml`, register the model in `mart.ml_models`, score every market into
`mart.predictions`.

Features come from the indicator marts (never a second indicator implementation); see cryptoflow-ml.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from cryptoflow_batch.db import connect
from cryptoflow_batch.sql import load_sql
from cryptoflow_ml.features import (
    FEATURES,
    INPUT_COLUMNS,
    FeatureFrame,
    MarketSeries,
    features_sha256,
    interval_ms,
    pooled_features,
)
from cryptoflow_ml.models import Classifier, load_model
from cryptoflow_ml.training import HONESTY_NOTE, TrainingResult, latest_predictions, train

log = logging.getLogger(__name__)
UTC = dt.UTC
INTERVALS = ("1d", "1m")
# How much history a model trains on, and how much scoring reads (30-period returns need 31 closes).
TRAIN_HISTORY = {"1d": dt.timedelta(days=730), "1m": dt.timedelta(days=3)}
SCORE_PERIODS = 64


class NoModel(LookupError):
    """No model is registered for the interval yet."""


def _epoch_ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def _from_ms(ms: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=ms)


def load_series(
    conn: psycopg.Connection, interval: str, *, since: dt.datetime, closed_before: dt.datetime
) -> list[MarketSeries]:
    """Every market's closed candles of `interval` from `since` with their indicator columns."""
    interval_ms(interval)  # validates the name
    if interval == "1m":
        exists = conn.execute("SELECT to_regclass('mart.indicators_1m') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return []
    rows = conn.execute(
        load_sql(f"ml/series_{interval}"), {"since": since, "closed_before": closed_before}
    ).fetchall()
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    series = []
    for market, market_rows in grouped.items():
        table = np.array([r[2:] for r in market_rows], dtype=np.float64)  # NULL -> nan
        columns = {name: table[:, i] for i, name in enumerate(INPUT_COLUMNS)}
        starts = np.array([r[1] for r in market_rows], dtype=np.int64)
        series.append(MarketSeries(market, interval, starts, columns))
    return series


def _frame(conn: psycopg.Connection, interval: str, since: dt.datetime, now: dt.datetime) -> FeatureFrame:
    series = load_series(conn, interval, since=since, closed_before=now)
    return pooled_features(series, closed_before_ms=_epoch_ms(now))


def _write_predictions(
    conn: psycopg.Connection, interval: str, version: str, model: Classifier, frame: FeatureFrame
) -> int:
    created_at = dt.datetime.now(UTC)
    predictions = latest_predictions(model, frame)
    with conn.cursor() as cursor:
        cursor.executemany(
            load_sql("ml/upsert_prediction"),
            [
                {
                    "market": p.market,
                    "interval": interval,
                    "feature_time": _from_ms(p.feature_time_ms),
                    "model_version": version,
                    "probability_up": p.probability_up,
                    "created_at": created_at,
                }
                for p in predictions
            ],
        )
    return len(predictions)


def _register(conn: psycopg.Connection, result: TrainingResult, frame: FeatureFrame, now: dt.datetime) -> str:
    version = f"{result.interval}-{now:%Y%m%dT%H%M%S}Z-{result.artifact_sha256[:8]}"
    conn.execute(
        load_sql("ml/insert_model"),
        {
            "version": version,
            "interval": result.interval,
            "algorithm": result.algorithm,
            "train_start": _from_ms(result.train_start_ms),
            "train_end": _from_ms(result.train_end_ms),
            "data_start": _from_ms(int(frame.time_ms.min())),
            "data_end": _from_ms(int(frame.time_ms.max())),
            "training_rows": result.n_rows,
            "markets": result.markets,
            "features": Jsonb(list(result.features)),
            "features_sha256": result.features_sha256,
            "hyperparameters": Jsonb(result.hyperparameters),
            "library_versions": Jsonb(result.library_versions),
            "metrics": Jsonb(result.metrics),
            "baseline_metrics": Jsonb(result.baseline_metrics),
            "candidate_metrics": Jsonb(result.candidates),
            "beats_baselines": result.beats_baselines,
            "best_baseline": result.best_baseline,
            "note": HONESTY_NOTE,
            "artifact": result.artifact,
            "artifact_sha256": result.artifact_sha256,
            "created_at": now,
        },
    )
    return version


def train_and_register(
    dsn: str,
    interval: str,
    *,
    now: dt.datetime | None = None,
    on_step: Callable[[str], None] | None = None,
) -> tuple[TrainingResult, dict[str, Any]]:
    """Train on the interval's history, register the model, score every market. Raises
    `cryptoflow_ml.validation.NotEnoughData` (nothing registered) when the history is too short."""
    now = now or dt.datetime.now(UTC)
    step = on_step or (lambda _: None)
    with connect(dsn) as conn:
        step(f"read {interval} candles and indicators")
        frame = _frame(conn, interval, now - TRAIN_HISTORY[interval], now)
        result = train(frame, interval=interval, on_step=step)
        step("register and score")
        version = _register(conn, result, frame, now)
        scored = _write_predictions(conn, interval, version, result.model, frame)
        conn.commit()
    summary = {
        "interval": interval,
        "version": version,
        "algorithm": result.algorithm,
        "training_rows": result.n_rows,
        "markets": len(result.markets),
        "beats_baselines": result.beats_baselines,
        "log_loss": result.metrics["overall"]["log_loss"],
        "best_baseline_log_loss": result.baseline_metrics[result.best_baseline]["overall"]["log_loss"],
        "scored": scored,
    }
    log.info("registered %s", summary)
    return result, summary


def score(dsn: str, interval: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Predictions of the current model for every market's newest closed candle. Raises `NoModel`."""
    now = now or dt.datetime.now(UTC)
    with connect(dsn) as conn:
        row = conn.execute(load_sql("ml/current_model"), {"interval": interval}).fetchone()
        if row is None:
            raise NoModel(f"no {interval} model is registered yet; run `cryptoflow-batch train`")
        version, sha_features, versions, artifact, sha256 = row
        if sha_features != features_sha256(FEATURES):
            raise NoModel(f"model {version} was trained on other features; train a new one")
        model = load_model(bytes(artifact), sha256=sha256, versions=versions)
        since = now - SCORE_PERIODS * dt.timedelta(milliseconds=interval_ms(interval))
        frame = _frame(conn, interval, since, now)
        scored = _write_predictions(conn, interval, version, model, frame)
        conn.commit()
    return {"interval": interval, "version": version, "scored": scored}
