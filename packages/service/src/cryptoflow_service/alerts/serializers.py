"""Alert rule input/output and fired alert output."""

from __future__ import annotations

from typing import Any

import django_filters
from rest_framework import serializers

from cryptoflow_service.alerts.models import LEVEL_KINDS, Alert, Channel, DeliveryStatus, RuleKind
from cryptoflow_service.analysis.serializers import SignalOut
from cryptoflow_service.common.fields import DecimalInputField, EpochMsField, MarketField
from cryptoflow_service.markets.selectors import unknown_markets

HUNDRED = 100


class RuleIn(serializers.Serializer):  # type: ignore[type-arg]
    """Signal kinds (`any`, `golden_cross`, `dead_cross`, `volume_spike`) fire on each new signal, filtered
    by the optional `price_above` / `price_below` / `min_change_percent`. Level kinds need `market` and
    `level` and fire once per crossing: `price_crosses_above|below` (the live price, KRW etc.),
    `change_24h_beyond` (|24 h change| in %, e.g. 5), `rsi_above|below` (daily RSI 14, 0-100)."""

    name = serializers.CharField(max_length=100)
    market = MarketField(
        required=False,
        allow_null=True,
        help_text="Any case; a market CryptoFlow knows. null or absent = every market (signal kinds).",
    )
    kind = serializers.ChoiceField(choices=RuleKind.choices, default=RuleKind.ANY)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices), min_length=1, max_length=len(Channel.choices)
    )
    email_to = serializers.EmailField(
        required=False, allow_blank=True, help_text="Default: the owner's address."
    )
    price_above = DecimalInputField(required=False, allow_null=True, min_value=0)
    price_below = DecimalInputField(required=False, allow_null=True, min_value=0)
    min_change_percent = DecimalInputField(required=False, allow_null=True, min_value=0)
    level = DecimalInputField(
        required=False, allow_null=True, min_value=0, help_text="Level kinds: the price, % or RSI to cross."
    )
    enabled = serializers.BooleanField(default=True)

    def validate_market(self, value: str | None) -> str | None:
        if value is not None and unknown_markets(markets=[value]):
            raise serializers.ValidationError(f"unknown market: {value}.")
        return value

    def validate_channels(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("a channel is listed twice")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merged = {**self.context.get("current", {}), **attrs}
        above, below = merged.get("price_above"), merged.get("price_below")
        if above is not None and below is not None and above > below:
            raise serializers.ValidationError({"price_above": ["must not be greater than price_below"]})
        kind = merged.get("kind", RuleKind.ANY)
        if kind in LEVEL_KINDS:
            level = merged.get("level")
            if not merged.get("market"):
                raise serializers.ValidationError({"market": [f"a {kind} rule needs a market"]})
            if level is None:
                raise serializers.ValidationError({"level": [f"a {kind} rule needs a level"]})
            if kind in (RuleKind.RSI_ABOVE, RuleKind.RSI_BELOW) and not 0 < level < HUNDRED:
                raise serializers.ValidationError({"level": ["an RSI level is between 0 and 100"]})
            if level == 0:
                raise serializers.ValidationError({"level": ["must be greater than 0"]})
        elif merged.get("level") is not None:
            raise serializers.ValidationError({"level": [f"a {kind} rule has no level"]})
        if Channel.EMAIL in merged.get("channels", []) and not (
            merged.get("email_to") or self.context.get("owner_email")
        ):
            raise serializers.ValidationError(
                {"email_to": ["the email channel needs email_to (your account has no e-mail address)"]}
            )
        return attrs


class RuleOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
    market = serializers.CharField(allow_null=True)
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    channels = serializers.ListField(child=serializers.ChoiceField(choices=Channel.choices))
    email_to = serializers.CharField()
    price_above = DecimalInputField(allow_null=True)
    price_below = DecimalInputField(allow_null=True)
    min_change_percent = DecimalInputField(allow_null=True)
    level = DecimalInputField(allow_null=True)
    armed = serializers.BooleanField(
        allow_null=True,
        help_text="Level kinds: true = the next crossing fires; false = fired (or already true), waiting for "
        "the condition to be false; null = not evaluated yet.",
    )
    crossings = serializers.IntegerField(help_text="Level kinds: how many times the rule fired.")
    last_value = DecimalInputField(allow_null=True, help_text="Level kinds: the value last seen.")
    enabled = serializers.BooleanField()
    created_at = EpochMsField()
    updated_at = EpochMsField()


class DeliveryOut(serializers.Serializer):  # type: ignore[type-arg]
    channel = serializers.ChoiceField(choices=Channel.choices)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    sent_at = EpochMsField(allow_null=True)
    updated_at = EpochMsField()


class RuleRef(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()


class AlertOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    rule = RuleRef()
    market = serializers.CharField()
    signal = SignalOut(
        allow_null=True, help_text="The signal that fired a signal rule; null for level rules."
    )
    crossing = serializers.IntegerField(allow_null=True, help_text="Level rules: the rule's n-th firing.")
    value = DecimalInputField(allow_null=True, help_text="Level rules: the value that crossed the level.")
    message = serializers.CharField()
    created_at = EpochMsField()
    deliveries = DeliveryOut(many=True, source="deliveries.all")


class AlertFilter(django_filters.FilterSet):  # type: ignore[misc]  # django_filters is untyped
    rule = django_filters.NumberFilter(field_name="rule_id", min_value=1, max_value=2**62)
    market = django_filters.CharFilter(field_name="market", max_length=40)
    status = django_filters.ChoiceFilter(
        field_name="deliveries__status", choices=DeliveryStatus.choices, distinct=True
    )

    class Meta:
        model = Alert
        fields: list[str] = []
