# Without the django-stubs mypy plugin (the root mypy config has none), model field types cannot be inferred.
# mypy: disable-error-code="var-annotated"
"""Alert rules, fired alerts and per-channel deliveries (public schema, Django migrations)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cryptoflow_service.analysis.models import Signal
from cryptoflow_service.common.models import NumericField


class Channel(models.TextChoices):
    LOG = "log", "Log line"
    EMAIL = "email", "E-mail (SMTP)"
    SLACK = "slack", "Slack incoming webhook"


class RuleKind(models.TextChoices):
    ANY = "any", "Any signal"
    GOLDEN_CROSS = "golden_cross", "Golden cross (MA5 crosses above MA20)"
    DEAD_CROSS = "dead_cross", "Dead cross (MA5 crosses below MA20)"
    VOLUME_SPIKE = "volume_spike", "Volume spike"
    PRICE_CROSSES_ABOVE = "price_crosses_above", "Live price crosses above `level`"
    PRICE_CROSSES_BELOW = "price_crosses_below", "Live price crosses below `level`"
    CHANGE_24H_BEYOND = "change_24h_beyond", "24 h change goes beyond +/- `level` %"
    RSI_ABOVE = "rsi_above", "Daily RSI 14 crosses above `level`"
    RSI_BELOW = "rsi_below", "Daily RSI 14 crosses below `level`"


SIGNAL_KINDS = frozenset({RuleKind.ANY, RuleKind.GOLDEN_CROSS, RuleKind.DEAD_CROSS, RuleKind.VOLUME_SPIKE})
"""Rules fired by a new signal (each signal is one crossing already)."""
LIVE_LEVEL_KINDS = frozenset({RuleKind.PRICE_CROSSES_ABOVE, RuleKind.PRICE_CROSSES_BELOW})
"""Level rules evaluated on the live Redis tickers, within seconds."""
MART_LEVEL_KINDS = frozenset({RuleKind.CHANGE_24H_BEYOND, RuleKind.RSI_ABOVE, RuleKind.RSI_BELOW})
"""Level rules evaluated on the marts (24 h stats, daily indicators)."""
LEVEL_KINDS = LIVE_LEVEL_KINDS | MART_LEVEL_KINDS


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting for its first attempt"
    SENDING = "sending", "An attempt is running"
    RETRYING = "retrying", "Failed; another attempt is scheduled"
    SENT = "sent", "Delivered"
    FAILED = "failed", "Failed after the last retry"


class AlertRule(models.Model):
    """Signal kinds: fire an alert for every new signal of `kind` on `market` (None = every market) that
    passes the optional thresholds. Level kinds: fire once each time `market`'s value crosses `level`,
    re-armed only after the condition has been seen false. Each alert goes out through every channel."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=100)
    market = models.TextField(null=True, blank=True)
    kind = models.TextField(choices=RuleKind.choices, default=RuleKind.ANY)
    channels = models.JSONField(default=list)
    """A non-empty subset of `Channel` values."""
    email_to = models.EmailField(blank=True, default="")
    """Recipient for the e-mail channel; empty = the owner's address."""
    price_above = NumericField(null=True, blank=True)
    """Only when the signal's price is at least this."""
    price_below = NumericField(null=True, blank=True)
    """Only when the signal's price is at most this."""
    min_change_percent = NumericField(null=True, blank=True)
    """Only when the signal's |change %| is at least this."""
    level = NumericField(null=True, blank=True)
    """Level kinds: the price, the |24 h change| in %, or the RSI the rule watches."""
    armed = models.BooleanField(null=True, default=None)
    """Level kinds: True = the condition was last seen false (the next true fires); False = it fired (or
    was already true when the rule was made) and waits for the condition to be false; None = not seen."""
    crossings = models.PositiveIntegerField(default=0)
    """Level kinds: how many times the rule fired; the alert of the n-th firing has `crossing` n."""
    last_value = NumericField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "service_alert_rule"
        indexes = [models.Index(fields=["owner", "-created_at"], name="alert_rule_owner")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind} on {self.market or 'every market'})"


class Alert(models.Model):
    """One rule fired by one signal, or by one crossing of its level: at most once each (unique), whatever
    retries or races happen."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="alerts", null=True)
    crossing = models.PositiveIntegerField(null=True)
    """Level rules: the rule's n-th firing."""
    market = models.TextField(default="")
    value = NumericField(null=True)
    """Level rules: the observed price, 24 h change (%) or RSI that crossed the level."""
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "service_alert"
        constraints = [
            models.UniqueConstraint(fields=["rule", "signal"], name="alert_once"),
            models.UniqueConstraint(fields=["rule", "crossing"], name="alert_once_per_crossing"),
        ]
        indexes = [models.Index(fields=["-created_at"], name="alert_created")]


class Delivery(models.Model):
    """An alert sent through one channel; each channel retries on its own and never blocks another."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.TextField(choices=Channel.choices)
    status = models.TextField(choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    claimed_at = models.DateTimeField(null=True)
    """Start of the running attempt (status `sending`); a stale claim may be taken over."""
    sent_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "service_delivery"
        constraints = [models.UniqueConstraint(fields=["alert", "channel"], name="delivery_once")]
