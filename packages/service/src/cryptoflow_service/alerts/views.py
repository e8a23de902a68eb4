"""Alert rules (CRUD, owner only) and fired alerts (owner only). Token authentication required."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cryptoflow_service.alerts import selectors, services
from cryptoflow_service.alerts.models import Alert, AlertRule
from cryptoflow_service.alerts.serializers import AlertFilter, AlertOut, RuleIn, RuleOut
from cryptoflow_service.common.errors import ErrorSerializer
from cryptoflow_service.common.pagination import StrictLimitOffsetPagination
from cryptoflow_service.common.params import StrictParams, not_found

AUTH_ERRORS = {401: ErrorSerializer, 403: ErrorSerializer, 503: ErrorSerializer}


def _owner_email(request: Request) -> str:
    return str(getattr(request.user, "email", "") or "")


@extend_schema_view(
    get=extend_schema(
        operation_id="alert_rules_list",
        summary="Your alert rules",
        responses={200: RuleOut(many=True), 400: ErrorSerializer, 404: ErrorSerializer, **AUTH_ERRORS},
    ),
    post=extend_schema(
        operation_id="alert_rules_create",
        summary="Create an alert rule",
        request=RuleIn,
        responses={201: RuleOut, 400: ErrorSerializer, **AUTH_ERRORS},
    ),
)
class AlertRuleListView(StrictParams, generics.ListAPIView):  # type: ignore[type-arg]
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = RuleOut
    pagination_class = StrictLimitOffsetPagination

    def get_queryset(self) -> QuerySet[AlertRule]:
        return selectors.rules_of(owner=self.request.user)

    def post(self, request: Request) -> Response:
        serializer = RuleIn(data=request.data, context={"owner_email": _owner_email(request)})
        serializer.is_valid(raise_exception=True)
        rule = services.rule_create(owner=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        return Response(RuleOut(rule).data, status=status.HTTP_201_CREATED)


class AlertRuleDetailView(StrictParams, APIView):
    permission_classes = [permissions.IsAuthenticated]

    def _rule(self, request: Request, rule_id: int) -> AlertRule:
        rule = selectors.rules_of(owner=request.user).filter(pk=rule_id).first() if rule_id < 2**63 else None
        if rule is None:
            raise not_found(f"You have no alert rule {rule_id}.")
        return rule

    @extend_schema(
        operation_id="alert_rules_retrieve",
        summary="One of your alert rules",
        responses={200: RuleOut, 404: ErrorSerializer, **AUTH_ERRORS},
    )
    def get(self, request: Request, rule_id: int) -> Response:
        return Response(RuleOut(self._rule(request, rule_id)).data)

    @extend_schema(
        operation_id="alert_rules_partial_update",
        summary="Change some fields of an alert rule",
        request=RuleIn(partial=True),
        responses={200: RuleOut, 400: ErrorSerializer, 404: ErrorSerializer, **AUTH_ERRORS},
    )
    def patch(self, request: Request, rule_id: int) -> Response:
        rule = self._rule(request, rule_id)
        current: dict[str, Any] = {
            "price_above": rule.price_above,
            "price_below": rule.price_below,
            "channels": rule.channels,
            "email_to": rule.email_to,
            "kind": rule.kind,
            "market": rule.market,
            "level": rule.level,
        }
        serializer = RuleIn(
            data=request.data,
            partial=True,
            context={"current": current, "owner_email": _owner_email(request)},
        )
        serializer.is_valid(raise_exception=True)
        rule = services.rule_update(rule=rule, **serializer.validated_data)
        return Response(RuleOut(rule).data)

    @extend_schema(
        operation_id="alert_rules_destroy",
        summary="Delete an alert rule (and its alerts)",
        responses={204: None, 404: ErrorSerializer, **AUTH_ERRORS},
    )
    def delete(self, request: Request, rule_id: int) -> Response:
        services.rule_delete(rule=self._rule(request, rule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        operation_id="alerts_list",
        summary="Alerts fired for your rules, with delivery status per channel",
        responses={200: AlertOut(many=True), 400: ErrorSerializer, 404: ErrorSerializer, **AUTH_ERRORS},
    )
)
class AlertListView(StrictParams, generics.ListAPIView):  # type: ignore[type-arg]
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = AlertOut
    pagination_class = StrictLimitOffsetPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = AlertFilter

    def get_queryset(self) -> QuerySet[Alert]:
        return selectors.alerts_of(owner=self.request.user)
