"""Every error is JSON: `{"status": 400, "detail": "<one clear sentence>", "errors": {field: [...]}}`.

DRF's own errors are reshaped here; Django's 404/500 (a path no route matches, an unexpected exception)
go through `not_found` and `server_error`. A Redis or PostgreSQL outage answers 503, not 500.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ServiceUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "A backing store is unavailable; try again shortly."
    default_code = "unavailable"


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The body of every error answer (documentation only)."""

    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(  # type: ignore[assignment]  # a field here, not Serializer.errors
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as `{"field.sub": ["message", ...]}`."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            flat.update(_flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix: [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix: [str(detail)]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, redis.RedisError):
        logger.warning("redis unavailable: %s", exc)
        exc = ServiceUnavailable("Redis is unavailable; try again shortly.")
    elif isinstance(exc, OperationalError | InterfaceError):
        logger.warning("postgresql unavailable: %s", exc)
        exc = ServiceUnavailable("PostgreSQL is unavailable; try again shortly.")
    elif isinstance(exc, DatabaseError):
        logger.exception("database error")
        exc = ServiceUnavailable("The database could not answer this request.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected exception: Django logs it and `server_error` answers
    body: dict[str, Any] = {"status": response.status_code}
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        body["detail"] = "; ".join(
            f"{field}: {' '.join(messages)}" if field else " ".join(messages)
            for field, messages in errors.items()
        )
        body["errors"] = errors
    else:
        body["detail"] = str(getattr(exc, "detail", exc))
    response.data = body
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return JsonResponse({"status": 404, "detail": f"No such resource: {request.path}"}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": 500, "detail": "Internal server error."}, status=500)
