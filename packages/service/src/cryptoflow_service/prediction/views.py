"""`GET /api/predict/`: the current model's newest stored prediction for a market."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cryptoflow_service.common.errors import ErrorSerializer
from cryptoflow_service.common.params import StrictParams, not_found, query
from cryptoflow_service.common.renderers import FastJSONRenderer, JSONNegotiation
from cryptoflow_service.markets.selectors import market_known
from cryptoflow_service.prediction import selectors
from cryptoflow_service.prediction.serializers import PredictAnswer, PredictQuery


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "No usable prediction."
    default_code = "conflict"


# The answer holds only JSON types; orjson renders it (as for the live endpoints).
class PredictView(StrictParams, APIView):
    market_is_resource = True
    renderer_classes = [FastJSONRenderer]
    content_negotiation_class = JSONNegotiation

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
        current = selectors.current_model(interval=interval)
        stored = None
        if current is not None:
            stored = selectors.latest_prediction(market=market, interval=interval, version=current.version)
        if stored is None and not market_known(market=market):
            raise not_found(f"Unknown market {market}.")
        if current is None:
            raise Conflict(f"No {interval} model is registered yet (`cryptoflow-batch train`, DAG ml_train).")
        if stored is None:
            raise Conflict(
                f"Model {current.version} has no prediction for {market}: it lacks {interval} candles with "
                "complete indicator features."
            )
        if selectors.is_stale(feature_time=stored.feature_time, interval=interval, now=timezone.now()):
            raise Conflict(
                f"The newest {interval} features of {market} are from the candle of "
                f"{stored.feature_time.isoformat()}, older than one interval: the period they predicted "
                "has closed."
            )
        return Response(selectors.answer(market=market, interval=interval, current=current, stored=stored))
