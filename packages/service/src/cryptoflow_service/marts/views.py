"""Mart endpoints: 24 h stats, candles, indicators."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cryptoflow_service.common.errors import ErrorSerializer
from cryptoflow_service.common.fields import TimeParamField
from cryptoflow_service.common.pagination import StrictLimitOffsetPagination
from cryptoflow_service.common.params import StrictParams, not_found, path_market, query
from cryptoflow_service.live.views import MARKET_PATH
from cryptoflow_service.markets.selectors import market_known
from cryptoflow_service.marts import selectors
from cryptoflow_service.marts.filters import MarketStatsFilter
from cryptoflow_service.marts.models import MarketStats24h
from cryptoflow_service.marts.serializers import (
    CandleList,
    CandlesQuery,
    HistoryQuery,
    IndicatorList,
    IndicatorsQuery,
    MarketStats,
)

ERRORS = {400: ErrorSerializer, 404: ErrorSerializer, 503: ErrorSerializer}


class AsOfQuery(serializers.Serializer):  # type: ignore[type-arg]
    as_of = TimeParamField(required=False, help_text="Each market's newest snapshot at or before this time.")


@extend_schema_view(
    get=extend_schema(
        operation_id="market_stats_list",
        summary="Latest 24 h stats of every market (mart.market_stats_24h)",
        parameters=[AsOfQuery],
        responses={200: MarketStats(many=True), **ERRORS},
    )
)
class MarketStatsListView(StrictParams, generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = MarketStats
    pagination_class = StrictLimitOffsetPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = MarketStatsFilter

    def get_queryset(self) -> QuerySet[MarketStats24h]:
        params = query(self.request, AsOfQuery)
        return selectors.latest_stats(as_of=params.get("as_of")).order_by("market")


@extend_schema_view(
    get=extend_schema(
        operation_id="market_stats_history",
        summary="24 h stats history of one market, newest first",
        parameters=[MARKET_PATH, HistoryQuery],
        responses={200: MarketStats(many=True), **ERRORS},
    )
)
class MarketStatsDetailView(StrictParams, generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = MarketStats
    pagination_class = StrictLimitOffsetPagination

    def get_queryset(self) -> QuerySet[MarketStats24h]:
        params = query(self.request, HistoryQuery)
        return selectors.stats_history(market=self.market, start=params.get("start"), end=params.get("end"))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.market = path_market(kwargs["market"])
        response = super().list(request, *args, **kwargs)
        if not response.data["results"] and not market_known(market=self.market):
            raise not_found(f"Unknown market {self.market}.")
        return response


class CandlesView(StrictParams, APIView):
    @extend_schema(
        operation_id="candles_list",
        summary="Candles of a market (1d: closed UTC days; 1m: minutes, the newest may be open)",
        parameters=[MARKET_PATH, CandlesQuery],
        responses={200: CandleList, **ERRORS},
    )
    def get(self, request: Request, market: str) -> Response:
        code = path_market(market)
        params = query(request, CandlesQuery)
        rows = selectors.candles(
            market=code,
            interval=params["interval"],
            start=params.get("start"),
            end=params.get("end"),
            limit=params["limit"],
        )
        if not rows and not market_known(market=code):
            raise not_found(f"Unknown market {code}.")
        body = {"market": code, "interval": params["interval"], "count": len(rows), "candles": rows}
        return Response(CandleList(body).data)


class IndicatorsView(StrictParams, APIView):
    @extend_schema(
        operation_id="indicators_list",
        summary="Daily indicators of a market (MA 5/20/60, RSI 14, ATR 14, 30-day volume, crosses)",
        parameters=[MARKET_PATH, IndicatorsQuery],
        responses={200: IndicatorList, **ERRORS},
    )
    def get(self, request: Request, market: str) -> Response:
        code = path_market(market)
        params = query(request, IndicatorsQuery)
        rows = selectors.indicators(
            market=code, start=params.get("start"), end=params.get("end"), limit=params["limit"]
        )
        latest = selectors.latest_indicator(market=code)
        if latest is None and not market_known(market=code):
            raise not_found(f"Unknown market {code}.")
        body = {"market": code, "count": len(rows), "latest": latest, "history": rows}
        return Response(IndicatorList(body).data)
