"""Strict parameters on every API view, parametrized over the URL map itself: a view added without
`StrictParams` (or with an undocumented parameter) fails here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.urls import URLPattern

from cryptoflow_service.alerts.models import Alert
from cryptoflow_service.analysis.models import Signal, TrendReport
from cryptoflow_service.common.params import StrictParams, accepted_parameters
from cryptoflow_service.common.timeutils import now_ms
from cryptoflow_service.urls import api as api_patterns
from servicetest import plant

pytestmark = pytest.mark.django_db

NOT_DATA = {"schema", "docs"}
"""drf-spectacular's own views (the schema and its UI), not data endpoints."""
DAY = date(2026, 3, 11)
VOLATILE = {"server_time", "age_ms", "max_age_ms", "since"}
REQUIRED = {name: {"market": "KRW-BTC"} for name in ("candles-by-market", "archived-trades", "predict")}
"""Views whose `market` names the resource and is required: the generic checks pass it."""
NO_MODEL = {"predict"}
"""The world has no ML model: these answer 409, the same for every spelling of the market."""


def _routes() -> list[URLPattern]:
    return [p for p in api_patterns if isinstance(p, URLPattern) and p.name not in NOT_DATA]


ROUTES = _routes()
IDS = [p.name or str(p.pattern) for p in ROUTES]


def view_class(pattern: URLPattern) -> type:
    return pattern.callback.cls  # type: ignore[attr-defined, no-any-return]


def url_of(pattern: URLPattern, *, market: str = "KRW-BTC", rule_id: int = 1) -> str:
    route = str(pattern.pattern).replace("<str:market>", market).replace("<int:rule_id>", str(rule_id))
    return f"/api/{route}"


def has_market_path(pattern: URLPattern) -> bool:
    return "<str:market>" in str(pattern.pattern)


def markets_in(name: str, body: Any) -> set[str]:
    """The markets an answer is about, whatever its shape."""
    if name == "sparklines-list":
        return set(body["markets"])
    if name in REQUIRED:
        return {body["market"]}
    rows = body["results"]
    assert rows
    return {row.get("market") or row["signal"]["market"] for row in rows}


def stable(body: Any) -> Any:
    """`body` without the fields that change between two identical requests (clocks and ages)."""
    if isinstance(body, dict):
        return {key: stable(value) for key, value in body.items() if key not in VOLATILE}
    if isinstance(body, list):
        return [stable(item) for item in body]
    return body


@pytest.fixture
def world(redis_client: Any, token_user: Any, api: Any) -> dict[str, Any]:
    """KRW-BTC and KRW-ETH known everywhere (Redis and marts), with a rule, a signal and a trend row."""
    _user, key = token_user
    now = now_ms()
    for market in ("KRW-BTC", "KRW-ETH"):
        plant.ticker(redis_client, market, received_ms=now)
        plant.trade(
            redis_client, market, sequential_id=1, trade_timestamp=now, price="104862000", volume="0.1"
        )
        plant.orderbook(redis_client, market, received_ms=now, levels=[("105", "1", "104", "2")])
        plant.market(market)
        plant.stats(
            market,
            snapshot_at=datetime(2026, 3, 12, 1, tzinfo=UTC),
            price="104862000",
            change_rate="0.01",
            volume="5",
        )
        plant.daily_candles(market, [100, 101, 102], last_day=DAY)
        plant.indicator(market, DAY, "102", ma_5="101.5")
        this_minute = datetime.now(UTC).replace(second=0, microsecond=0)
        plant.minute_candles(market, [100, 101], last_start=this_minute)
        Signal.objects.create(
            market=market,
            kind="golden_cross",
            interval="1d",
            short_window=5,
            long_window=20,
            candle_start=datetime(2026, 3, 11, tzinfo=UTC),
            price=102,
        )
        TrendReport.objects.create(market=market, day=DAY, close=102, score=10, trend="up")
    rule = api.post(
        "/api/alert-rules/",
        {"name": "r", "market": "KRW-BTC", "kind": "golden_cross", "channels": ["log"]},
        format="json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert rule.status_code == 201, rule.json()
    for signal in Signal.objects.all():
        Alert.objects.create(
            rule_id=rule.json()["id"], signal=signal, market=signal.market, message="subject\ntext"
        )
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return {"rule_id": rule.json()["id"]}


def test_the_url_list_is_not_empty() -> None:
    assert len(ROUTES) >= 15
    assert {"market-stats-list", "signals-list", "alerts-list"} <= set(IDS)


@pytest.mark.parametrize("pattern", ROUTES, ids=IDS)
def test_every_view_uses_the_helper(pattern: URLPattern) -> None:
    assert issubclass(view_class(pattern), StrictParams)


@pytest.mark.parametrize("pattern", ROUTES, ids=IDS)
def test_an_unknown_parameter_is_a_400_naming_it(
    api: Any, world: dict[str, Any], pattern: URLPattern
) -> None:
    required = REQUIRED.get(pattern.name or "", {})
    response = api.get(url_of(pattern, rule_id=world["rule_id"]), {"foo": "1", **required})
    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body["errors"]) == ["foo"]
    accepted = accepted_parameters(view_class(pattern), "GET")
    listing = ", ".join(sorted(accepted)) or "none"
    assert body["detail"] == f"foo: unknown query parameter; this endpoint accepts: {listing}."
    answered = api.get(url_of(pattern, rule_id=world["rule_id"]), required).status_code
    assert answered == (409 if pattern.name in NO_MODEL else 200)


@pytest.mark.parametrize("pattern", ROUTES, ids=IDS)
def test_symbol_is_market_and_codes_are_case_insensitive(
    api: Any, world: dict[str, Any], pattern: URLPattern
) -> None:
    url = url_of(pattern, rule_id=world["rule_id"])
    accepted = accepted_parameters(view_class(pattern), "GET")
    if "market" not in accepted:
        assert "symbol" not in accepted
        assert api.get(url, {"symbol": "KRW-BTC"}).status_code == 400
        return
    assert "symbol" in accepted
    name = pattern.name or ""
    exact = api.get(url, {"market": "KRW-BTC"})
    assert exact.status_code == (409 if name in NO_MODEL else 200)
    if name not in NO_MODEL:
        assert markets_in(name, exact.json()) == {"KRW-BTC"}
    for params in ({"symbol": "KRW-BTC"}, {"symbol": "krw-btc"}, {"market": "Krw-Btc"}):
        response = api.get(url, params)
        assert response.status_code == exact.status_code, params
        assert stable(response.json()) == stable(exact.json()), params
    # Where `market` names the resource, an unknown one is a 404, as on a path; a filter's is a 400.
    resource = getattr(view_class(pattern), "market_is_resource", False)
    for params in ({"market": "KRW-NOPE"}, {"symbol": "krw-nope"}):
        assert api.get(url, params).status_code == (404 if resource else 400), params
    assert api.get(url, {"market": "KRW-BTC", "symbol": "KRW-BTC"}).status_code == 400
    if not resource:
        errors = api.get(url, {"symbol": "krw-nope"}).json()["errors"]
        assert errors == {"symbol": ["unknown market: KRW-NOPE."]}


@pytest.mark.parametrize("pattern", [p for p in ROUTES if has_market_path(p)], ids=lambda p: p.name)
def test_path_markets_are_case_insensitive_and_unknown_is_404(
    api: Any, world: dict[str, Any], pattern: URLPattern
) -> None:
    upper = api.get(url_of(pattern))
    assert upper.status_code == 200
    lower = api.get(url_of(pattern, market="krw-btc"))
    assert lower.status_code == 200
    assert stable(lower.json()) == stable(upper.json())
    assert api.get(url_of(pattern, market="KRW-NOPE")).status_code == 404
    assert api.get(url_of(pattern, market="KRW--")).status_code == 400


PAGED = [p for p in ROUTES if getattr(view_class(p), "pagination_class", None) is not None]


@pytest.mark.parametrize("pattern", PAGED, ids=lambda p: p.name)
def test_page_numbers_beside_limit_and_offset(api: Any, world: dict[str, Any], pattern: URLPattern) -> None:
    url = url_of(pattern)
    accepted = accepted_parameters(view_class(pattern), "GET")
    assert {"page", "page_size", "limit", "offset"} <= accepted
    whole = api.get(url).json()
    assert whole["count"] >= 1
    first = api.get(url, {"page": 1, "page_size": 1}).json()
    assert first["results"] == api.get(url, {"limit": 1, "offset": 0}).json()["results"]
    assert first["previous"] is None
    if whole["count"] > 1:
        assert "page=2" in first["next"]
        second = api.get(url, {"page": 2, "page_size": 1}).json()
        assert second["results"] == api.get(url, {"limit": 1, "offset": 1}).json()["results"]
        assert "page=" not in second["previous"]
    missing = api.get(url, {"page": 999})
    assert missing.status_code == 404
    assert missing.json()["detail"].startswith("Page 999 does not exist: there is 1 page of 50")
    pages = whole["count"]
    beyond = api.get(url, {"page": pages + 1, "page_size": 1})
    assert beyond.status_code == 404
    assert f"{pages} page" in beyond.json()["detail"]
    for params in (
        {"page": 0},
        {"page": "x"},
        {"page_size": 0},
        {"page": 1, "offset": 0},
        {"page_size": 1, "limit": 1},
    ):
        assert api.get(url, params).status_code == 400, params


def test_market_stats_symbol_as_the_seed_documents(api: Any, world: dict[str, Any]) -> None:
    body = api.get("/api/market-stats/?symbol=KRW-BTC").json()
    assert [row["market"] for row in body["results"]] == ["KRW-BTC"]
    assert api.get("/api/market-stats/?page=999").status_code == 404
    response = api.get("/api/market-stats/?foo=1")
    assert response.status_code == 400
    assert "foo" in response.json()["detail"]
    assert "symbol" in response.json()["detail"]
    lists = api.get("/api/market-stats/?market=krw-btc,KRW-ETH").json()
    assert [row["market"] for row in lists["results"]] == ["KRW-BTC", "KRW-ETH"]
    assert api.get("/api/market-stats/?market=KRW-BTC,KRW-NOPE").status_code == 400
    assert api.get("/api/realtime-price/?markets=krw-btc,krw-nope").status_code == 400
    assert [t["market"] for t in api.get("/api/realtime-price/?markets=krw-btc").json()["results"]] == [
        "KRW-BTC"
    ]


def test_the_schema_lists_every_accepted_parameter(api: Any) -> None:
    schema = api.get("/api/schema/?format=json").json()
    stats = {p["name"] for p in schema["paths"]["/api/market-stats/"]["get"]["parameters"]}
    assert {"market", "symbol", "page", "page_size", "limit", "offset", "quote", "ordering"} <= stats
    symbol = next(p for p in schema["paths"]["/api/signals/"]["get"]["parameters"] if p["name"] == "symbol")
    assert symbol["in"] == "query"
    assert "Alias of `market`" in symbol["description"]


def test_post_bodies_are_not_query_parameters(api: Any, world: dict[str, Any]) -> None:
    body = {"name": "x", "market": "KRW-ETH", "kind": "dead_cross", "channels": ["log"]}
    assert api.post("/api/alert-rules/", body, format="json").status_code == 201
    assert api.post("/api/alert-rules/?foo=1", body, format="json").status_code == 400
