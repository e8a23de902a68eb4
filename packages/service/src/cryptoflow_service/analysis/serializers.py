"""Answer shapes and query parameters of signals and the trend report."""

from __future__ import annotations

import django_filters
from rest_framework import serializers

from cryptoflow_service.analysis.models import Interval, Signal, SignalKind, TrendReport
from cryptoflow_service.common.fields import (
    DecimalStringField,
    EpochMsField,
    IsoTimeField,
    PriceScaleField,
    RatioField,
    TimeParamField,
)
from cryptoflow_service.marts.filters import MarketListFilter


class SignalOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    market = serializers.CharField()
    kind = serializers.ChoiceField(choices=SignalKind.choices)
    interval = serializers.ChoiceField(choices=Interval.choices)
    short_window = serializers.IntegerField()
    long_window = serializers.IntegerField()
    candle_start = EpochMsField()
    candle_start_iso = IsoTimeField(source="candle_start")
    price = DecimalStringField()
    change_percent = RatioField(allow_null=True)
    short_value = PriceScaleField(
        allow_null=True,
        help_text="Short MA (crosses) or today's volume (spikes); 8 significant digits.",
    )
    long_value = PriceScaleField(
        allow_null=True,
        help_text="Long MA (crosses) or 30-day average volume (spikes); 8 significant digits.",
    )
    detected_at = EpochMsField()


class SignalFilter(django_filters.FilterSet):  # type: ignore[misc]  # django_filters is untyped
    market = MarketListFilter(max_length=4000, help_text="One market or a comma list.")
    kind = django_filters.ChoiceFilter(choices=SignalKind.choices)
    interval = django_filters.ChoiceFilter(choices=Interval.choices)
    ordering = django_filters.OrderingFilter(fields=["candle_start", "detected_at", "market"])

    class Meta:
        model = Signal
        fields: list[str] = []


class SinceQuery(serializers.Serializer):  # type: ignore[type-arg]
    since = TimeParamField(required=False, help_text="Signals on candles at or after this time.")
    until = TimeParamField(required=False, help_text="Signals on candles at or before this time.")


class TrendRow(serializers.Serializer):  # type: ignore[type-arg]
    market = serializers.CharField()
    day = serializers.DateField()
    close = DecimalStringField()
    ma_5 = PriceScaleField(allow_null=True)
    ma_20 = PriceScaleField(allow_null=True)
    ma_60 = PriceScaleField(allow_null=True)
    rsi_14 = RatioField(allow_null=True)
    change_percent_20d = RatioField(allow_null=True)
    score = RatioField(help_text="0-100; 2 decimals.")
    trend = serializers.ChoiceField(choices=["up", "down", "sideways"])
    top_pick = serializers.BooleanField()
    computed_at = EpochMsField()


class TrendFilter(django_filters.FilterSet):  # type: ignore[misc]  # django_filters is untyped
    market = MarketListFilter(max_length=4000, help_text="One market or a comma list.")
    search = django_filters.CharFilter(
        field_name="market",
        lookup_expr="icontains",
        max_length=40,
        help_text="Part of a market code, e.g. BTC.",
    )
    trend = django_filters.ChoiceFilter(choices=[("up", "up"), ("down", "down"), ("sideways", "sideways")])
    top_pick = django_filters.BooleanFilter()
    ordering = django_filters.OrderingFilter(fields=["score", "market", "rsi_14", "change_percent_20d"])

    class Meta:
        model = TrendReport
        fields: list[str] = []


class DayQuery(serializers.Serializer):  # type: ignore[type-arg]
    day = serializers.DateField(required=False, help_text="UTC day (YYYY-MM-DD); default: the newest report.")


class TopPicksQuery(DayQuery):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=10)


class TopPicks(serializers.Serializer):  # type: ignore[type-arg]
    day = serializers.DateField(allow_null=True)
    count = serializers.IntegerField()
    results = TrendRow(many=True)
