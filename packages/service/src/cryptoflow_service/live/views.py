"""Live endpoints: thin views over `live.selectors`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cryptoflow_service.common.errors import ErrorSerializer
from cryptoflow_service.common.params import not_found, path_market, query
from cryptoflow_service.common.renderers import FastJSONRenderer
from cryptoflow_service.common.timeutils import now_ms, to_ms
from cryptoflow_service.live import selectors
from cryptoflow_service.live.serializers import (
    Orderbook,
    RealtimeQuery,
    Ticker,
    TickerList,
    TradeList,
    TradesQuery,
)

ERRORS = {400: ErrorSerializer, 404: ErrorSerializer, 503: ErrorSerializer}
MARKET_PATH = OpenApiParameter(
    "market",
    str,
    OpenApiParameter.PATH,
    description="Market code, e.g. KRW-BTC (any case).",
    pattern=r"^[A-Za-z0-9]{2,10}-[A-Za-z0-9]{1,20}$",
    examples=[OpenApiExample("KRW-BTC", value="KRW-BTC")],
)


# Live answers hold only strings, ints and None, which orjson renders as DRF would, faster. (No
# docstring: drf-spectacular would publish it as every live operation's description.)
class LiveView(APIView):
    renderer_classes = [FastJSONRenderer]


class RealtimePriceListView(LiveView):
    @extend_schema(
        operation_id="realtime_price_list",
        summary="Latest tickers of all markets (or some) from Redis",
        parameters=[RealtimeQuery],
        responses={200: TickerList, 400: ErrorSerializer, 503: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        params = query(request, RealtimeQuery)
        markets = params.get("markets") or ([params["market"]] if "market" in params else None)
        results = selectors.tickers(markets=markets, quote=params.get("quote"))
        ages = [ticker["age_ms"] for ticker in results if ticker["age_ms"] is not None]
        return Response(
            {
                "server_time": now_ms(),
                "count": len(results),
                "max_age_ms": max(ages, default=None),
                "results": results,
            }
        )


class RealtimePriceDetailView(LiveView):
    @extend_schema(
        operation_id="realtime_price_retrieve",
        summary="Latest ticker of one market",
        parameters=[MARKET_PATH],
        responses={200: Ticker, **ERRORS},
    )
    def get(self, request: Request, market: str) -> Response:
        ticker = selectors.ticker(market=path_market(market))
        if ticker is None:
            raise not_found(f"No live ticker for {market.upper()}.")
        return Response(ticker)


class TradesView(LiveView):
    @extend_schema(
        operation_id="trades_list",
        summary="Recent trades of a market from the Redis stream, newest first",
        parameters=[MARKET_PATH, TradesQuery],
        responses={200: TradeList, **ERRORS},
    )
    def get(self, request: Request, market: str) -> Response:
        code = path_market(market)
        params = query(request, TradesQuery)
        since = params.get("since")
        trades = selectors.trades(
            market=code, limit=params["limit"], since_ms=to_ms(since) if since else None
        )
        if not trades and not selectors.market_known(market=code):
            raise not_found(f"Unknown market {code}.")
        body: dict[str, Any] = {
            "market": code,
            "server_time": now_ms(),
            "count": len(trades),
            "age_ms": trades[0]["age_ms"] if trades else None,
            "trades": trades,
        }
        return Response(body)


class OrderbookView(LiveView):
    @extend_schema(
        operation_id="orderbook_retrieve",
        summary="Latest order book snapshot of a market",
        parameters=[MARKET_PATH],
        responses={200: Orderbook, **ERRORS},
    )
    def get(self, request: Request, market: str) -> Response:
        code = path_market(market)
        book = selectors.orderbook(market=code)
        if book is None:
            raise not_found(f"No order book for {code}.")
        return Response(book)
