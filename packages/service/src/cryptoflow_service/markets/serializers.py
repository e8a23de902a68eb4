"""Answer shapes of the market registry and the one-market overview."""

from __future__ import annotations

from rest_framework import serializers

from cryptoflow_service.analysis.serializers import SignalOut, TrendRow
from cryptoflow_service.common.fields import DecimalStringField, EpochMsField
from cryptoflow_service.common.markets import normalize_quote
from cryptoflow_service.live.serializers import Ticker
from cryptoflow_service.marts.serializers import IndicatorRow, MarketStats


class RegistryQuery(serializers.Serializer):  # type: ignore[type-arg]
    quote = serializers.CharField(required=False, max_length=10, help_text="KRW, BTC or USDT.")
    status = serializers.ChoiceField(choices=["PREVIEW", "ACTIVE", "DELISTED"], required=False)

    def validate_quote(self, value: str) -> str:
        quote = normalize_quote(value)
        if quote is None:
            raise serializers.ValidationError(f"'{value[:10]}' is not a currency code like KRW")
        return quote


class RegistryEntry(serializers.Serializer):  # type: ignore[type-arg]
    market = serializers.CharField()
    quote = serializers.CharField()
    status = serializers.CharField(
        allow_null=True, help_text="PREVIEW, ACTIVE or DELISTED; null = not reported."
    )
    last_seen_ms = EpochMsField(allow_null=True)
    status_ms = EpochMsField(allow_null=True)


class MarketRow(RegistryEntry):
    live = serializers.BooleanField(help_text="Whether the hot path (Redis registry) knows the market.")
    korean_name = serializers.CharField(allow_null=True)
    english_name = serializers.CharField(allow_null=True)
    warning = serializers.BooleanField(allow_null=True)
    caution = serializers.BooleanField(allow_null=True)


class MarketList(serializers.Serializer):  # type: ignore[type-arg]
    count = serializers.IntegerField()
    results = MarketRow(many=True)


class Names(serializers.Serializer):  # type: ignore[type-arg]
    korean_name = serializers.CharField(allow_null=True)
    english_name = serializers.CharField(allow_null=True)
    warning = serializers.BooleanField(allow_null=True)
    caution = serializers.BooleanField(allow_null=True)


class OrderbookTop(serializers.Serializer):  # type: ignore[type-arg]
    best_ask_price = DecimalStringField(allow_null=True)
    best_bid_price = DecimalStringField(allow_null=True)
    spread = DecimalStringField(allow_null=True)
    timestamp = EpochMsField(allow_null=True)
    age_ms = serializers.IntegerField(allow_null=True)


class MarketOverview(serializers.Serializer):  # type: ignore[type-arg]
    market = serializers.CharField()
    quote = serializers.CharField()
    server_time = EpochMsField()
    registry = RegistryEntry(allow_null=True)
    names = Names(allow_null=True)
    ticker = Ticker(allow_null=True, help_text="Live, from Redis.")
    orderbook_top = OrderbookTop(allow_null=True, help_text="Live, from Redis.")
    stats_24h = MarketStats(allow_null=True, help_text="Newest row of mart.market_stats_24h.")
    indicators = IndicatorRow(allow_null=True, help_text="Newest row of mart.indicators.")
    signals = SignalOut(many=True, help_text="The newest signals of the market.")
    trend = TrendRow(allow_null=True, help_text="Newest trend report row.")
