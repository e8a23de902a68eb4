"""Alert rules (token holders only), fired alerts, the market registry and the one-market overview."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from cryptoflow_service.alerts.models import Alert, AlertRule, Delivery
from cryptoflow_service.analysis.models import Signal
from cryptoflow_service.common.timeutils import now_ms
from servicetest import plant

pytestmark = pytest.mark.django_db
RULE = {"name": "BTC crosses", "market": "krw-btc", "kind": "golden_cross", "channels": ["log", "email"]}


@pytest.fixture
def btc() -> None:
    """KRW-BTC known to the marts: a rule may name it."""
    plant.market("KRW-BTC")


def auth(api: Any, key: str) -> Any:
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_alert_rules_need_a_token(api: Any) -> None:
    for method, path in [
        ("get", "/api/alert-rules/"),
        ("post", "/api/alert-rules/"),
        ("get", "/api/alert-rules/1/"),
        ("patch", "/api/alert-rules/1/"),
        ("delete", "/api/alert-rules/1/"),
        ("get", "/api/alerts/"),
    ]:
        response = getattr(api, method)(path, {}, format="json")
        assert response.status_code == 401, (method, path)
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api.post("/api/alert-rules/", RULE, format="json").status_code == 401
    assert api.get("/api/alert-rules/").json()["detail"] == "Invalid token."


def test_alert_rule_crud(api: Any, token_user: Any, btc: None) -> None:
    _, key = token_user
    auth(api, key)
    created = api.post(
        "/api/alert-rules/", {**RULE, "price_above": "100000000.5", "min_change_percent": 2}, format="json"
    )
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["market"] == "KRW-BTC"
    assert rule["price_above"] == "100000000.5"
    assert rule["min_change_percent"] == "2"
    assert rule["enabled"] is True
    assert rule["email_to"] == ""
    assert isinstance(rule["created_at"], int)
    listed = api.get("/api/alert-rules/").json()
    assert listed["count"] == 1
    assert listed["results"][0]["id"] == rule["id"]
    assert api.get(f"/api/alert-rules/{rule['id']}/").json()["name"] == "BTC crosses"
    patched = api.patch(
        f"/api/alert-rules/{rule['id']}/", {"enabled": False, "channels": ["slack"]}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json()["enabled"] is False
    assert patched.json()["channels"] == ["slack"]
    assert patched.json()["kind"] == "golden_cross"  # untouched by a partial update
    assert api.delete(f"/api/alert-rules/{rule['id']}/").status_code == 204
    assert api.get(f"/api/alert-rules/{rule['id']}/").status_code == 404
    assert api.put(f"/api/alert-rules/{rule['id']}/", RULE, format="json").status_code == 405


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channels": []}, "channels"),
        ({"channels": ["fax"]}, "channels.0"),
        ({"channels": ["log", "log"]}, "channels"),
        ({"market": "bitcoin"}, "market"),
        ({"kind": "moonshot"}, "kind"),
        ({"price_above": "-1"}, "price_above"),
        ({"price_above": "10", "price_below": "5"}, "price_above"),
        ({"price_below": "1e400"}, "price_below"),
        ({"name": ""}, "name"),
        ({"email_to": "not-an-address"}, "email_to"),
        ({"market": "KRW-NOPE"}, "market"),
        ({"level": "100"}, "level"),
        ({"kind": "price_crosses_above"}, "level"),
        ({"kind": "price_crosses_above", "level": "0"}, "level"),
        ({"kind": "price_crosses_below", "level": "1", "market": None}, "market"),
        ({"kind": "rsi_above", "level": "100"}, "level"),
        ({"kind": "change_24h_beyond", "level": "-5"}, "level"),
    ],
)
def test_alert_rule_validation(
    api: Any, token_user: Any, btc: None, change: dict[str, Any], field: str
) -> None:
    auth(api, token_user[1])
    response = api.post("/api/alert-rules/", {**RULE, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()


def test_email_channel_needs_an_address(api: Any, btc: None) -> None:
    user = get_user_model().objects.create_user("bob")  # no e-mail address
    auth(api, Token.objects.create(user=user).key)
    assert api.post("/api/alert-rules/", RULE, format="json").json()["errors"]["email_to"]
    assert (
        api.post("/api/alert-rules/", {**RULE, "email_to": "bob@example.com"}, format="json").status_code
        == 201
    )
    assert api.post("/api/alert-rules/", "not json", content_type="application/json").status_code == 400


def test_rules_and_alerts_are_private(api: Any, token_user: Any, btc: None) -> None:
    alice, alice_key = token_user
    mallory = get_user_model().objects.create_user("mallory", email="m@example.com")
    rule = AlertRule.objects.create(owner=alice, name="mine", channels=["log"])
    signal = Signal.objects.create(
        market="KRW-BTC",
        kind="golden_cross",
        interval="1d",
        short_window=5,
        long_window=20,
        candle_start=datetime(2026, 3, 11, tzinfo=UTC),
        price=120,
    )
    alert = Alert.objects.create(rule=rule, signal=signal, market=signal.market, message="subject\ntext")
    Delivery.objects.create(alert=alert, channel="log", status="sent", attempts=1, sent_at=datetime.now(UTC))
    Delivery.objects.create(
        alert=alert, channel="email", status="failed", attempts=3, last_error="SMTP: down"
    )
    auth(api, Token.objects.create(user=mallory).key)
    assert api.get(f"/api/alert-rules/{rule.pk}/").status_code == 404
    assert api.patch(f"/api/alert-rules/{rule.pk}/", {"name": "x"}, format="json").status_code == 404
    assert api.delete(f"/api/alert-rules/{rule.pk}/").status_code == 404
    assert api.get("/api/alerts/").json()["count"] == 0
    assert api.get("/api/alert-rules/99999999999999999999999/").status_code == 404

    auth(api, alice_key)
    body = api.get("/api/alerts/").json()
    assert body["count"] == 1
    fired = body["results"][0]
    assert fired["rule"] == {"id": rule.pk, "name": "mine"}
    assert fired["signal"]["kind"] == "golden_cross"
    assert [(d["channel"], d["status"], d["attempts"]) for d in fired["deliveries"]] == [
        ("email", "failed", 3),
        ("log", "sent", 1),
    ]
    assert fired["deliveries"][0]["last_error"] == "SMTP: down"
    assert fired["deliveries"][0]["sent_at"] is None
    assert api.get("/api/alerts/?status=failed").json()["count"] == 1
    plant.market("KRW-ETH", english="Ethereum")
    assert api.get("/api/alerts/?market=krw-eth").json()["count"] == 0
    assert api.get("/api/alerts/?market=krw-btc").json()["count"] == 1
    assert api.get(f"/api/alerts/?rule={rule.pk}").json()["count"] == 1
    assert api.get("/api/alerts/?status=lost").status_code == 400
    assert api.get("/api/alerts/?limit=1000").status_code == 400


def test_market_registry(api: Any, redis_client: Any) -> None:
    plant.ticker(redis_client, "KRW-BTC", received_ms=now_ms())
    plant.registry(redis_client, "BTC-ETH", last_seen_ms=1_773_278_125_000, status="")
    plant.market("KRW-BTC")
    plant.market("KRW-DOGE", korean="도지코인", english="Dogecoin", warning=True)
    body = api.get("/api/markets/").json()
    assert [row["market"] for row in body["results"]] == ["BTC-ETH", "KRW-BTC", "KRW-DOGE"]
    eth, btc, doge = body["results"]
    assert eth == {
        "market": "BTC-ETH",
        "quote": "BTC",
        "status": None,
        "last_seen_ms": 1_773_278_125_000,
        "status_ms": None,
        "live": True,
        "korean_name": None,
        "english_name": None,
        "warning": None,
        "caution": None,
    }
    assert btc["status"] == "ACTIVE"
    assert btc["english_name"] == "Bitcoin"
    assert btc["live"] is True
    assert doge["live"] is False
    assert doge["warning"] is True
    assert doge["korean_name"] == "도지코인"
    assert [r["market"] for r in api.get("/api/markets/?quote=krw").json()["results"]] == [
        "KRW-BTC",
        "KRW-DOGE",
    ]
    assert [r["market"] for r in api.get("/api/markets/?status=ACTIVE").json()["results"]] == ["KRW-BTC"]
    assert api.get("/api/markets/?quote=$$").status_code == 400
    assert api.get("/api/markets/?status=HALTED").status_code == 400


def test_market_overview_joins_live_and_history(api: Any, redis_client: Any) -> None:
    plant.ticker(redis_client, "KRW-BTC", received_ms=now_ms() - 300)
    plant.orderbook(redis_client, "KRW-BTC", received_ms=now_ms(), levels=[("105", "1", "104", "2")])
    plant.market("KRW-BTC")
    plant.stats(
        "KRW-BTC",
        snapshot_at=datetime(2026, 3, 12, 1, tzinfo=UTC),
        price="104862000",
        change_rate="0.01",
        volume="5",
    )
    plant.indicator("KRW-BTC", date(2026, 3, 11), "104000000", ma_5="103000000")
    Signal.objects.create(
        market="KRW-BTC",
        kind="golden_cross",
        interval="1d",
        short_window=5,
        long_window=20,
        candle_start=datetime(2026, 3, 11, tzinfo=UTC),
        price=104000000,
    )
    body = api.get("/api/markets/krw-btc/").json()
    assert body["market"] == "KRW-BTC"
    assert body["quote"] == "KRW"
    assert body["ticker"]["trade_price"] == "104862000.0"
    assert body["ticker"]["age_ms"] >= 300
    assert body["orderbook_top"]["spread"] == "1"
    assert body["registry"]["status"] == "ACTIVE"
    assert body["stats_24h"]["trade_price"] == "104862000"
    assert body["indicators"]["ma_5"] == "103000000"
    assert body["names"]["english_name"] == "Bitcoin"
    assert [s["kind"] for s in body["signals"]] == ["golden_cross"]
    assert body["trend"] is None
    # Known only to the cold path: the live parts are null.
    plant.market("KRW-DOGE", english="Dogecoin")
    doge = api.get("/api/markets/KRW-DOGE/").json()
    assert doge["ticker"] is None
    assert doge["orderbook_top"] is None
    assert doge["stats_24h"] is None
    assert api.get("/api/markets/KRW-NONE/").status_code == 404
    assert api.get("/api/markets/KRW--/").status_code == 400
