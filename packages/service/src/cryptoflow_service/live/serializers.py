"""Query parameters and answer shapes of the live endpoints (the answers are built as dicts by
`live.selectors`; these classes validate input and document the output)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cryptoflow_service.common.fields import DecimalStringField, EpochMsField, MarketField, TimeParamField
from cryptoflow_service.common.markets import normalize_market, normalize_quote

MAX_MARKETS_PARAM = 200


class RealtimeQuery(serializers.Serializer):  # type: ignore[type-arg]
    market = MarketField(required=False, help_text="One market, e.g. KRW-BTC.")
    markets = serializers.CharField(required=False, max_length=4000, help_text="Comma-separated markets.")
    quote = serializers.CharField(
        required=False, max_length=10, help_text="Quote currency: KRW, BTC or USDT."
    )

    def validate_markets(self, value: str) -> list[str]:
        codes = [part for part in (item.strip() for item in value.split(",")) if part]
        bad = [code[:40] for code in codes if normalize_market(code) is None]
        if bad or not codes:
            raise serializers.ValidationError(f"not market codes: {', '.join(bad) or '(empty)'}")
        if len(codes) > MAX_MARKETS_PARAM:
            raise serializers.ValidationError(f"at most {MAX_MARKETS_PARAM} markets")
        return [normalize_market(code) or code for code in codes]

    def validate_quote(self, value: str) -> str:
        quote = normalize_quote(value)
        if quote is None:
            raise serializers.ValidationError(f"'{value[:10]}' is not a currency code like KRW")
        return quote

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "market" in attrs and "markets" in attrs:
            raise serializers.ValidationError("give either market or markets, not both")
        return attrs


class Ticker(serializers.Serializer):  # type: ignore[type-arg]
    """The latest ticker of a market. Optional fields are missing when the exchange did not send them."""

    market = serializers.CharField()
    quote = serializers.CharField()
    trade_price = DecimalStringField()
    opening_price = DecimalStringField(required=False)
    high_price = DecimalStringField(required=False)
    low_price = DecimalStringField(required=False)
    prev_closing_price = DecimalStringField(required=False)
    change = serializers.ChoiceField(choices=["RISE", "EVEN", "FALL"], required=False)
    change_price = DecimalStringField(required=False)
    signed_change_price = DecimalStringField(required=False)
    change_rate = DecimalStringField(required=False)
    signed_change_rate = DecimalStringField(required=False, help_text="0.015 = +1.5 %")
    trade_volume = DecimalStringField(required=False)
    acc_trade_volume = DecimalStringField(required=False, help_text="Since 00:00 UTC.")
    acc_trade_price = DecimalStringField(required=False)
    acc_trade_volume_24h = DecimalStringField(required=False, help_text="Rolling 24 h.")
    acc_trade_price_24h = DecimalStringField(required=False)
    acc_ask_volume = DecimalStringField(required=False)
    acc_bid_volume = DecimalStringField(required=False)
    side = serializers.ChoiceField(choices=["ASK", "BID"], required=False)
    highest_52_week_price = DecimalStringField(required=False)
    highest_52_week_date = serializers.CharField(required=False)
    lowest_52_week_price = DecimalStringField(required=False)
    lowest_52_week_date = serializers.CharField(required=False)
    market_state = serializers.CharField(required=False)
    delisting_date = serializers.CharField(required=False)
    stream_type = serializers.CharField(required=False)
    source = serializers.CharField(required=False)  # type: ignore[assignment]  # a field, not Field.source
    trade_timestamp = EpochMsField(required=False)
    timestamp = EpochMsField(required=False, help_text="Exchange time of the message.")
    received_ms = EpochMsField(required=False, help_text="When CryptoFlow received it.")
    age_ms = serializers.IntegerField(allow_null=True, help_text="Milliseconds since CryptoFlow received it.")


class TickerList(serializers.Serializer):  # type: ignore[type-arg]
    server_time = EpochMsField()
    count = serializers.IntegerField()
    max_age_ms = serializers.IntegerField(
        allow_null=True, help_text="Age of the oldest ticker in the answer."
    )
    results = Ticker(many=True)


class TradesQuery(serializers.Serializer):  # type: ignore[type-arg]
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)
    since = TimeParamField(required=False, help_text="Only trades at or after this time.")


class Trade(serializers.Serializer):  # type: ignore[type-arg]
    market = serializers.CharField()
    sequential_id = serializers.IntegerField(help_text="Upbit's trade id: unique, not ordered.")
    stream_id = serializers.CharField(help_text="Redis stream entry id.")
    price = DecimalStringField()
    volume = DecimalStringField()
    side = serializers.ChoiceField(choices=["ASK", "BID"], required=False, help_text="Taker side.")
    prev_closing_price = DecimalStringField(required=False)
    change = serializers.ChoiceField(choices=["RISE", "EVEN", "FALL"], required=False)
    change_price = DecimalStringField(required=False)
    best_ask_price = DecimalStringField(required=False)
    best_ask_size = DecimalStringField(required=False)
    best_bid_price = DecimalStringField(required=False)
    best_bid_size = DecimalStringField(required=False)
    stream_type = serializers.CharField(required=False)
    source = serializers.CharField(required=False)  # type: ignore[assignment]  # a field, not Field.source
    trade_timestamp = EpochMsField()
    timestamp = EpochMsField(required=False)
    received_ms = EpochMsField(required=False)
    age_ms = serializers.IntegerField(allow_null=True)


class TradeList(serializers.Serializer):  # type: ignore[type-arg]
    market = serializers.CharField()
    server_time = EpochMsField()
    count = serializers.IntegerField()
    age_ms = serializers.IntegerField(allow_null=True, help_text="Age of the newest trade in the answer.")
    trades = Trade(many=True)


class OrderbookUnit(serializers.Serializer):  # type: ignore[type-arg]
    ask_price = DecimalStringField()
    ask_size = DecimalStringField()
    bid_price = DecimalStringField()
    bid_size = DecimalStringField()


class Orderbook(serializers.Serializer):  # type: ignore[type-arg]
    market = serializers.CharField()
    timestamp = EpochMsField(required=False)
    received_ms = EpochMsField(required=False)
    total_ask_size = DecimalStringField(required=False)
    total_bid_size = DecimalStringField(required=False)
    level = DecimalStringField(required=False)
    stream_type = serializers.CharField(required=False)
    best_ask_price = DecimalStringField(allow_null=True)
    best_bid_price = DecimalStringField(allow_null=True)
    spread = DecimalStringField(allow_null=True)
    units = OrderbookUnit(many=True)
    age_ms = serializers.IntegerField(allow_null=True)
