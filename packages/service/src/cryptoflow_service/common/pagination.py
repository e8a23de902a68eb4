"""Limit/offset pagination that answers 400 to a malformed `limit` or `offset` instead of ignoring it."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request


class StrictLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500
    max_offset = 1_000_000

    def get_limit(self, request: Request) -> int:
        return self._read(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request: Request) -> int:
        return self._read(request, self.offset_query_param, 0, 0, self.max_offset)

    @staticmethod
    def _read(request: Request, name: str, default: int, low: int, high: int) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        field = serializers.IntegerField(min_value=low, max_value=high)
        try:
            value: int = field.run_validation(raw)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({name: exc.detail}) from None
        return value
