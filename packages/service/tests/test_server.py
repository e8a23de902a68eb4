"""The production server (gunicorn via `cryptoflow-service serve`): health, schema, fuzzing, dashboard."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from openapi_spec_validator import validate
from rest_framework.authtoken.models import Token

from cryptoflow_service.common.timeutils import now_ms
from servicetest import plant

pytestmark = pytest.mark.django_db(transaction=True)


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def planted(redis_client: Any) -> str:
    """Data in every store, committed, so the server (another process) sees it; returns a token."""
    plant.ticker(redis_client, "KRW-BTC", received_ms=now_ms())
    plant.orderbook(redis_client, "KRW-BTC", received_ms=now_ms(), levels=[("105", "1", "104", "2")])
    plant.trade(redis_client, "KRW-BTC", sequential_id=1, trade_timestamp=now_ms(), price="104", volume="0.5")
    plant.market("KRW-BTC")
    plant.stats(
        "KRW-BTC", snapshot_at=datetime(2026, 3, 12, tzinfo=UTC), price="104", change_rate="0.01", volume="5"
    )
    plant.daily_candles("KRW-BTC", [100, 101, 102], last_day=date(2026, 3, 11))
    plant.indicator("KRW-BTC", date(2026, 3, 11), "102")
    user = get_user_model().objects.create_user("fuzzer", email="fuzzer@example.com")
    return Token.objects.create(user=user).key


def test_health_and_readiness(api_server: str) -> None:
    assert get(f"{api_server}/healthz")[0] == 200
    status, _, body = get(f"{api_server}/readyz")
    assert status == 200
    assert json.loads(body) == {
        "status": "ok",
        "checks": {"redis": "ok", "postgresql": "ok"},
    }


def test_errors_are_json_even_off_the_api(api_server: str) -> None:
    status, headers, body = get(f"{api_server}/no/such/page")
    assert status == 404
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"status": 404, "detail": "No such resource: /no/such/page"}


def test_live_endpoint_through_gunicorn(api_server: str, planted: str) -> None:
    status, headers, body = get(f"{api_server}/api/realtime-price/KRW-BTC/")
    assert status == 200
    assert json.loads(body)["trade_price"] == "104862000.0"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_openapi_schema_is_valid(api_server: str) -> None:
    status, _, body = get(f"{api_server}/api/schema/?format=json")
    assert status == 200
    schema = json.loads(body)
    validate(schema)
    paths = set(schema["paths"])
    assert {
        "/api/realtime-price/",
        "/api/market-stats/{market}/",
        "/api/alert-rules/{rule_id}/",
        "/api/alerts/",
    } <= paths
    assert get(f"{api_server}/api/docs/")[0] == 200


def test_dashboard_page(api_server: str) -> None:
    status, headers, body = get(f"{api_server}/")
    page = body.decode()
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "/api/realtime-price/" in page
    assert "/api/candles/" in page
    assert "MA20" in page
    assert get(f"{api_server}/dashboard/")[0] == 200


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    api_server: str, planted: str, tmp_path: Any
) -> None:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{api_server}/api/schema/?format=json",
        "--checks",
        "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--max-examples",
        "15",
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "1",
        "--header",
        f"Authorization: Token {planted}",
        "--request-timeout",
        "10",
        "--suppress-health-check",
        "all",
        "--seed",
        "20260312",
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert "No issues found" in result.stdout or "passed" in result.stdout, report
