"""`GET /api/predict/`: the current model's newest stored prediction for a market."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cryptoflow_service.common.errors import ErrorSerializer
from cryptoflow_service.common.params import not_found, query
from cryptoflow_service.markets.selectors import market_known
from cryptoflow_service.prediction import selectors
from cryptoflow_service.prediction.serializers import PredictAnswer, PredictQuery


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "No usable prediction."
    default_code = "conflict"


class PredictView(APIView):
    @extend_schema(
        operation_id="predict",
        summary="Probability that the next close is up, from the current ML model (with its honesty figures)",
        description=(
            "Served from `mart.predictions`, written by cryptoflow-batch whenever a model is trained or a "
            "candle closes. Every answer carries `beats_baselines` and the model's walk-forward metrics next "
            "to the naive baselines'. On the simulator prices are a random walk: no model has skill there. "
            "409 when no model is registered for the interval, the model has no prediction for the market, "
            "or the newest features are older than one interval."
        ),
        parameters=[PredictQuery],
        responses={
            200: PredictAnswer,
            400: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            503: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        params = query(request, PredictQuery)
        market, interval = params["market"], params["interval"]
        answer = selectors.latest_prediction(market=market, interval=interval)
        if answer.prediction is None and not market_known(market=market):
            raise not_found(f"Unknown market {market}.")
        model, prediction = answer.model, answer.prediction
        if model is None:
            raise Conflict(
                f"No {interval} model is registered yet (cryptoflow-batch train / the ml_train DAG)."
            )
        if prediction is None:
            raise Conflict(
                f"Model {model.version} has no prediction for {market}: it lacks {interval} candles with "
                "complete indicator features."
            )
        now = timezone.now()
        if selectors.is_stale(feature_time=prediction.feature_time, interval=interval, now=now):
            raise Conflict(
                f"The newest {interval} features of {market} are from the candle of "
                f"{prediction.feature_time.isoformat()}, older than one interval: the period they predicted "
                "has closed."
            )
        body = {
            "market": market,
            "interval": interval,
            "probability_up": prediction.probability_up,
            "direction": "up" if prediction.probability_up > 0.5 else "not_up",
            "beats_baselines": model.beats_baselines,
            "feature_time": prediction.feature_time,
            "predicts_close_of": prediction.feature_time + selectors.INTERVALS[interval],
            "model_version": model.version,
            "model": {
                "version": model.version,
                "algorithm": model.algorithm,
                "created_at": model.created_at,
                "train_start": model.train_start,
                "train_end": model.train_end,
                "training_rows": model.training_rows,
                "beats_baselines": model.beats_baselines,
                "best_baseline": model.best_baseline,
                "walk_forward": {
                    "model": model.metrics["overall"],
                    "baselines": {k: v["overall"] for k, v in model.baseline_metrics.items()},
                    "candidates": model.candidate_metrics,
                },
            },
            "note": model.note,
        }
        return Response(PredictAnswer(body).data)
