"""Reads of the ML registry and predictions: the current model of an interval and its newest prediction
for a market. The service predicts from these stored rows (scored by cryptoflow-batch); it never loads a
model itself.

Answers are plain JSON types (rendered by orjson, like the live endpoints). A registry row never changes
once written, so each model's part of the answer is built once per process (`_model_part`, keyed by its
id) and a request costs two small indexed reads.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptoflow_service.common.timeutils import iso, to_ms
from cryptoflow_service.prediction.models import MlModel, Prediction

INTERVALS = {"1d": timedelta(days=1), "1m": timedelta(minutes=1)}


@dataclass(frozen=True)
class Current:
    model_id: int
    version: str


@dataclass(frozen=True)
class Stored:
    feature_time: datetime
    probability_up: float


def current_model(*, interval: str) -> Current | None:
    row = (
        MlModel.objects.filter(interval=interval)
        .order_by("-created_at", "-model_id")
        .values_list("model_id", "version")
        .first()
    )
    return Current(*row) if row else None


def latest_prediction(*, market: str, interval: str, version: str) -> Stored | None:
    row = (
        Prediction.objects.filter(market=market, interval=interval, model_version=version)
        .order_by("-feature_time")
        .values_list("feature_time", "probability_up")
        .first()
    )
    return Stored(*row) if row else None


def is_stale(*, feature_time: datetime, interval: str, now: datetime) -> bool:
    """Features are older than one interval once the period they predict has itself closed: a 1d
    prediction from yesterday's candle is about today's close, and is stale from tomorrow 00:00 UTC on."""
    return now - (feature_time + INTERVALS[interval]) >= INTERVALS[interval]


@functools.lru_cache(maxsize=32)
def _model_part(model_id: int) -> dict[str, Any]:
    model = MlModel.objects.get(model_id=model_id)
    return {
        "version": model.version,
        "algorithm": model.algorithm,
        "created_at": to_ms(model.created_at),
        "created_at_iso": iso(model.created_at),
        "train_start": to_ms(model.train_start),
        "train_end": to_ms(model.train_end),
        "training_rows": model.training_rows,
        "beats_baselines": model.beats_baselines,
        "best_baseline": model.best_baseline,
        "walk_forward": {
            "model": model.metrics["overall"],
            "baselines": {name: b["overall"] for name, b in model.baseline_metrics.items()},
            "candidates": model.candidate_metrics,
        },
        "note": model.note,
    }


def answer(*, market: str, interval: str, current: Current, stored: Stored) -> dict[str, Any]:
    """The `/api/predict/` body (shape: `serializers.PredictAnswer`)."""
    part = dict(_model_part(current.model_id))
    note = part.pop("note")
    return {
        "market": market,
        "interval": interval,
        "probability_up": stored.probability_up,
        "direction": "up" if stored.probability_up > 0.5 else "not_up",
        "beats_baselines": part["beats_baselines"],
        "feature_time": to_ms(stored.feature_time),
        "feature_time_iso": iso(stored.feature_time),
        "predicts_close_of": to_ms(stored.feature_time + INTERVALS[interval]),
        "model_version": current.version,
        "model": part,
        "note": note,
    }
