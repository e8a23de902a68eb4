"""Level rules over the real PostgreSQL and Redis: price (live tickers), 24 h change and RSI (marts) each
fire once per crossing and re-arm only after the condition has been false."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from cryptoflow_service.alerts import levels
from cryptoflow_service.alerts.models import Alert, AlertRule, Delivery
from cryptoflow_service.common.timeutils import now_ms
from servicetest import plant

pytestmark = pytest.mark.django_db


def auth(api: Any, key: str) -> Any:
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def price(redis_client: Any, market: str, value: str) -> None:
    plant.ticker(redis_client, market, received_ms=now_ms(), trade_price=value)


def make_rule(api: Any, **fields: Any) -> dict[str, Any]:
    body = {"name": "level", "channels": ["log", "email"], **fields}
    response = api.post("/api/alert-rules/", body, format="json")
    assert response.status_code == 201, response.content
    result: dict[str, Any] = response.json()
    return result


def test_a_price_rule_fires_once_per_crossing(api: Any, token_user: Any, redis_client: Any) -> None:
    auth(api, token_user[1])
    price(redis_client, "KRW-BTC", "109000000")
    rule = make_rule(api, market="krw-btc", kind="price_crosses_above", level="110000000")
    assert (rule["armed"], rule["last_value"], rule["crossings"]) == (True, "109000000", 0)
    assert levels.evaluate_live() == []
    price(redis_client, "KRW-BTC", "110000000")  # at the level is not above it
    assert levels.evaluate_live() == []
    price(redis_client, "KRW-BTC", "110001000")
    [first] = levels.evaluate_live()
    alert = Alert.objects.get(pk=first)
    assert (alert.market, alert.value, alert.crossing, alert.signal) == ("KRW-BTC", 110001000, 1, None)
    assert alert.message.startswith("[CryptoFlow] KRW-BTC price crossed above 110000000\n")
    assert "KRW-BTC price 110001000 at " in alert.message
    assert sorted(Delivery.objects.filter(alert=alert).values_list("channel", flat=True)) == ["email", "log"]
    price(redis_client, "KRW-BTC", "111000000")  # still above: no new alert
    assert levels.evaluate_live() == []
    price(redis_client, "KRW-BTC", "109500000")  # false again: re-armed
    assert levels.evaluate_live() == []
    assert AlertRule.objects.get().armed is True
    price(redis_client, "KRW-BTC", "112000000")  # the second crossing
    [second] = levels.evaluate_live()
    assert Alert.objects.get(pk=second).crossing == 2
    body = api.get("/api/alerts/?market=krw-btc").json()
    assert body["count"] == 2
    newest = body["results"][0]
    assert (newest["crossing"], newest["value"], newest["signal"]) == (2, "112000000", None)
    assert api.get(f"/api/alert-rules/{rule['id']}/").json()["crossings"] == 2


def test_a_rule_already_true_waits_for_a_real_crossing(api: Any, token_user: Any, redis_client: Any) -> None:
    auth(api, token_user[1])
    price(redis_client, "KRW-ETH", "3000000")
    rule = make_rule(api, market="KRW-ETH", kind="price_crosses_below", level="3500000")
    assert rule["armed"] is False  # already below when made: not a crossing
    assert levels.evaluate_live() == []
    price(redis_client, "KRW-ETH", "3600000")
    assert levels.evaluate_live() == []
    price(redis_client, "KRW-ETH", "3400000")
    assert len(levels.evaluate_live()) == 1
    # Moving the level starts over from what the rule sees now.
    patched = api.patch(f"/api/alert-rules/{rule['id']}/", {"level": "3300000"}, format="json").json()
    assert (patched["armed"], patched["last_value"]) == (True, "3400000")


def test_a_rule_on_a_market_without_a_ticker_is_armed_by_its_first_evaluation(
    api: Any, token_user: Any, redis_client: Any
) -> None:
    auth(api, token_user[1])
    plant.market("KRW-XRP")
    rule = make_rule(api, market="KRW-XRP", kind="price_crosses_above", level="1000")
    assert rule["armed"] is None
    price(redis_client, "KRW-XRP", "900")
    assert levels.evaluate_live() == []
    assert AlertRule.objects.get().armed is True
    price(redis_client, "KRW-XRP", "1001")
    assert len(levels.evaluate_live()) == 1


def test_change_and_rsi_rules_read_the_marts(api: Any, token_user: Any) -> None:
    auth(api, token_user[1])
    snapshot = datetime.now(UTC) - timedelta(minutes=5)
    plant.stats("KRW-BTC", snapshot_at=snapshot, price="1", change_rate="0.02", volume="1")
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    plant.indicator("KRW-BTC", yesterday - timedelta(days=1), "1", rsi_14=Decimal("71"))
    plant.indicator("KRW-BTC", yesterday, "1", rsi_14=Decimal("65"))
    change = make_rule(api, market="KRW-BTC", kind="change_24h_beyond", level="5")
    rsi = make_rule(api, market="KRW-BTC", kind="rsi_above", level="70")
    assert (change["armed"], change["last_value"]) == (True, "2")  # 2 %, from the newest snapshot
    assert (rsi["armed"], rsi["last_value"]) == (True, "65")  # yesterday's RSI, not the day before
    assert levels.evaluate_marts() == []
    assert levels.evaluate_live() == []  # price rules only
    plant.stats(
        "KRW-BTC", snapshot_at=snapshot + timedelta(minutes=1), price="1", change_rate="-0.061", volume="1"
    )
    plant.indicator("KRW-BTC", datetime.now(UTC).date(), "1", rsi_14=Decimal("90"))  # today: not closed
    [fired] = levels.evaluate_marts()
    alert = Alert.objects.get(pk=fired)
    assert alert.rule_id == change["id"]
    assert alert.message.startswith("[CryptoFlow] KRW-BTC 24 h change went beyond +/- 5%\n")
    assert "-6.10%" in alert.message
    assert levels.evaluate_marts() == []


@pytest.mark.django_db(transaction=True)
def test_racing_evaluators_fire_once(api: Any, token_user: Any, redis_client: Any) -> None:
    auth(api, token_user[1])
    price(redis_client, "KRW-BTC", "100")
    make_rule(api, market="KRW-BTC", kind="price_crosses_above", level="150")
    price(redis_client, "KRW-BTC", "200")
    barrier = threading.Barrier(4)
    results: list[int] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(len(levels.evaluate_live()))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 0, 0, 1]
    assert Alert.objects.count() == 1
