"""Request parameter helpers for views: validate or answer 400, never let bad input reach a store."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, serializers
from rest_framework.request import Request

from cryptoflow_service.common.markets import normalize_market


def path_market(raw: str) -> str:
    """The market code from the URL path, upper case; 400 if it is not one."""
    market = normalize_market(raw)
    if market is None:
        raise exceptions.ValidationError({"market": [f"'{raw[:40]}' is not a market code like KRW-BTC."]})
    return market


def query(request: Request, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:  # type: ignore[type-arg]
    """The validated query parameters (400 with every problem named otherwise)."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def not_found(message: str) -> exceptions.NotFound:
    return exceptions.NotFound(message)
