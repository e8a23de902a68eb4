"""The dashboard: server-rendered pages (one URL each), each with a small ES module that reads the public
API (`static/dashboard/api.js` holds every URL and answer shape the pages assume), and the two read-only
endpoints the pages need that no other view serves: the board's sparklines and the pipeline health."""

from __future__ import annotations

from datetime import timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cryptoflow_service.analysis.services import MA_LONG, MA_SHORT
from cryptoflow_service.common.errors import ErrorSerializer
from cryptoflow_service.common.fields import DecimalStringField, EpochMsField, decimal_string
from cryptoflow_service.common.markets import normalize_market
from cryptoflow_service.common.params import StrictParams, query
from cryptoflow_service.common.timeutils import from_ms, now_ms, to_ms
from cryptoflow_service.dashboard.pipeline import pipeline_health
from cryptoflow_service.live.serializers import RealtimeQuery
from cryptoflow_service.marts import selectors

SPARKLINE_HOURS = 24


def _page(request: HttpRequest, template: str, **context: object) -> HttpResponse:
    return render(
        request, f"dashboard/{template}", {"short_window": MA_SHORT, "long_window": MA_LONG, **context}
    )


def board(request: HttpRequest) -> HttpResponse:
    return _page(request, "board.html", page="board")


def old_dashboard(request: HttpRequest) -> HttpResponse:
    return redirect("dashboard")


def market(request: HttpRequest, code: str) -> HttpResponse:
    normalized = normalize_market(code)
    if normalized is None:
        raise Http404(f"{code[:40]!r} is not a market code like KRW-BTC")
    if normalized != code:
        return redirect("dashboard-market", code=normalized)
    return _page(request, "market.html", page="market", market=normalized)


def alerts(request: HttpRequest) -> HttpResponse:
    return _page(request, "alerts.html", page="alerts")


def health(request: HttpRequest) -> HttpResponse:
    return _page(request, "health.html", page="health")


class SparkPoint(serializers.Serializer):  # type: ignore[type-arg]
    t = EpochMsField(help_text="Start of the UTC hour.")
    close = DecimalStringField(help_text="Close of the hour's last minute candle.")


class SparklineQuery(RealtimeQuery):
    pass


class SparklineView(StrictParams, APIView):
    @extend_schema(
        operation_id="sparklines_list",
        summary="Hourly closes of the last 24 h per market (mart.candles_1m), for the board's sparklines",
        parameters=[SparklineQuery],
        responses={
            200: inline_serializer(
                "SparklineList",
                {
                    "server_time": EpochMsField(),
                    "since": EpochMsField(),
                    "markets": serializers.DictField(child=SparkPoint(many=True)),
                },
            ),
            400: ErrorSerializer,
            503: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        params = query(request, SparklineQuery)
        markets = params.get("markets") or ([params["market"]] if "market" in params else None)
        now = now_ms()
        since = from_ms(now) - timedelta(hours=SPARKLINE_HOURS)
        rows = selectors.sparklines(since=since, markets=markets)
        quote = params.get("quote")
        body = {
            "server_time": now,
            "since": to_ms(since),
            "markets": {
                code: [{"t": to_ms(bucket), "close": decimal_string(close)} for bucket, close in points]
                for code, points in sorted(rows.items())
                if quote is None or code.split("-", 1)[0] == quote
            },
        }
        return Response(body)


class PipelineHealthView(StrictParams, APIView):
    @extend_schema(
        operation_id="pipeline_health",
        summary="Pipeline health: data age, Airflow DAG runs, Kafka lag and dead letters, Beat, metrics",
        responses={
            200: inline_serializer("PipelineHealth", {"server_time": EpochMsField()}),
            503: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        return Response(pipeline_health())
