"""Signals and trend report endpoints."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cryptoflow_service.analysis import selectors
from cryptoflow_service.analysis.models import Signal, TrendReport
from cryptoflow_service.analysis.serializers import (
    DayQuery,
    SignalFilter,
    SignalOut,
    SinceQuery,
    TopPicks,
    TopPicksQuery,
    TrendFilter,
    TrendRow,
)
from cryptoflow_service.common.errors import ErrorSerializer
from cryptoflow_service.common.pagination import StrictLimitOffsetPagination
from cryptoflow_service.common.params import StrictParams, query

ERRORS = {400: ErrorSerializer, 404: ErrorSerializer, 503: ErrorSerializer}
"""404: a page past the last."""


@extend_schema_view(
    get=extend_schema(
        operation_id="signals_list",
        summary="Detected signals (MA crosses, volume spikes), newest candle first",
        parameters=[SinceQuery],
        responses={200: SignalOut(many=True), **ERRORS},
    )
)
class SignalListView(StrictParams, generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = SignalOut
    pagination_class = StrictLimitOffsetPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = SignalFilter

    def get_queryset(self) -> QuerySet[Signal]:
        params = query(self.request, SinceQuery)
        rows = selectors.signals()
        if "since" in params:
            rows = rows.filter(candle_start__gte=params["since"])
        if "until" in params:
            rows = rows.filter(candle_start__lte=params["until"])
        return rows


@extend_schema_view(
    get=extend_schema(
        operation_id="trend_report_list",
        summary="The daily trend scan, best score first",
        parameters=[DayQuery],
        responses={200: TrendRow(many=True), **ERRORS},
    )
)
class TrendReportListView(StrictParams, generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = TrendRow
    pagination_class = StrictLimitOffsetPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = TrendFilter

    def get_queryset(self) -> QuerySet[TrendReport]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the filters: no query
            return TrendReport.objects.none()
        return selectors.trend_report(day=query(self.request, DayQuery).get("day"))


class TopPicksView(StrictParams, APIView):
    @extend_schema(
        operation_id="trend_report_top_picks",
        summary="Top picks of the daily trend scan: up-trending, score >= 70, RSI < 80",
        parameters=[TopPicksQuery],
        responses={200: TopPicks, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = query(request, TopPicksQuery)
        day = params.get("day") or selectors.latest_report_day()
        picks = selectors.top_picks(day=day, limit=params["limit"])
        return Response(TopPicks({"day": day, "count": len(picks), "results": picks}).data)
