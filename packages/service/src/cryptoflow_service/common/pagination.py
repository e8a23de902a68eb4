"""The pagination of every list endpoint: `limit` / `offset`, or `page` / `page_size` (page numbers from 1).

A malformed value is a 400 (never ignored); mixing the two styles is a 400; a page past the last is a
404 that names the page count. The answer is the same either way (`count`, `next`, `previous`,
`results`); in page style the `next` / `previous` links carry `page`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions, serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param


class StrictLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500
    max_offset = 1_000_000
    page_query_param = "page"
    page_size_query_param = "page_size"
    max_page = 1_000_000

    page: int | None = None
    """The requested page in page style, None in limit/offset style."""

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        params = request.query_params
        paged = self.page_query_param in params or self.page_size_query_param in params
        if paged and (self.limit_query_param in params or self.offset_query_param in params):
            raise serializers.ValidationError(
                {self.page_query_param: ["give page/page_size or limit/offset, not both."]}
            )
        self.page = self._read(request, self.page_query_param, 1, 1, self.max_page) if paged else None
        rows = super().paginate_queryset(queryset, request, view)
        if self.page is not None and self.limit is not None and self.count is not None:
            pages = max(1, -(-self.count // self.limit))
            if self.page > pages:
                there = "is 1 page" if pages == 1 else f"are {pages} pages"
                raise exceptions.NotFound(
                    f"Page {self.page} does not exist: there {there} of {self.limit} (count {self.count})."
                )
        return rows

    def get_limit(self, request: Request) -> int:
        if self.page is not None:
            return self._read(request, self.page_size_query_param, self.default_limit, 1, self.max_limit)
        return self._read(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request: Request) -> int:
        if self.page is not None:
            return (self.page - 1) * self.get_limit(request)
        return self._read(request, self.offset_query_param, 0, 0, self.max_offset)

    def get_next_link(self) -> str | None:
        if self.page is None:
            return super().get_next_link()
        if self.limit is None or self.offset is None or self.count is None or self.request is None:
            return None
        if self.offset + self.limit >= self.count:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, self.page + 1)

    def get_previous_link(self) -> str | None:
        if self.page is None:
            return super().get_previous_link()
        if self.page <= 1 or self.request is None:
            return None
        url = self.request.build_absolute_uri()
        if self.page == 2:  # the page before is the first: no `page` at all
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.page - 1)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        parameters += [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number (from 1), instead of offset; past the last page: 404.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page with `page` (default {self.default_limit}), instead of limit.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
            },
        ]
        for parameter in parameters:  # limits the fuzzers and clients can see
            if parameter["name"] == self.limit_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_limit}
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 0, "maximum": self.max_offset}
        return parameters

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
