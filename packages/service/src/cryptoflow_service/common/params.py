"""Strict request parameters for every API view: validate or answer 400, never let bad input reach a store.

`StrictParams` (a view mixin, listed first in the bases) checks each request's query string against the
parameters the OpenAPI schema documents for that operation, so what the schema lists and what a view
accepts are one list:

- a parameter the operation does not document is a 400 naming it and listing the accepted ones;
- `symbol` is an alias of `market` (the schema documents it wherever `market` is a query parameter:
  `document_aliases`, a drf-spectacular postprocessing hook);
- `market` / `markets` values are market codes in any case, rewritten upper case before the view reads
  them; a well-formed code that no store knows is a 400 (a malformed one is left to the view's own field,
  which names the problem) — or a 404 on a view whose `market` names the one resource it answers about
  (`market_is_resource = True`, e.g. `/api/predict/`), as a path would.

Paths are the views' own business (`path_market`, then a 404 when no store knows the market), as is
pagination (`cryptoflow_service.common.pagination`). A new view: `class MyView(StrictParams, APIView)`,
document its query parameters with `extend_schema(parameters=[...])` (or a filterset / paginator, which
drf-spectacular documents by itself), and read them with `query(request, MySerializer)`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from django.http import QueryDict
from rest_framework import exceptions, serializers
from rest_framework.request import Request

from cryptoflow_service.common.markets import normalize_market

ALIASES = {"symbol": "market"}
"""Alias -> the parameter it stands for."""
MARKET_PARAMS = ("market", "markets")
"""Query parameters that hold a market code or a comma list of them."""

_accepted: dict[tuple[type, str], frozenset[str]] | None = None
_lock = threading.Lock()


def document_aliases(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation with a `market` query parameter documents
    `symbol` as its alias."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            parameters = operation.get("parameters", [])
            names = {(p["name"], p["in"]) for p in parameters}
            for alias, target in ALIASES.items():
                original = next((p for p in parameters if (p["name"], p["in"]) == (target, "query")), None)
                if original is not None and (alias, "query") not in names:
                    parameters.append(
                        {
                            **original,
                            "name": alias,
                            "description": f"Alias of `{target}` (give one of them).",
                        }
                    )
    return result


def accepted_parameters(view_class: type, method: str) -> frozenset[str]:
    """The query parameters the OpenAPI schema documents for `view_class`'s `method` (HEAD = GET)."""
    global _accepted  # noqa: PLW0603 - built once per process, on first use
    if _accepted is None:
        with _lock:
            if _accepted is None:
                _accepted = _from_schema()
    method = "GET" if method == "HEAD" else method
    return _accepted.get((view_class, method), frozenset())


def _from_schema() -> dict[tuple[type, str], frozenset[str]]:
    from drf_spectacular.generators import SchemaGenerator  # noqa: PLC0415 - needs the URL conf loaded

    generator = SchemaGenerator()  # type: ignore[no-untyped-call]
    schema = generator.get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    accepted: dict[tuple[type, str], frozenset[str]] = {}
    endpoints: list[tuple[str, str, str, Any]] = list(generator.endpoints or [])  # type: ignore[arg-type]
    for path, _regex, method, callback in endpoints:
        operation = schema["paths"].get(path, {}).get(method.lower())
        if operation is None:
            continue
        names = frozenset(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")
        accepted[(callback.cls, method)] = names
    return accepted


def check_query(request: Request, view_class: type) -> None:
    """Apply the rules above to `request`; raises a 400 (`ValidationError`) on the first broken one."""
    params = request.query_params
    if not params:
        return
    accepted = accepted_parameters(view_class, request.method or "GET")
    unknown = [name for name in params if name not in accepted]
    if unknown:
        listing = ", ".join(sorted(accepted)) or "none"
        raise exceptions.ValidationError(
            {name[:40]: [f"unknown query parameter; this endpoint accepts: {listing}."] for name in unknown}
        )
    rewritten: QueryDict | None = None
    given_as: dict[str, str] = {}
    for alias, target in ALIASES.items():
        if alias in params:
            if target in params:
                raise exceptions.ValidationError({alias: [f"give {target} or its alias {alias}, not both."]})
            rewritten = rewritten or params.copy()
            rewritten.setlist(target, rewritten.pop(alias))
            given_as[target] = alias
    current = rewritten or params
    for name in MARKET_PARAMS:
        if name not in current:
            continue
        values = current.getlist(name)
        upper = [",".join(_normalized(value)) for value in values]
        _check_known(
            given_as.get(name, name),
            (code for value in upper for code in value.split(",") if code),
            resource=getattr(view_class, "market_is_resource", False),
        )
        if upper != values:
            rewritten = rewritten or params.copy()
            rewritten.setlist(name, upper)
    if rewritten is not None:
        request._request.GET = rewritten  # type: ignore[assignment]  # a mutable copy is still a QueryDict


def _normalized(value: str) -> list[str]:
    """Each comma-separated part upper case if it is a market code, as it is (for the field to refuse)."""
    return [normalize_market(part) or part for part in value.split(",")]


def _check_known(name: str, codes: Iterable[str], *, resource: bool) -> None:
    from cryptoflow_service.markets.selectors import unknown_markets  # noqa: PLC0415 - apps import this

    wellformed = [code for code in codes if normalize_market(code) == code]
    missing = unknown_markets(markets=wellformed) if wellformed else []
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        if resource:
            raise exceptions.NotFound(f"Unknown market {shown}.")
        raise exceptions.ValidationError({name: [f"unknown market: {shown}."]})


class StrictParams:
    """Mixin for every API view (first in the bases): the query string is checked by `check_query`
    after authentication, permissions and throttling, before the handler runs."""

    market_is_resource = False
    """True where `market` names the resource (not a filter): an unknown one is then a 404."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        check_query(request, type(self))


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
