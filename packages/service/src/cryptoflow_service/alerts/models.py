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
    GOLDEN_CROSS = "golden_cross", "Golden cross"
    DEAD_CROSS = "dead_cross", "Dead cross"
    VOLUME_SPIKE = "volume_spike", "Volume spike"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting for its first attempt"
    SENDING = "sending", "An attempt is running"
    RETRYING = "retrying", "Failed; another attempt is scheduled"
    SENT = "sent", "Delivered"
    FAILED = "failed", "Failed after the last retry"


class AlertRule(models.Model):
    """Fire an alert for every new signal of `kind` on `market` (None = every market) that passes the
    optional thresholds, through each of `channels`."""

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
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "service_alert_rule"
        indexes = [models.Index(fields=["owner", "-created_at"], name="alert_rule_owner")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind} on {self.market or 'every market'})"


class Alert(models.Model):
    """One rule fired by one signal: at most once (unique), whatever retries or races happen."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="alerts")
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "service_alert"
        constraints = [models.UniqueConstraint(fields=["rule", "signal"], name="alert_once")]
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
