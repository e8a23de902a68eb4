"""Reads of the ML registry and predictions: the current model of an interval and its newest prediction
for a market. The service predicts from these stored rows (scored by cryptoflow-batch); it never loads a
model itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptoflow_service.prediction.models import MlModel, Prediction

INTERVALS = {"1d": timedelta(days=1), "1m": timedelta(minutes=1)}


@dataclass(frozen=True)
class Answer:
    model: MlModel | None
    prediction: Prediction | None


def current_model(*, interval: str) -> MlModel | None:
    return MlModel.objects.filter(interval=interval).order_by("-created_at", "-model_id").first()


def latest_prediction(*, market: str, interval: str) -> Answer:
    """The current model and its newest prediction for `market` (either may be None)."""
    model = current_model(interval=interval)
    if model is None:
        return Answer(None, None)
    prediction = (
        Prediction.objects.filter(market=market, interval=interval, model_version=model.version)
        .order_by("-feature_time")
        .first()
    )
    return Answer(model, prediction)


def is_stale(*, feature_time: datetime, interval: str, now: datetime) -> bool:
    """Features are older than one interval once the period they predict has itself closed: a 1d
    prediction from yesterday's candle is about today's close, and is stale from tomorrow 00:00 UTC on."""
    return now - (feature_time + INTERVALS[interval]) >= INTERVALS[interval]
