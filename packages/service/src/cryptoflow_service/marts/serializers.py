"""Answer shapes and query parameters of the mart endpoints."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cryptoflow_service.common.fields import (
    DecimalStringField,
    EpochMsField,
    IsoTimeField,
    PriceScaleField,
    RatioField,
    TimeParamField,
)
from cryptoflow_service.common.timeutils import day_start, to_ms


class MarketStats(serializers.Serializer):  # type: ignore[type-arg]
    """A row of mart.market_stats_24h; values the snapshot lacked are null."""

    market = serializers.CharField()
    quote = serializers.CharField()
    snapshot_at = EpochMsField()
    snapshot_at_iso = IsoTimeField(source="snapshot_at")
    trade_price = DecimalStringField(allow_null=True)
    opening_price = DecimalStringField(allow_null=True)
    high_price = DecimalStringField(allow_null=True)
    low_price = DecimalStringField(allow_null=True)
    prev_closing_price = DecimalStringField(allow_null=True)
    change = serializers.CharField(allow_null=True)
    signed_change_price = DecimalStringField(allow_null=True)
    signed_change_rate = DecimalStringField(allow_null=True, help_text="0.015 = +1.5 %")
    acc_trade_volume_24h = DecimalStringField(allow_null=True)
    acc_trade_price_24h = DecimalStringField(allow_null=True)
    trade_timestamp = EpochMsField(allow_null=True)


class HistoryQuery(serializers.Serializer):  # type: ignore[type-arg]
    """`from` and `to` (Python keywords, hence added in `get_fields`), validated as `start` and `end`."""

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        fields = super().get_fields()
        fields["from"] = TimeParamField(
            required=False, source="start", help_text="From this time (inclusive)."
        )
        fields["to"] = TimeParamField(required=False, source="end", help_text="Up to this time (inclusive).")
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "start" in attrs and "end" in attrs and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError("from is after to")
        return attrs


class CandlesQuery(HistoryQuery):
    interval = serializers.ChoiceField(choices=["1d", "1h", "1m"], default="1d")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=2000, default=200)


class Candle(serializers.Serializer):  # type: ignore[type-arg]
    candle_start = EpochMsField(help_text="Bucket start, UTC epoch ms.")
    candle_start_iso = IsoTimeField(source="candle_start")
    opening_price = DecimalStringField()
    high_price = DecimalStringField()
    low_price = DecimalStringField()
    trade_price = DecimalStringField(help_text="The close.")
    volume = DecimalStringField()
    value = DecimalStringField()
    last_trade_at = EpochMsField(allow_null=True)


class CandleList(serializers.Serializer):  # type: ignore[type-arg]
    market = serializers.CharField()
    interval = serializers.CharField()
    count = serializers.IntegerField()
    candles = Candle(many=True)


class IndicatorsQuery(HistoryQuery):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=120)


PRICE_SCALE_INDICATORS = (
    "ma_5",
    "ma_20",
    "ma_60",
    "ma_120",
    "ema_12",
    "ema_26",
    "macd",
    "macd_signal",
    "macd_hist",
    "atr_14",
    "bb_middle",
    "bb_upper",
    "bb_lower",
    "avg_volume_30d",
)
RATIO_INDICATORS = ("rsi_14", "bb_percent_b", "volume_zscore_30d")


class IndicatorValues(serializers.Serializer):  # type: ignore[type-arg]
    """The indicator columns of mart.indicators / mart.indicators_1m, each rounded once (see the fields)."""

    close = DecimalStringField(help_text="The candle's close, exact.")
    golden_cross = serializers.BooleanField(help_text="MA5 crossed above MA20 on this candle.")
    dead_cross = serializers.BooleanField(help_text="MA5 crossed below MA20 on this candle.")

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        fields = super().get_fields()
        for name in PRICE_SCALE_INDICATORS:
            fields[name] = PriceScaleField(allow_null=True)
        for name in RATIO_INDICATORS:
            fields[name] = RatioField(allow_null=True)
        fields["updated_at"] = EpochMsField(required=False, help_text="When the engine last changed the row.")
        return fields


class IndicatorRow(IndicatorValues):
    day = serializers.DateField(help_text="UTC day.")
    day_start = serializers.SerializerMethodField(help_text="The day's start, UTC epoch ms.")

    def get_day_start(self, row: Any) -> int:
        return to_ms(day_start(row.day))


class IndicatorList(serializers.Serializer):  # type: ignore[type-arg]
    market = serializers.CharField()
    count = serializers.IntegerField()
    latest = IndicatorRow(allow_null=True)
    history = IndicatorRow(many=True)


class MarketCandlesQuery(CandlesQuery):
    market = serializers.CharField(help_text="Market code, e.g. KRW-BTC (any case).")


class ArchivedTradesQuery(serializers.Serializer):  # type: ignore[type-arg]
    """Cursor pagination over the archive: `before` / `after` take a `next` / `prev` cursor
    (`<trade_timestamp>-<sequential_id>`); `from` / `to` bound the trade time."""

    market = serializers.CharField(help_text="Market code, e.g. KRW-BTC (any case).")
    before = serializers.RegexField(r"^\d+-\d+$", required=False, help_text="Trades older than this cursor.")
    after = serializers.RegexField(r"^\d+-\d+$", required=False, help_text="Trades newer than this cursor.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        fields = super().get_fields()
        fields["from"] = TimeParamField(
            required=False, source="start", help_text="From this time (inclusive)."
        )
        fields["to"] = TimeParamField(required=False, source="end", help_text="Up to this time (inclusive).")
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError("give before or after, not both")
        return attrs


class ArchivedTradeOut(serializers.Serializer):  # type: ignore[type-arg]
    sequential_id = serializers.IntegerField()
    trade_timestamp = serializers.IntegerField(help_text="UTC epoch ms.")
    price = DecimalStringField()
    volume = DecimalStringField()
    side = serializers.CharField()
    received_ms = serializers.IntegerField()
    source = serializers.CharField(help_text="ws, rest-backfill or rest-repair.")  # type: ignore[assignment]  # the column is named source


class ArchivedTradePage(serializers.Serializer):  # type: ignore[type-arg]
    market = serializers.CharField()
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True, help_text="URL of the older page (newest-first order).")
    previous = serializers.CharField(allow_null=True, help_text="URL of the newer page.")
    trades = ArchivedTradeOut(many=True)
