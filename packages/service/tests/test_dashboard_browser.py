"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a real gunicorn server
over real Redis and PostgreSQL, with data planted the way the other stages write it (and tickers, trades
and books that keep moving while the tests run, as the stream sink's would).

Screenshots of every page at 1400 px and 390 px go to `$CRYPTOFLOW_STATE_DIR/test-artifacts/screenshots/`
(default `.state/` at the repository root) on every run; `page-load.json` beside them holds the times to the
first chart / first rows measured in the browser.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from cryptoflow_localstack.process import free_port
from servicetest import plant
from servicetest.processes import CeleryWorker, ServiceProcess

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = Path(os.environ.get("CRYPTOFLOW_STATE_DIR", REPO / ".state")) / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE = Path(__file__).parent / "browser/vendor/axe-core/axe.min.js"
WIDTHS = {"wide": 1400, "narrow": 390}
USER, PASSWORD = "carol", "correct horse battery staple"

# KRW-BTC gets history, indicators and crosses; the rest only live data.
MARKETS = {
    "KRW-BTC": ("104862000", "비트코인", "Bitcoin"),
    "KRW-ETH": ("5123000", "이더리움", "Ethereum"),
    "KRW-XRP": ("3120", "리플", "Ripple"),
    "BTC-ETH": ("0.04885", "이더리움", "Ethereum"),
    "BTC-XRP": ("0.00002977", "리플", "Ripple"),
    "USDT-BTC": ("71234.5", "비트코인", "Bitcoin"),
}
STALE_MARKET = "KRW-XRP"
DAYS = 60
MART_TABLES = ("markets", "market_stats_24h", "candles_1d", "candles_1m", "indicators")
pytestmark = pytest.mark.slow


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


class LiveFeed:
    """Moves every market's ticker, trades and book a little every 250 ms, as the stream sink would."""

    def __init__(self, redis_url: str) -> None:
        import redis  # noqa: PLC0415

        self.client = redis.Redis.from_url(redis_url, decode_responses=True)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.tick = 0

    def write(self) -> None:
        self.tick += 1
        now = now_ms()
        for index, (market, (base, *_)) in enumerate(MARKETS.items()):
            if market == STALE_MARKET and self.tick > 1:
                continue  # planted once: goes stale
            step = Decimal(base) * Decimal("0.0004") * ((self.tick + index) % 7 - 3)
            price = Decimal(base) + step
            received = now if market != STALE_MARKET else now - 120_000
            pipe = self.client.pipeline(transaction=True)  # the sink replaces a ticker atomically too
            plant.ticker(
                pipe,  # type: ignore[arg-type]
                market,
                received_ms=received,
                trade_price=price,
                opening_price=Decimal(base),
                high_price=Decimal(base) * Decimal("1.01"),
                low_price=Decimal(base) * Decimal("0.99"),
                prev_closing_price=Decimal(base),
                signed_change_rate=(price - Decimal(base)) / Decimal(base),
                change_rate=abs(price - Decimal(base)) / Decimal(base),
                signed_change_price=price - Decimal(base),
                change_price=abs(price - Decimal(base)),
                change="RISE" if price > Decimal(base) else "FALL" if price < Decimal(base) else "EVEN",
                acc_trade_price_24h=Decimal(base) * (100 + index * 37),
                acc_trade_volume_24h=Decimal(100 + index * 37),
            )
            pipe.execute()
            plant.trade(
                self.client,
                market,
                sequential_id=now * 10 + index,
                trade_timestamp=now,
                price=str(price),
                volume=f"0.{(self.tick * 37) % 1000:03d}1",
                side="BID" if self.tick % 2 else "ASK",
            )
            tick_size = Decimal(base) * Decimal("0.0005")
            plant.orderbook(
                self.client,
                market,
                received_ms=now,
                levels=[
                    (
                        str(price + tick_size * (level + 1)),
                        str(Decimal("0.5") + Decimal((level * 7 + self.tick) % 13) / 10),
                        str(price - tick_size * level),
                        str(Decimal("0.4") + Decimal((level * 5 + self.tick) % 11) / 10),
                    )
                    for level in range(15)
                ],
            )

    def run(self) -> None:
        while not self.stop_event.wait(0.25):
            self.write()

    def start(self) -> None:
        self.write()
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(5)
        self.client.close()


def plant_history() -> None:
    from cryptoflow_service.analysis.models import Signal  # noqa: PLC0415
    from cryptoflow_service.marts.models import Candle1m  # noqa: PLC0415

    today = datetime.now(UTC).date()
    last_day = today - timedelta(days=1)
    # A wave, so MA5 crosses MA20 both ways.
    closes = [
        100_000_000 + 4_000_000 * ((day % 24) - 12 if (day // 24) % 2 == 0 else 12 - (day % 24))
        for day in range(DAYS)
    ]
    rows = plant.daily_candles("KRW-BTC", closes, last_day=last_day, volume=150)
    for index, row in enumerate(rows):  # bodies and wicks, as real days have
        row.opening_price = Decimal(closes[index - 1] if index else closes[0] - 1_500_000)
        swing = Decimal(700_000 + (index * 370_000) % 2_100_000)
        row.high_price = max(row.opening_price, row.trade_price) + swing
        row.low_price = min(row.opening_price, row.trade_price) - swing
        row.volume = Decimal(90 + (index * 53) % 140)
        row.save()
    for index, row in enumerate(rows):
        window = closes[max(0, index - 19) : index + 1]
        plant.indicator(
            "KRW-BTC",
            row.candle_start.date(),
            str(row.trade_price),
            ma_5=Decimal(sum(closes[max(0, index - 4) : index + 1])) / min(5, index + 1)
            if index >= 4
            else None,
            ma_20=Decimal(sum(window)) / 20 if index >= 19 else None,
            rsi_14=Decimal(30 + (index * 7) % 45) if index >= 14 else None,
        )
    for index in (25, 37, 49):
        Signal.objects.create(
            market="KRW-BTC",
            kind="golden_cross" if index != 37 else "dead_cross",
            interval="1d",
            short_window=5,
            long_window=20,
            candle_start=rows[index].candle_start,
            price=rows[index].trade_price,
            change_percent=Decimal("1.5"),
            short_value=rows[index].trade_price,
            long_value=rows[index].trade_price,
        )
    # Minute candles: every 10 minutes of the last 24 h for the live markets (sparklines), and a run of
    # consecutive minutes for KRW-BTC's 1m chart.
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    minutes = []
    for index, (market, (base, *_)) in enumerate(MARKETS.items()):
        if market == "KRW-XRP":
            continue  # no history: its sparkline says so
        for step in range(144):
            moment = start - timedelta(minutes=10 * (143 - step))
            wave = Decimal(str(round(math.sin(step / (9 + index * 3)) + math.sin(step / 31) / 2, 4)))
            price = Decimal(base) * (1 + wave / 100)
            minutes.append((market, moment, price))
    Candle1m.objects.bulk_create(
        Candle1m(
            market=market,
            candle_start=moment,
            opening_price=price,
            high_price=price * Decimal("1.001"),
            low_price=price * Decimal("0.999"),
            trade_price=price,
            volume=Decimal(3),
            value=price * 3,
            last_trade_at=moment,
            updated_at=moment,
        )
        for market, moment, price in minutes
    )
    for market, (_, korean, english) in MARKETS.items():
        plant.market(market, korean=korean, english=english)


@pytest.fixture(scope="module")
def planted(
    stack: Any, redis_server: Any, django_db_setup: None, django_db_blocker: Any
) -> Iterator[dict[str, str]]:
    from django.contrib.auth import get_user_model  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415
    from rest_framework.authtoken.models import Token  # noqa: PLC0415

    redis_server.flushdb(0)  # other modules' tests leave their tickers behind
    with django_db_blocker.unblock():
        plant_history()
        user = get_user_model().objects.create_user(USER, email="carol@example.com", password=PASSWORD)
        token = Token.objects.create(user=user).key
    feed = LiveFeed(stack.redis_url)
    feed.start()
    try:
        yield {"token": token}
    finally:
        feed.stop()
        with django_db_blocker.unblock():
            get_user_model().objects.filter(username=USER).delete()
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE service_signal CASCADE")
                cursor.execute(f"TRUNCATE {', '.join(f'mart.{t}' for t in MART_TABLES)}")
        redis_server.flushdb(0)


@pytest.fixture(scope="module")
def server(stack: Any, planted: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service as deployed, with nothing at Airflow's or the metrics' addresses (free ports)."""
    port = free_port()
    nowhere = free_port()
    process = ServiceProcess(
        ["serve", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"],
        env=stack.env(
            CRYPTOFLOW_SERVICE_ANON_THROTTLE_RATE="off",
            CRYPTOFLOW_SERVICE_USER_THROTTLE_RATE="off",
            CRYPTOFLOW_SERVICE_AIRFLOW_URL=f"http://127.0.0.1:{nowhere}",
            CRYPTOFLOW_SERVICE_INGEST_METRICS_URL=f"http://127.0.0.1:{nowhere}/metrics",
            CRYPTOFLOW_SERVICE_SINK_METRICS_URL=f"http://127.0.0.1:{nowhere}/metrics",
            CRYPTOFLOW_SERVICE_HEALTH_TIMEOUT_S="0.5",
        ),
        log_path=tmp_path_factory.mktemp("dashboard") / "gunicorn.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        process.wait_http(f"{base}/healthz", timeout=180)  # the shared 2-core machine can be slow
        yield base
    finally:
        process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"no Chromium at {CHROMIUM}: run scripts/bootstrap.sh (apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()


# Chromium logs every 4xx answer as a console error. The prediction endpoint does not exist until the ML
# work lands (the page then says "No model yet"): its 404 is the one expected.
EXPECTED_MISSING = "/api/predict/"


class Console:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", self.on_console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def on_console(self, msg: ConsoleMessage) -> None:
        if msg.type != "error":
            return
        if msg.text.startswith("Failed to load resource") and EXPECTED_MISSING in msg.location.get("url", ""):
            return
        self.errors.append(f"{msg.text} ({msg.location.get('url')})")


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console, request: pytest.FixtureRequest) -> Iterator[Page]:
    width = getattr(request, "param", WIDTHS["wide"])
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(15_000)
    console.watch(page)
    yield page
    context.close()
    assert console.errors == [], f"console errors: {console.errors}"


def api_get(server: str, path: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Token {token}"} if token else {}
    response = httpx.get(server + path, headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()


def board_rows(page: Page) -> list[str]:
    return page.locator("#rows tr[data-market]").evaluate_all("rows => rows.map(r => r.dataset.market)")


def test_board_lists_every_market_and_prices_move(server: str, page: Page) -> None:
    page.goto(f"{server}/?quote=ALL")
    expect(page.locator("#rows tr[data-market]")).to_have_count(len(MARKETS))
    assert sorted(board_rows(page)) == sorted(MARKETS)
    cell = page.locator('#rows tr[data-market="KRW-BTC"] td[data-col="price"]')
    first = cell.inner_text()
    expect(cell).not_to_have_text(first, timeout=8000)
    stale = page.locator(f'#rows tr[data-market="{STALE_MARKET}"] .badge.stale')
    expect(stale).to_have_text("stale")
    expect(page.locator('#rows tr[data-market="KRW-BTC"] svg.spark')).to_have_count(1)
    expect(page.locator(f'#rows tr[data-market="{STALE_MARKET}"] .spark-col')).to_have_text("no 24h data")
    link = page.locator('#rows tr[data-market="KRW-ETH"] a')
    assert link.get_attribute("href") == "/markets/KRW-ETH/"


def test_board_search_tab_and_sort_survive_a_reload(server: str, page: Page) -> None:
    page.goto(server)
    expect(page.get_by_role("tab", name="KRW")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#rows tr[data-market]")).to_have_count(3)
    page.get_by_role("tab", name="BTC").click()
    expect(page.locator("#rows tr[data-market]")).to_have_count(2)
    assert set(board_rows(page)) == {"BTC-ETH", "BTC-XRP"}
    page.get_by_role("tab", name="All").click()
    page.get_by_label("Search markets").fill("이더")
    expect(page.locator("#rows tr[data-market]")).to_have_count(2)
    assert set(board_rows(page)) == {"KRW-ETH", "BTC-ETH"}
    page.get_by_label("Search markets").fill("")
    page.locator("th[data-sort=market] button").click()  # ascending by code
    expect(page.locator("th[data-sort=market]")).to_have_attribute("aria-sort", "ascending")
    assert board_rows(page) == sorted(MARKETS)
    page.locator("th[data-sort=market] button").click()  # descending
    assert board_rows(page) == sorted(MARKETS, reverse=True)
    page.get_by_label("Search markets").fill("btc")
    expect(page.locator("#rows tr[data-market]")).to_have_count(4)
    for part in ("quote=ALL", "sort=market", "q=btc"):
        assert part in page.url
    assert "dir=" not in page.url  # descending is the default
    page.reload()
    expect(page.get_by_role("tab", name="All")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("Search markets")).to_have_value("btc")
    expect(page.locator("#rows tr[data-market]")).to_have_count(4)
    assert board_rows(page) == sorted((m for m in MARKETS if "BTC" in m), reverse=True)
    # Keyboard: the tabs move with the arrow keys.
    page.get_by_role("tab", name="All").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="KRW")).to_have_attribute("aria-selected", "true")


def test_market_chart_draws_the_apis_candles_and_crosses(server: str, page: Page) -> None:
    page.goto(f"{server}/markets/KRW-BTC/?interval=1d")
    page.wait_for_selector("#chart[data-ready='1']")
    api = api_get(server, "/api/candles/KRW-BTC/?interval=1d&limit=365")
    last_api = api["candles"][-1]["candle_start"] // 1000
    drawn = page.evaluate(f"window.cryptoflow.candles.data().filter(c => c.time <= {last_api}).length")
    assert drawn == api["count"] == DAYS
    assert page.evaluate("window.cryptoflow.apiCandles") == api["count"]
    signals = api_get(server, "/api/signals/?market=KRW-BTC&interval=1d&limit=500")["results"]
    crosses = sorted(
        s["candle_start"] // 1000 for s in signals if s["kind"] in {"golden_cross", "dead_cross"}
    )
    assert len(crosses) == 3
    assert sorted(page.evaluate("window.cryptoflow.markers.map(m => m.time)")) == crosses
    # The live ticker draws today's candle after the API's closed days.
    page.wait_for_function(f"window.cryptoflow.candles.data().at(-1).time > {last_api}")
    expect(page.locator("#chart-notes")).to_contain_text("3 MA crosses")
    # Crosshair tooltip: hovering the chart shows the candle's values.
    box = page.locator("#chart canvas").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.4)
    expect(page.locator("#tooltip")).to_contain_text("MA20")
    # Book: 15 levels a side; both the book and the tape keep updating.
    expect(page.locator("#book table")).to_have_attribute("data-levels", "15")
    expect(page.locator("#book tr.ask")).to_have_count(15)
    expect(page.locator("#tape tbody tr")).to_have_count(50)
    book_before = page.locator("#book").get_attribute("data-updated")
    tape_before = page.locator("#tape").get_attribute("data-newest")
    page.wait_for_function(f"document.querySelector('#book').dataset.updated !== '{book_before}'")
    page.wait_for_function(f"document.querySelector('#tape').dataset.newest !== '{tape_before}'")
    newest = api_get(server, "/api/trades/KRW-BTC/?limit=1")["trades"][0]["sequential_id"]
    assert int(page.locator("#tape tbody tr").first.get_attribute("data-id") or 0) <= newest
    expect(page.locator("#prediction")).to_contain_text("No model yet")
    expect(page.locator("#market-alerts")).to_contain_text("Sign in")


def test_market_intervals_without_data_say_so(server: str, page: Page) -> None:
    page.goto(f"{server}/markets/KRW-XRP/?interval=1d")
    expect(page.locator("#chart .notice")).to_have_text(
        "No 1d candles for KRW-XRP yet. Try another interval."
    )
    page.goto(f"{server}/markets/KRW-BTC/?interval=1h")
    # 1h candles are served (built from archived trades), and this world has none for KRW-BTC.
    no_hours = "No 1h candles for KRW-BTC yet. Try another interval."
    expect(page.locator("#chart .notice")).to_have_text(no_hours)
    page.goto(f"{server}/markets/KRW-BTC/?interval=1m")
    page.wait_for_selector("#chart[data-ready='1']")
    api = api_get(server, "/api/candles/KRW-BTC/?interval=1m&limit=300")
    assert page.evaluate("window.cryptoflow.apiCandles") == api["count"] > 0
    expect(page.locator("#chart-notes")).to_contain_text("Indicators for 1m candles are not served")


def sign_in(page: Page, server: str) -> None:
    page.goto(f"{server}/alerts/")
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/alerts/")


def test_alert_rule_form_creates_pauses_and_deletes(
    server: str, page: Page, console: Console, planted: dict[str, str]
) -> None:
    sign_in(page, server)
    form = page.locator("#rule-form")
    expect(form.get_by_role("button", name="Create rule")).to_be_visible()
    # The API's validation message, inline.
    form.get_by_label("Name").fill("bad thresholds")
    form.get_by_label("Price above (optional)").fill("200")
    form.get_by_label("Price below (optional)").fill("100")
    form.get_by_role("button", name="Create rule").click()
    expect(page.locator('[data-error-for="price_above"]')).to_contain_text(
        "must not be greater than price_below"
    )
    assert api_get(server, "/api/alert-rules/", planted["token"])["count"] == 0
    assert [e for e in console.errors if "400 (Bad Request)" in e and "/api/alert-rules/" in e]
    console.errors.clear()  # that 400 was the point
    form.get_by_label("Price above (optional)").fill("")
    form.get_by_label("Price below (optional)").fill("")
    form.get_by_label("Name").fill("BTC golden cross")
    form.get_by_label("Market (optional)").fill("krw-btc")
    form.get_by_label(re.compile("^Kind")).select_option("golden_cross")
    form.get_by_role("button", name="Create rule").click()
    expect(page.locator("#rules tr[data-rule]")).to_have_count(1)
    rules = api_get(server, "/api/alert-rules/", planted["token"])["results"]
    assert [(r["name"], r["market"], r["kind"], r["enabled"]) for r in rules] == [
        ("BTC golden cross", "KRW-BTC", "golden_cross", True)
    ]
    page.get_by_role("button", name="Pause BTC golden cross").click()
    expect(page.locator("#rules .pill")).to_have_text("paused")
    assert api_get(server, "/api/alert-rules/", planted["token"])["results"][0]["enabled"] is False
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete BTC golden cross").click()
    expect(page.locator("#rules")).to_contain_text("No rules yet")
    assert api_get(server, "/api/alert-rules/", planted["token"])["count"] == 0


def test_health_page_says_airflow_is_unreachable(
    server: str, page: Page, celery_worker: CeleryWorker
) -> None:
    """No Airflow in this test (too heavy for the suite): the page must say so, clearly, in red. Beat's
    last runs come from a real worker running a real task."""
    from cryptoflow_service.celery_app import app  # noqa: PLC0415

    result = app.send_task("alerts.redeliver_stalled")
    assert "succeeded" in celery_worker.wait_for_task(result.id)
    page.goto(f"{server}/health/")
    beat_row = page.locator("#h-beat tbody tr", has_text="redeliver-stalled")
    expect(beat_row).to_contain_text("SUCCESS")
    expect(beat_row.locator(".pill")).to_have_text("green")
    airflow = page.locator("#h-airflow")
    expect(airflow).to_have_attribute("data-level", "red")
    expect(airflow).to_contain_text("Airflow unreachable")
    expect(page.locator("#h-kafka")).to_contain_text("unreachable")
    expect(page.locator("#h-data")).to_have_attribute("data-level", "red")  # KRW-XRP is stale
    expect(page.locator("#h-data tbody tr")).to_have_count(len(MARKETS))
    expect(page.locator("#h-beat tbody tr", has_text="volume-scan")).to_contain_text("never")
    expect(page.locator("#h-data .threshold")).to_contain_text("amber from 10 s, red from 60 s")


PAGES = {
    "board": ("/", "#rows tr[data-market]"),
    "market": ("/markets/KRW-BTC/?interval=1d", "#chart[data-ready='1']"),
    "alerts": ("/alerts/", "#rules table, #rules .empty"),
    "health": ("/health/", "#h-airflow[data-level]"),
}


@pytest.mark.parametrize("page", list(WIDTHS.values()), indirect=True, ids=list(WIDTHS))
def test_every_page_is_accessible_and_screenshotted(server: str, page: Page) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    label = next(name for name, value in WIDTHS.items() if value == width)
    sign_in(page, server)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    for name, (path, ready) in PAGES.items():
        page.goto(server + path)
        page.wait_for_selector(ready)
        page.wait_for_timeout(300)  # let a poll land so the screenshot shows live values
        mark = "first-chart" if name == "market" else "first-rows" if name == "board" else None
        if mark:
            timings[name] = page.evaluate(f"performance.getEntriesByName('{mark}')[0]?.startTime ?? -1")
        page.screenshot(path=SCREENSHOTS / f"{name}-{label}-{width}.png", full_page=True)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in {"serious", "critical"}
        ]
        assert serious == [], f"{name} at {width} px: {serious}"
        # Keyboard: the first Tab reaches the skip link, the next ones the navigation.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    report = ARTIFACTS / "page-load.json"
    previous = json.loads(report.read_text()) if report.exists() else {}
    previous[f"{label}-{width}"] = {k: round(v, 1) for k, v in timings.items()}
    report.write_text(json.dumps(previous, indent=2) + "\n")
    print(f"page load at {width} px (ms from navigation): {timings}")
    assert all(value > 0 for value in timings.values()), timings
