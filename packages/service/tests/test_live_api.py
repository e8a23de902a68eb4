"""Live endpoints over the real Redis: realtime prices, trades, order books."""

from __future__ import annotations

from typing import Any

import pytest
from redis.connection import AbstractConnection

from cryptoflow_service.common.timeutils import now_ms
from servicetest import plant

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(redis_client: Any) -> Any:
    now = now_ms()
    plant.ticker(redis_client, "KRW-BTC", received_ms=now - 1500)
    plant.ticker(
        redis_client, "KRW-ETH", received_ms=now - 500, trade_price="3500000", signed_change_rate="-0.012"
    )
    plant.ticker(redis_client, "BTC-XRP", received_ms=now - 100, trade_price="0.00000812")
    plant.registry(redis_client, "USDT-NEW", last_seen_ms=now)  # known, no ticker yet
    return redis_client


def test_realtime_list_all_markets_with_age(api: Any, live: Any) -> None:
    body = api.get("/api/realtime-price/").json()
    assert [t["market"] for t in body["results"]] == ["BTC-XRP", "KRW-BTC", "KRW-ETH"]
    assert body["count"] == 3
    btc = body["results"][1]
    assert btc["trade_price"] == "104862000.0"  # the exact text, scale kept
    assert btc["trade_volume"] == "0.00000001"  # str(Decimal) wrote 1E-8; the API never uses exponents
    assert btc["quote"] == "KRW"
    assert btc["side"] == "BID"
    assert btc["market_state"] == "ACTIVE"
    assert isinstance(btc["received_ms"], int)
    assert isinstance(btc["trade_timestamp"], int)
    assert 1500 <= btc["age_ms"] < 10_000
    assert body["max_age_ms"] >= btc["age_ms"]
    assert body["server_time"] >= btc["received_ms"]


def test_realtime_filters(api: Any, live: Any) -> None:
    assert [t["market"] for t in api.get("/api/realtime-price/?quote=krw").json()["results"]] == [
        "KRW-BTC",
        "KRW-ETH",
    ]
    assert [t["market"] for t in api.get("/api/realtime-price/?market=krw-eth").json()["results"]] == [
        "KRW-ETH"
    ]
    many = api.get("/api/realtime-price/?markets=KRW-ETH,btc-xrp,USDT-NEW").json()
    assert [t["market"] for t in many["results"]] == ["BTC-XRP", "KRW-ETH"]  # USDT-NEW has no ticker yet
    unknown = api.get("/api/realtime-price/?markets=KRW-ETH,KRW-NONE")
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == {"markets": ["unknown market: KRW-NONE."]}
    assert api.get("/api/realtime-price/?markets=KRW-ETH&quote=BTC").json()["count"] == 0


@pytest.mark.parametrize(
    "params",
    [
        "market=BTC",
        "markets=KRW-BTC,,nope",
        "markets=,",
        "quote=K-R-W",
        "market=KRW-BTC&markets=KRW-ETH",
        "market=%00",
    ],
)
def test_realtime_list_rejects_bad_params(api: Any, live: Any, params: str) -> None:
    response = api.get(f"/api/realtime-price/?{params}")
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert body["detail"]


def test_realtime_one_market(api: Any, live: Any) -> None:
    body = api.get("/api/realtime-price/krw-eth/").json()
    assert body["market"] == "KRW-ETH"
    assert body["trade_price"] == "3500000"
    assert body["signed_change_rate"] == "-0.012"
    assert api.get("/api/realtime-price/KRW-NONE/").status_code == 404
    assert api.get("/api/realtime-price/USDT-NEW/").json()["detail"] == "No live ticker for USDT-NEW."
    assert api.get("/api/realtime-price/not_a_market/").status_code == 400
    assert api.head("/api/realtime-price/krw-eth/").status_code == 200


def test_trades_newest_first_by_trade_time_then_id(api: Any, redis_client: Any) -> None:
    base = 1_773_278_125_000
    # Arrival order differs from trade order (Upbit ids are not ordered); two fills share a millisecond.
    plant.trade(
        redis_client,
        "KRW-BTC",
        sequential_id=17732781250000001,
        trade_timestamp=base,
        price="104862000",
        volume="0.01",
    )
    plant.trade(
        redis_client,
        "KRW-BTC",
        sequential_id=17732781270000000,
        trade_timestamp=base + 2000,
        price="104863000",
        volume="0.5",
        side="ASK",
    )
    plant.trade(
        redis_client,
        "KRW-BTC",
        sequential_id=17732781260000002,
        trade_timestamp=base + 1000,
        price="104861000",
        volume="1E-8",
    )
    plant.trade(
        redis_client,
        "KRW-BTC",
        sequential_id=17732781260000001,
        trade_timestamp=base + 1000,
        price="104861000",
        volume="0.2",
    )
    body = api.get("/api/trades/KRW-BTC/").json()
    assert [t["sequential_id"] for t in body["trades"]] == [
        17732781270000000,
        17732781260000002,
        17732781260000001,
        17732781250000001,
    ]
    assert body["count"] == 4
    assert body["trades"][0]["side"] == "ASK"
    assert body["trades"][1]["volume"] == "0.00000001"
    assert body["trades"][0]["price"] == "104863000"
    assert body["age_ms"] is not None
    limited = api.get("/api/trades/KRW-BTC/?limit=2").json()
    assert limited["count"] == 2
    since = api.get(f"/api/trades/krw-btc/?since={base + 1000}").json()
    assert [t["trade_timestamp"] for t in since["trades"]] == [base + 2000, base + 1000, base + 1000]
    iso_since = api.get("/api/trades/KRW-BTC/?since=2026-03-12T01:15:27Z").json()
    assert iso_since["count"] == 1


def test_trades_errors_and_empty(api: Any, redis_client: Any) -> None:
    plant.registry(redis_client, "KRW-QUIET", last_seen_ms=now_ms())
    assert api.get("/api/trades/KRW-QUIET/").json()["trades"] == []
    assert api.get("/api/trades/KRW-NONE/").status_code == 404
    for params in ("limit=0", "limit=1001", "limit=x", "since=tomorrow", "since=-1"):
        response = api.get(f"/api/trades/KRW-QUIET/?{params}")
        assert response.status_code == 400, params
        assert response.json()["errors"]
    assert api.get("/api/trades/K/").status_code == 400


def test_orderbook(api: Any, redis_client: Any) -> None:
    plant.orderbook(
        redis_client,
        "KRW-BTC",
        received_ms=now_ms() - 200,
        levels=[("104863000", "0.1", "104862000", "0.25"), ("104864000", "1.5", "104861000", "0.00000001")],
    )
    body = api.get("/api/orderbook/KRW-BTC/").json()
    assert body["best_ask_price"] == "104863000"
    assert body["best_bid_price"] == "104862000"
    assert body["spread"] == "1000"
    assert body["units"][1] == {
        "ask_price": "104864000",
        "ask_size": "1.5",
        "bid_price": "104861000",
        "bid_size": "0.00000001",
    }
    assert body["total_ask_size"] == "1.6"
    assert body["level"] == "0"
    assert 200 <= body["age_ms"] < 10_000
    assert api.get("/api/orderbook/KRW-ETH/").status_code == 404
    assert api.get("/api/orderbook/x/").status_code == 400


def test_writes_to_read_only_endpoints_need_a_token(api: Any, live: Any) -> None:
    for path in ("/api/realtime-price/", "/api/trades/KRW-BTC/", "/api/market-stats/", "/api/signals/"):
        response = api.post(path, {}, format="json")
        assert response.status_code == 401, path
        assert response.json()["detail"] == "Authentication credentials were not provided."
        assert response["WWW-Authenticate"] == "Token"


def test_anonymous_reads_are_throttled(api: Any, live: Any, settings: Any) -> None:
    settings.CRYPTOFLOW_SERVICE = settings.CRYPTOFLOW_SERVICE.model_copy(
        update={"anon_throttle_rate": "3/min"}
    )
    statuses = [api.get("/api/realtime-price/KRW-BTC/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/api/realtime-price/")
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"].lower()
    assert int(response["Retry-After"]) <= 60


@pytest.mark.parametrize("path", ["/api/realtime-price/KRW-BTC/", "/api/orderbook/KRW-BTC/"])
def test_one_market_is_one_redis_round_trip(
    api: Any, live: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """The throttle's counter goes to Redis in the same pipeline as the view's read."""
    plant.orderbook(live, "KRW-BTC", received_ms=now_ms(), levels=[("105", "1", "104", "2")])
    settings.CRYPTOFLOW_SERVICE = settings.CRYPTOFLOW_SERVICE.model_copy(
        update={"anon_throttle_rate": "100/hour"}
    )
    assert api.get(path).status_code == 200  # connects (and health-checks) before counting
    sent: list[object] = []
    send = AbstractConnection.send_packed_command

    def counting_send(self: AbstractConnection, command: object, check_health: bool = True) -> None:
        sent.append(command)
        send(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting_send)
    response = api.get(path)
    assert response.status_code == 200
    assert response.json()["market"] == "KRW-BTC"
    assert len(sent) == 1
    monkeypatch.undo()
    [counter] = live.keys("throttle:anon:*")
    assert live.get(counter) == "2"
    assert 0 < live.ttl(counter) <= 3601


def test_bad_requests_count_and_429_comes_first(api: Any, live: Any, settings: Any) -> None:
    settings.CRYPTOFLOW_SERVICE = settings.CRYPTOFLOW_SERVICE.model_copy(
        update={"anon_throttle_rate": "2/hour"}
    )
    assert api.get("/api/realtime-price/KRW-BTC/").status_code == 200
    assert api.get("/api/realtime-price/not_a_market/").status_code == 400
    for path in (
        "/api/realtime-price/KRW-BTC/",
        "/api/realtime-price/not_a_market/",
        "/api/orderbook/KRW-NONE/",
    ):
        response = api.get(path)
        assert response.status_code == 429, path
        assert 0 < int(response["Retry-After"]) <= 3600


def test_x_forwarded_for_does_not_buy_a_fresh_count(api: Any, live: Any, settings: Any) -> None:
    """No proxy is trusted by default (`CRYPTOFLOW_SERVICE_TRUSTED_PROXIES=0`): the header is ignored."""
    settings.CRYPTOFLOW_SERVICE = settings.CRYPTOFLOW_SERVICE.model_copy(
        update={"anon_throttle_rate": "2/hour"}
    )
    statuses = [
        api.get("/api/realtime-price/KRW-BTC/", HTTP_X_FORWARDED_FOR=f"203.0.113.{host}").status_code
        for host in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_cors_is_off_by_default(api: Any, live: Any) -> None:
    response = api.get("/api/realtime-price/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response


def test_redis_down_answers_503(api: Any, settings: Any) -> None:
    settings.CRYPTOFLOW_SERVICE = settings.CRYPTOFLOW_SERVICE.model_copy(
        update={"redis_url": "redis://127.0.0.1:1/0"}
    )
    response = api.get("/api/realtime-price/KRW-BTC/")
    assert response.status_code == 503
    assert response.json() == {"status": 503, "detail": "Redis is unavailable; try again shortly."}
    assert api.get("/api/realtime-price/not_a_market/").status_code == 400  # the throttle lets it through
