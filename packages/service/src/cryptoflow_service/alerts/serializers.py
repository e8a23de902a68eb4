"""Alert rule input/output and fired alert output."""

from __future__ import annotations

from typing import Any

import django_filters
from rest_framework import serializers

from cryptoflow_service.alerts.models import Alert, Channel, DeliveryStatus, RuleKind
from cryptoflow_service.analysis.serializers import SignalOut
from cryptoflow_service.common.fields import DecimalInputField, EpochMsField, MarketField


class RuleIn(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=100)
    market = MarketField(required=False, allow_null=True, help_text="null or absent = every market.")
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
    enabled = serializers.BooleanField(default=True)

    def validate_channels(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("a channel is listed twice")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merged = {**self.context.get("current", {}), **attrs}
        above, below = merged.get("price_above"), merged.get("price_below")
        if above is not None and below is not None and above > below:
            raise serializers.ValidationError({"price_above": ["must not be greater than price_below"]})
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
    signal = SignalOut()
    message = serializers.CharField()
    created_at = EpochMsField()
    deliveries = DeliveryOut(many=True, source="deliveries.all")


class AlertFilter(django_filters.FilterSet):  # type: ignore[misc]  # django_filters is untyped
    rule = django_filters.NumberFilter(field_name="rule_id", min_value=1, max_value=2**62)
    market = django_filters.CharFilter(field_name="signal__market", max_length=40)
    status = django_filters.ChoiceFilter(
        field_name="deliveries__status", choices=DeliveryStatus.choices, distinct=True
    )

    class Meta:
        model = Alert
        fields: list[str] = []
