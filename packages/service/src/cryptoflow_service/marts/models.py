# Without the django-stubs mypy plugin (the root mypy config has none), model field types cannot be inferred.
# mypy: disable-error-code="var-annotated"
"""Unmanaged models of the `mart` schema. The batch package owns the DDL (see its migrations); Django never
creates, alters or flushes these tables."""

from __future__ import annotations

from django.db import models

from cryptoflow_service.common.models import NumericField


class MarketStats24h(models.Model):
    """One row per market per ticker snapshot."""

    pk = models.CompositePrimaryKey("market", "snapshot_at")
    market = models.TextField()
    quote = models.TextField()
    snapshot_at = models.DateTimeField()
    trade_price = NumericField(null=True)
    opening_price = NumericField(null=True)
    high_price = NumericField(null=True)
    low_price = NumericField(null=True)
    prev_closing_price = NumericField(null=True)
    change = models.TextField(null=True)
    signed_change_price = NumericField(null=True)
    signed_change_rate = NumericField(null=True)
    acc_trade_volume_24h = NumericField(null=True)
    acc_trade_price_24h = NumericField(null=True)
    trade_timestamp = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = '"mart"."market_stats_24h"'


class CandleBase(models.Model):
    pk = models.CompositePrimaryKey("market", "candle_start")
    market = models.TextField()
    candle_start = models.DateTimeField()
    opening_price = NumericField()
    high_price = NumericField()
    low_price = NumericField()
    trade_price = NumericField()
    """The close."""
    volume = NumericField()
    value = NumericField()
    last_trade_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField()

    class Meta:
        abstract = True


class Candle1d(CandleBase):
    """Closed UTC-day candles only."""

    class Meta:
        managed = False
        db_table = '"mart"."candles_1d"'


class Candle1m(CandleBase):
    """Minute candles; the newest bucket may still be open."""

    class Meta:
        managed = False
        db_table = '"mart"."candles_1m"'


class Indicator(models.Model):
    """Per market per UTC day, from closed daily candles; NULL until there is enough history."""

    pk = models.CompositePrimaryKey("market", "day")
    market = models.TextField()
    day = models.DateField()
    close = NumericField()
    ma_5 = NumericField(null=True)
    ma_20 = NumericField(null=True)
    ma_60 = NumericField(null=True)
    rsi_14 = NumericField(null=True)
    atr_14 = NumericField(null=True)
    avg_volume_30d = NumericField(null=True)
    golden_cross = models.BooleanField(default=False)
    dead_cross = models.BooleanField(default=False)
    updated_at = models.DateTimeField()
    """When the row's values last changed (batch migration 0003)."""

    class Meta:
        managed = False
        db_table = '"mart"."indicators"'


class Market(models.Model):
    """The cold path's market list (`/v1/market/all`)."""

    market = models.TextField(primary_key=True)
    quote = models.TextField()
    base = models.TextField()
    korean_name = models.TextField()
    english_name = models.TextField()
    warning = models.BooleanField()
    caution = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField()
    listing_interval_start = models.DateTimeField()

    class Meta:
        managed = False
        db_table = '"mart"."markets"'
