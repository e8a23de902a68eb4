# Without the django-stubs mypy plugin (the root mypy config has none), model field types cannot be inferred.
# mypy: disable-error-code="var-annotated"
"""The service's own analysis tables (public schema, Django migrations)."""

from __future__ import annotations

from django.db import models

from cryptoflow_service.common.models import NumericField


class SignalKind(models.TextChoices):
    GOLDEN_CROSS = "golden_cross", "Golden cross (short MA crossed above long MA)"
    DEAD_CROSS = "dead_cross", "Dead cross (short MA crossed below long MA)"
    VOLUME_SPIKE = "volume_spike", "Today's volume at least N times the 30-day average"


class Interval(models.TextChoices):
    DAY = "1d", "1 day"
    MINUTE = "1m", "1 minute"


class Signal(models.Model):
    """Something detected once per (market, kind, interval, windows, candle): the unique constraint makes
    detection idempotent even when two workers race (inserts use ON CONFLICT DO NOTHING)."""

    market = models.TextField()
    kind = models.TextField(choices=SignalKind.choices)
    interval = models.TextField(choices=Interval.choices)
    short_window = models.PositiveIntegerField()
    """Crosses: the short MA window. Volume spikes: 1 (today)."""
    long_window = models.PositiveIntegerField()
    """Crosses: the long MA window. Volume spikes: the baseline's days (30)."""
    candle_start = models.DateTimeField()
    """Start of the candle (bucket) the signal belongs to."""
    price = NumericField()
    """Close of the candle (crosses) or the live price (volume spikes)."""
    change_percent = NumericField(null=True)
    """Crosses: the candle's close against the previous close, in %. Volume spikes: today's change, in %."""
    short_value = NumericField(null=True)
    """Crosses: the short MA. Volume spikes: today's volume."""
    long_value = NumericField(null=True)
    """Crosses: the long MA. Volume spikes: the 30-day average volume."""
    detected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "service_signal"
        constraints = [
            models.UniqueConstraint(
                fields=["market", "kind", "interval", "short_window", "long_window", "candle_start"],
                name="signal_once",
            )
        ]
        indexes = [models.Index(fields=["-candle_start"], name="signal_candle_start")]

    def __str__(self) -> str:
        windows = f"MA{self.short_window}/{self.long_window}"
        return f"{self.kind} {self.market} {self.interval} {windows} @ {self.candle_start}"


class TrendReport(models.Model):
    """The daily trend scan: one row per market per UTC day (of the last closed daily candle)."""

    market = models.TextField()
    day = models.DateField()
    close = NumericField()
    ma_5 = NumericField(null=True)
    ma_20 = NumericField(null=True)
    ma_60 = NumericField(null=True)
    rsi_14 = NumericField(null=True)
    change_percent_20d = NumericField(null=True)
    score = NumericField()
    """0-100; see `cryptoflow_service.analysis.scoring.trend_score`."""
    trend = models.TextField()
    """`up` | `down` | `sideways`."""
    top_pick = models.BooleanField(default=False)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "service_trend_report"
        constraints = [models.UniqueConstraint(fields=["market", "day"], name="trend_report_once")]
        indexes = [models.Index(fields=["day", "-score"], name="trend_report_day_score")]


class VolumeBaseline(models.Model):
    """Per market per UTC day: the 30-day average daily volume and ATR(14) from closed daily candles, and
    today's live volume against them."""

    market = models.TextField()
    day = models.DateField()
    avg_volume_30d = NumericField()
    atr_14 = NumericField(null=True)
    today_volume = NumericField(null=True)
    volume_ratio = NumericField(null=True)
    today_range = NumericField(null=True)
    """Today's high - low so far."""
    range_atr_ratio = NumericField(null=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "service_volume_baseline"
        constraints = [models.UniqueConstraint(fields=["market", "day"], name="volume_baseline_once")]


class ScanWatermark(models.Model):
    """What the analyses last scanned: `max(updated_at)` of an indicator table when its scan ran. A scan
    runs only when the table has moved past it (see `services.scan_if_changed`)."""

    name = models.TextField(primary_key=True)
    """`indicators_1d` or `indicators_1m`."""
    seen = models.DateTimeField(null=True)
    scanned_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "service_scan_watermark"
