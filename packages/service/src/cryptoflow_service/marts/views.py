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
from cryptoflow_service.common.timeutils import to_ms
from cryptoflow_service.live.views import MARKET_PATH
from cryptoflow_service.markets.selectors import market_known
from cryptoflow_service.marts import selectors
from cryptoflow_service.marts.filters import MarketStatsFilter
from cryptoflow_service.marts.models import MarketStats24h
from cryptoflow_service.marts.serializers import (
    ArchivedTradePage,
    ArchivedTradesQuery,
    CandleList,
    CandlesQuery,
    HistoryQuery,
    IndicatorList,
    IndicatorsQuery,
    MarketCandlesQuery,
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


def _candles_body(code: str, params: dict[str, Any]) -> dict[str, Any]:
    rows = selectors.candles(
        market=code,
        interval=params["interval"],
        start=params.get("start"),
        end=params.get("end"),
        limit=params["limit"],
    )
    if not rows and not market_known(market=code):
        raise not_found(f"Unknown market {code}.")
    return {"market": code, "interval": params["interval"], "count": len(rows), "candles": rows}


class CandlesView(StrictParams, APIView):
    @extend_schema(
        operation_id="candles_list",
        summary="Candles of a market (1d: closed UTC days; 1h, 1m: built from archived trades, the newest "
        "may be open). Same as /api/candles/?market=",
        parameters=[MARKET_PATH, CandlesQuery],
        responses={200: CandleList, **ERRORS},
    )
    def get(self, request: Request, market: str) -> Response:
        code = path_market(market)
        return Response(CandleList(_candles_body(code, query(request, CandlesQuery))).data)


class MarketCandlesView(StrictParams, APIView):
    market_is_resource = True  # the same candles as /api/candles/{market}/

    @extend_schema(
        operation_id="candles_by_market",
        summary="Candles of any market: interval 1m or 1h (from archived trades) or 1d",
        parameters=[MarketCandlesQuery],
        responses={200: CandleList, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = query(request, MarketCandlesQuery)
        return Response(CandleList(_candles_body(path_market(params["market"]), params)).data)


class ArchivedTradesView(StrictParams, APIView):
    market_is_resource = True  # one market's trade history

    @extend_schema(
        operation_id="archived_trades_list",
        summary="Archived trades of a market (every trade since archiving began), newest first, cursor pages",
        parameters=[ArchivedTradesQuery],
        responses={200: ArchivedTradePage, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = query(request, ArchivedTradesQuery)
        code = path_market(params["market"])
        before, after = (_cursor(params.get(name)) for name in ("before", "after"))
        start, end = params.get("start"), params.get("end")
        limit = params["limit"]
        rows = selectors.archived_trades(
            market=code,
            before=before,
            after=after,
            start_ms=to_ms(start) if start else None,
            end_ms=to_ms(end) if end else None,
            limit=limit,
        )
        if not rows and not market_known(market=code):
            raise not_found(f"Unknown market {code}.")
        if after is not None:
            rows.reverse()  # pages are always newest first
        older = rows[-1] if rows and (after is not None or len(rows) == limit) else None
        newer = rows[0] if rows and (before is not None or after is not None) else None
        body = {
            "market": code,
            "count": len(rows),
            "next": _page(request, "before", older),
            "previous": _page(request, "after", newer),
            "trades": rows,
        }
        return Response(ArchivedTradePage(body).data)


def _cursor(raw: str | None) -> tuple[int, int] | None:
    if raw is None:
        return None
    ts, sid = raw.split("-")
    return int(ts), int(sid)


def _page(request: Request, direction: str, trade: Any) -> str | None:
    if trade is None:
        return None
    params = request.query_params.copy()
    params.pop("before", None)
    params.pop("after", None)
    params[direction] = f"{trade.trade_timestamp}-{trade.sequential_id}"
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


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
