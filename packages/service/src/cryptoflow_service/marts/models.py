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


class Candle1h(CandleBase):
    """Hour candles from the trade-built minute candles; the newest bucket may still be open."""

    class Meta:
        managed = False
        db_table = '"mart"."candles_1h"'


class ArchivedTrade(models.Model):
    """One archived trade (`lake.trades`, written by cryptoflow-archive). Times are UTC epoch ms."""

    pk = models.CompositePrimaryKey("market", "trade_timestamp", "sequential_id")
    market = models.TextField()
    trade_timestamp = models.BigIntegerField()
    sequential_id = models.BigIntegerField()
    price = NumericField()
    volume = NumericField()
    side = models.TextField()
    received_ms = models.BigIntegerField()
    source = models.TextField()

    class Meta:
        managed = False
        db_table = '"lake"."trades"'


class IndicatorBase(models.Model):
    """The columns both indicator tables share (the batch package's one engine computes them, as TA-Lib
    does: SMA, EMA, MACD 12/26/9, Wilder's RSI 14 and ATR 14, Bollinger 20/2 with %B, 30-period volume
    mean and z-score, MA5/MA20 crosses). NULL until there is enough history. Full-precision numerics:
    the API rounds them once, in `cryptoflow_service.common.fields`. The `state_*` columns are the
    engine's private smoothing state and are not mapped."""

    close = NumericField()
    ma_5 = NumericField(null=True)
    ma_20 = NumericField(null=True)
    ma_60 = NumericField(null=True)
    ma_120 = NumericField(null=True)
    ema_12 = NumericField(null=True)
    ema_26 = NumericField(null=True)
    macd = NumericField(null=True)
    macd_signal = NumericField(null=True)
    macd_hist = NumericField(null=True)
    rsi_14 = NumericField(null=True)
    atr_14 = NumericField(null=True)
    bb_middle = NumericField(null=True)
    bb_upper = NumericField(null=True)
    bb_lower = NumericField(null=True)
    bb_percent_b = NumericField(null=True)
    avg_volume_30d = NumericField(null=True)
    volume_zscore_30d = NumericField(null=True)
    golden_cross = models.BooleanField(default=False)
    """MA5 above MA20 on this candle and not on the one before."""
    dead_cross = models.BooleanField(default=False)
    updated_at = models.DateTimeField()
    """Changes only when the row's values change: `max(updated_at)` tells readers the table changed."""

    class Meta:
        abstract = True


class Indicator(IndicatorBase):
    """Per market per UTC day, from closed daily candles."""

    pk = models.CompositePrimaryKey("market", "day")
    market = models.TextField()
    day = models.DateField()

    class Meta:
        managed = False
        db_table = '"mart"."indicators"'


class Indicator1m(IndicatorBase):
    """Per market per minute, from `mart.candles_1m` (the newest minute may still be open);
    `avg_volume_30d` / `volume_zscore_30d` are over 30 minutes here."""

    pk = models.CompositePrimaryKey("market", "candle_start")
    market = models.TextField()
    candle_start = models.DateTimeField()

    class Meta:
        managed = False
        db_table = '"mart"."indicators_1m"'


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
