"""Filters of the 24 h stats list (django-filter: a malformed value answers 400)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from cryptoflow_service.common.markets import normalize_market, normalize_quote
from cryptoflow_service.marts.models import MarketStats24h

ORDERABLE = [
    "market",
    "trade_price",
    "signed_change_rate",
    "acc_trade_volume_24h",
    "acc_trade_price_24h",
    "snapshot_at",
]
NUMBER = {"max_digits": 40, "decimal_places": 20}


class MarketListField(forms.CharField):
    def clean(self, value: Any) -> list[str] | None:
        text = super().clean(value)
        if not text:
            return None
        codes = [normalize_market(part) for part in text.split(",") if part.strip()]
        if not codes or None in codes:
            # django-filter %-formats these messages: no user input in them.
            raise forms.ValidationError("not a market code like KRW-BTC, or a comma list of them")
        return [code for code in codes if code is not None]


class QuoteField(forms.CharField):
    def clean(self, value: Any) -> str | None:
        text = super().clean(value)
        if not text:
            return None
        quote = normalize_quote(text)
        if quote is None:
            raise forms.ValidationError("not a currency code like KRW")
        return quote


class MarketListFilter(django_filters.Filter):  # type: ignore[misc]  # django_filters is untyped
    field_class = MarketListField

    def filter(self, qs: QuerySet[Any], value: list[str] | None) -> QuerySet[Any]:
        return qs.filter(market__in=value) if value else qs


class QuoteFilter(django_filters.Filter):  # type: ignore[misc]  # django_filters is untyped
    field_class = QuoteField

    def filter(self, qs: QuerySet[Any], value: str | None) -> QuerySet[Any]:
        return qs.filter(quote=value) if value else qs


class MarketStatsFilter(django_filters.FilterSet):  # type: ignore[misc]  # django_filters is untyped
    market = MarketListFilter(max_length=4000, help_text="One market or a comma list, e.g. KRW-BTC,KRW-ETH.")
    quote = QuoteFilter(max_length=10, help_text="Quote currency: KRW, BTC or USDT.")
    min_change_rate = django_filters.NumberFilter(
        field_name="signed_change_rate", lookup_expr="gte", **NUMBER
    )
    max_change_rate = django_filters.NumberFilter(
        field_name="signed_change_rate", lookup_expr="lte", **NUMBER
    )
    min_volume = django_filters.NumberFilter(field_name="acc_trade_volume_24h", lookup_expr="gte", **NUMBER)
    max_volume = django_filters.NumberFilter(field_name="acc_trade_volume_24h", lookup_expr="lte", **NUMBER)
    min_value = django_filters.NumberFilter(field_name="acc_trade_price_24h", lookup_expr="gte", **NUMBER)
    max_value = django_filters.NumberFilter(field_name="acc_trade_price_24h", lookup_expr="lte", **NUMBER)
    ordering = django_filters.OrderingFilter(
        fields=ORDERABLE, help_text="Comma list; prefix '-' for descending."
    )

    class Meta:
        model = MarketStats24h
        fields: list[str] = []
