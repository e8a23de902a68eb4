"""Live endpoints: thin views over `live.selectors`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from redis.client import Pipeline
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cryptoflow_service.common.errors import ErrorSerializer
from cryptoflow_service.common.markets import normalize_market
from cryptoflow_service.common.params import StrictParams, not_found, path_market, query
from cryptoflow_service.common.renderers import FastJSONRenderer, JSONNegotiation
from cryptoflow_service.common.throttling import check_with_reads
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


# Live answers hold only strings, ints and None, which orjson renders as DRF would, faster. A view
# that reads one thing queues that read in `queue_reads`: it goes to Redis in the throttle counters'
# pipeline (one round trip per request) and the handler finds the replies in `self.replies`. (No
# docstring: drf-spectacular would publish it as every live operation's description.)
class LiveView(StrictParams, APIView):
    renderer_classes = [FastJSONRenderer]
    content_negotiation_class = JSONNegotiation
    replies: list[Any] = []

    def queue_reads(self, pipe: Pipeline) -> None:
        """Queue the handler's Redis reads, taken from `self.kwargs`; none for a bad request (the handler
        answers 400)."""

    def check_throttles(self, request: Request) -> None:
        reading = request.method in {"GET", "HEAD"}
        self.replies = check_with_reads(self, request, self.queue_reads if reading else None)


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
    def queue_reads(self, pipe: Pipeline) -> None:
        if (code := normalize_market(self.kwargs["market"])) is not None:
            selectors.queue_ticker(pipe, market=code)

    @extend_schema(
        operation_id="realtime_price_retrieve",
        summary="Latest ticker of one market",
        parameters=[MARKET_PATH],
        responses={200: Ticker, **ERRORS},
    )
    def get(self, request: Request, market: str) -> Response:
        ticker = selectors.ticker_from(market=path_market(market), fields=self.replies[0])
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
    def queue_reads(self, pipe: Pipeline) -> None:
        if (code := normalize_market(self.kwargs["market"])) is not None:
            selectors.queue_orderbook(pipe, market=code)

    @extend_schema(
        operation_id="orderbook_retrieve",
        summary="Latest order book snapshot of a market",
        parameters=[MARKET_PATH],
        responses={200: Orderbook, **ERRORS},
    )
    def get(self, request: Request, market: str) -> Response:
        code = path_market(market)
        book = selectors.orderbook_from(market=code, fields=self.replies[0])
        if book is None:
            raise not_found(f"No order book for {code}.")
        return Response(book)
