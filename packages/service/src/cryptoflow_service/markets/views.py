"""Market registry and one-market overview endpoints."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cryptoflow_service.common.errors import ErrorSerializer
from cryptoflow_service.common.params import StrictParams, not_found, path_market, query
from cryptoflow_service.common.timeutils import now_ms
from cryptoflow_service.live.views import MARKET_PATH
from cryptoflow_service.markets import selectors
from cryptoflow_service.markets.serializers import MarketList, MarketOverview, RegistryQuery


class MarketListView(StrictParams, APIView):
    @extend_schema(
        operation_id="markets_list",
        summary="Market registry: the hot path's markets joined with the cold path's names",
        parameters=[RegistryQuery],
        responses={200: MarketList, 400: ErrorSerializer, 503: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        params = query(request, RegistryQuery)
        rows = selectors.market_list(quote=params.get("quote"), status=params.get("status"))
        return Response({"count": len(rows), "results": rows})


class MarketDetailView(StrictParams, APIView):
    @extend_schema(
        operation_id="markets_retrieve",
        summary="One market: live ticker and book (Redis), latest 24 h stats, indicators, signals and trend",
        parameters=[MARKET_PATH],
        responses={200: MarketOverview, 400: ErrorSerializer, 404: ErrorSerializer, 503: ErrorSerializer},
    )
    def get(self, request: Request, market: str) -> Response:
        code = path_market(market)
        overview = selectors.market_overview(market=code)
        if overview is None:
            raise not_found(f"Unknown market {code}.")
        return Response(MarketOverview({**overview, "server_time": now_ms()}).data)
