"""Writes of alerting: rules (owned by token holders), firing alerts for new signals, delivery attempts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q

from cryptoflow_contracts.backoff import BackoffPolicy
from cryptoflow_service.alerts import levels
from cryptoflow_service.alerts.channels import SENDERS, ChannelError, Message
from cryptoflow_service.alerts.models import (
    SIGNAL_KINDS,
    Alert,
    AlertRule,
    Delivery,
    DeliveryStatus,
    RuleKind,
)
from cryptoflow_service.analysis.models import Signal, SignalKind
from cryptoflow_service.common.conf import service_config
from cryptoflow_service.common.db import insert_ignore_returning_ids
from cryptoflow_service.common.fields import decimal_string
from cryptoflow_service.common.timeutils import iso

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
"""An attempt still `sending` after this is taken to have died with its worker and may be taken over."""
RULE_FIELDS = (
    "name",
    "market",
    "kind",
    "channels",
    "email_to",
    "price_above",
    "price_below",
    "min_change_percent",
    "level",
    "enabled",
)


def rule_create(*, owner: AbstractBaseUser, **fields: Any) -> AlertRule:
    """A new rule; a level rule is armed from the value it sees now (already true: it waits for the
    condition to be false before it can fire)."""
    rule = AlertRule(owner=owner, **{name: value for name, value in fields.items() if name in RULE_FIELDS})
    for name, value in levels.reset_fields(rule, {"level": rule.level}).items():
        setattr(rule, name, value)
    rule.save()
    return rule


def rule_update(*, rule: AlertRule, **fields: Any) -> AlertRule:
    for name, value in fields.items():
        if name in RULE_FIELDS:
            setattr(rule, name, value)
    for name, value in levels.reset_fields(rule, fields).items():
        setattr(rule, name, value)
    rule.save()
    return rule


def rule_delete(*, rule: AlertRule) -> None:
    rule.delete()


def rule_matches(rule: AlertRule, signal: Signal) -> bool:
    checks = (
        rule.enabled,
        not rule.market or rule.market == signal.market,
        rule.kind in (RuleKind.ANY, signal.kind),
        rule.price_above is None or signal.price >= rule.price_above,
        rule.price_below is None or signal.price <= rule.price_below,
        rule.min_change_percent is None
        or (signal.change_percent is not None and abs(signal.change_percent) >= rule.min_change_percent),
    )
    return all(checks)


def describe(signal: Signal) -> tuple[str, str]:
    """Subject and text of the alert for `signal`."""
    when = iso(signal.candle_start)
    change = (
        f", change {decimal_string(signal.change_percent.quantize(Decimal('0.01')))}%"
        if signal.change_percent is not None
        else ""
    )
    price = decimal_string(signal.price)
    if signal.kind == SignalKind.VOLUME_SPIKE:
        subject = f"[CryptoFlow] Volume spike on {signal.market}"
        text = (
            f"{signal.market}: today's volume {decimal_string(signal.short_value or Decimal(0))} vs 30-day "
            f"average {decimal_string(signal.long_value or Decimal(0))} (day {when}); price {price}{change}."
        )
        return subject, text
    label = "Golden cross" if signal.kind == SignalKind.GOLDEN_CROSS else "Dead cross"
    window = f"MA{signal.short_window}/MA{signal.long_window}"
    subject = f"[CryptoFlow] {label} on {signal.market} ({signal.interval}, {window})"
    text = (
        f"{signal.market} {signal.interval} candle {when}: MA{signal.short_window} "
        f"{decimal_string(signal.short_value or Decimal(0))} crossed "
        f"{'above' if signal.kind == SignalKind.GOLDEN_CROSS else 'below'} MA{signal.long_window} "
        f"{decimal_string(signal.long_value or Decimal(0))}; close {price}{change}."
    )
    return subject, text


def fire_alerts(*, signals: Sequence[Signal]) -> list[int]:
    """Create the alerts (one per matching rule) and deliveries (one per channel) for new `signals`, and
    queue the deliveries once the surrounding transaction commits. Returns the new delivery ids.
    Idempotent: an alert or delivery that exists already is skipped."""
    if not signals:
        return []
    rules = list(AlertRule.objects.filter(enabled=True, kind__in=list(SIGNAL_KINDS)).select_related("owner"))
    now = datetime.now(UTC)
    alert_rows: list[dict[str, Any]] = []
    channels_by_pair: dict[tuple[int, int], list[str]] = {}
    for signal in signals:
        subject, text = describe(signal)
        for rule in rules:
            if rule_matches(rule, signal):
                alert_rows.append(
                    {
                        "rule_id": rule.pk,
                        "signal_id": signal.pk,
                        "market": signal.market,
                        "message": f"{subject}\n{text}",
                        "created_at": now,
                    }
                )
                channels_by_pair[(rule.pk, signal.pk)] = list(rule.channels)
    alert_ids = insert_ignore_returning_ids(Alert, alert_rows, constraint="alert_once")
    delivery_rows: list[dict[str, Any]] = []
    for alert_id, rule_id, signal_id in Alert.objects.filter(pk__in=alert_ids).values_list(
        "pk", "rule", "signal"
    ):
        for channel in channels_by_pair[(rule_id, signal_id)]:
            delivery_rows.append(
                {
                    "alert_id": alert_id,
                    "channel": channel,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "last_error": "",
                    "updated_at": now,
                }
            )
    delivery_ids = insert_ignore_returning_ids(Delivery, delivery_rows, constraint="delivery_once")
    if delivery_ids:
        transaction.on_commit(lambda: enqueue_deliveries(delivery_ids))
    logger.info("%d signals -> %d alerts, %d deliveries", len(signals), len(alert_ids), len(delivery_ids))
    return delivery_ids


def enqueue_deliveries(delivery_ids: Sequence[int]) -> None:
    from cryptoflow_service.alerts.tasks import deliver  # noqa: PLC0415 - tasks import this module

    for delivery_id in delivery_ids:
        deliver.delay(delivery_id)


@dataclass(frozen=True, slots=True)
class Attempt:
    status: str
    """`sent`, `retrying`, `failed`, or `skipped` (someone else has it, or it is done)."""
    attempts: int = 0
    retry_in_s: float | None = None
    error: str = ""


def backoff_s(attempt: int) -> float:
    """The workspace's one backoff policy (`cryptoflow_contracts.backoff`): a uniform draw in [d/2, d],
    d = min(max, base * 2**(attempt-1))."""
    config = service_config()
    return BackoffPolicy(config.alert_retry_backoff_s, config.alert_retry_backoff_max_s).delay(attempt)


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take the delivery for one attempt; False if it is done, failed for good, or being attempted."""
    claimable = Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]) | Q(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - CLAIM_LEASE
    )
    claimed = Delivery.objects.filter(claimable, pk=delivery_id).update(
        status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
    )
    return claimed == 1


def attempt_delivery(*, delivery_id: int) -> Attempt:
    """One attempt at sending a delivery through its channel; records the outcome on the row."""
    now = datetime.now(UTC)
    if not _claim(delivery_id, now):
        return Attempt(status="skipped")
    delivery = Delivery.objects.select_related("alert__rule__owner").get(pk=delivery_id)
    rule = delivery.alert.rule
    subject, _, text = delivery.alert.message.partition("\n")
    email_to = rule.email_to or getattr(rule.owner, "email", "")
    try:
        SENDERS[delivery.channel](Message(subject=subject, text=text, email_to=email_to))
    except ChannelError as exc:
        max_attempts = 1 + service_config().alert_max_retries
        final = not exc.retryable or delivery.attempts >= max_attempts
        status = DeliveryStatus.FAILED if final else DeliveryStatus.RETRYING
        Delivery.objects.filter(pk=delivery_id).update(
            status=status, last_error=str(exc)[:2000], updated_at=datetime.now(UTC)
        )
        logger.warning(
            "delivery %d (%s) attempt %d failed: %s", delivery_id, delivery.channel, delivery.attempts, exc
        )
        return Attempt(
            status=status.value,
            attempts=delivery.attempts,
            retry_in_s=None if final else backoff_s(delivery.attempts),
            error=str(exc),
        )
    Delivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.SENT, sent_at=datetime.now(UTC), updated_at=datetime.now(UTC)
    )
    logger.info("delivery %d (%s) sent on attempt %d", delivery_id, delivery.channel, delivery.attempts)
    return Attempt(status=DeliveryStatus.SENT.value, attempts=delivery.attempts)


def stalled_deliveries(*, older_than: timedelta) -> list[int]:
    """Deliveries whose queued task was lost (a crash between commit and enqueue, or a dead worker)."""
    now = datetime.now(UTC)
    longest_wait = timedelta(seconds=service_config().alert_retry_backoff_max_s)
    return list(
        Delivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, updated_at__lt=now - older_than)
            | Q(status=DeliveryStatus.RETRYING, updated_at__lt=now - older_than - longest_wait)
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - CLAIM_LEASE)
        ).values_list("pk", flat=True)
    )
