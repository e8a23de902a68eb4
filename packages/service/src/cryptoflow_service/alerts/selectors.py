"""Reads of a token holder's alert rules and fired alerts."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from cryptoflow_service.alerts.models import Alert, AlertRule, Delivery


def rules_of(*, owner: AbstractBaseUser | AnonymousUser) -> QuerySet[AlertRule]:
    return AlertRule.objects.filter(owner_id=owner.pk).order_by("-created_at", "-pk")


def alerts_of(*, owner: AbstractBaseUser | AnonymousUser) -> QuerySet[Alert]:
    return (
        Alert.objects.filter(rule__owner_id=owner.pk)
        .select_related("rule", "signal")
        .prefetch_related(Prefetch("deliveries", queryset=Delivery.objects.order_by("channel")))
        .order_by("-created_at", "-pk")
    )
