"""The production server (gunicorn via `cryptoflow-service serve`): health, schema, fuzzing, dashboard."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

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
    one_market = schema["paths"]["/api/realtime-price/{market}/"]["get"]
    assert one_market["operationId"] == "realtime_price_retrieve"
    assert one_market["summary"] == "Latest ticker of one market"
    assert get(f"{api_server}/api/docs/")[0] == 200


class _References(HTMLParser):
    """Every URL a page makes the browser load or link to (`src` and `href`)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


def test_api_docs_load_nothing_from_another_host(api_server: str) -> None:
    docs = f"{api_server}/api/docs/"
    status, _, body = get(docs)
    assert status == 200
    page = body.decode()
    parser = _References()
    parser.feed(page)
    assert "http://" not in page
    assert "https://" not in page
    assert parser.urls
    assert {urlsplit(urljoin(docs, url)).netloc for url in parser.urls} == {urlsplit(api_server).netloc}
    [bundle] = [url for url in parser.urls if url.endswith("/swagger-ui-bundle.js")]
    status, headers, script = get(urljoin(docs, bundle))
    assert status == 200
    assert headers["Content-Type"].startswith("text/javascript")
    assert b"SwaggerUIBundle" in script
    for url in parser.urls:  # the stylesheet, the other script and the icon too
        assert get(urljoin(docs, url))[0] == 200, url


def test_dashboard_pages_and_their_static_files(api_server: str) -> None:
    """Each page is served with its module; the modules and the vendored chart library come from the
    service itself (WhiteNoise). The browser suite (`test_dashboard_browser.py`) tests what they do."""
    for path, module in [
        ("/", "dashboard/board.js"),
        ("/markets/KRW-BTC/", "dashboard/market.js"),
        ("/alerts/", None),  # signed out: a sign-in link, no module
        ("/health/", "dashboard/health.js"),
        ("/accounts/login/", None),
        ("/dashboard/", "dashboard/board.js"),  # the old address redirects to the board
    ]:
        status, headers, body = get(api_server + path)
        assert status == 200, path
        assert headers["Content-Type"].startswith("text/html"), path
        if module:
            assert f'src="/static/{module}"' in body.decode(), path
    assert "/accounts/login/" in get(f"{api_server}/alerts/")[2].decode()
    assert get(f"{api_server}/markets/not-a-market-code-at-all!/")[0] == 404
    status, _, body = get(f"{api_server}/markets/krw-btc/")  # redirected to the canonical code
    assert status == 200
    assert 'data-market="KRW-BTC"' in body.decode()
    status, headers, body = get(f"{api_server}/static/dashboard/api.js")
    assert status == 200
    assert "javascript" in headers["Content-Type"]
    assert b"/api/realtime-price/" in body
    library = "/static/dashboard/vendor/lightweight-charts/lightweight-charts.standalone.production.js"
    status, _, body = get(api_server + library)
    assert status == 200
    assert b"TradingView Lightweight Charts" in body[:300]
    assert b"TradingView" in get(f"{api_server}/static/dashboard/vendor/lightweight-charts/NOTICE")[2]


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
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert "No issues found" in result.stdout or "passed" in result.stdout, report
