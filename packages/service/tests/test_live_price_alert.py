"""A price rule on the real hot path: the simulator's price is driven across the level (its admin API),
ingest -> Kafka -> stream-sink carry it into Redis, Beat evaluates the price rules every half second, the
worker delivers: exactly one e-mail (aiosmtpd) and one Slack post (a local receiver), however long the
price stays above."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from cryptoflow_contracts import redis_keys
from cryptoflow_contracts.topics import TOPIC_SPECS
from cryptoflow_localstack.kafka_broker import KafkaBroker
from cryptoflow_localstack.process import free_port
from servicetest.processes import CeleryWorker
from servicetest.receivers import wait_until
from upbit_sim.testing import SimProcess, start_sim_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
MARKET = "KRW-BTC"
EVALUATED = re.compile(r"Task alerts\.evaluate_price_rules\[[^\]]+\] succeeded")


class Child:
    """A hot-path process started through its CLI module, its output in a log file."""

    def __init__(self, module: str, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", module],
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        self._log.close()


@pytest.fixture
def sim() -> Iterator[SimProcess]:
    process = start_sim_process(
        *("--markets", "3", "--rate", "40", "--seed", "7", "--history-days", "30", "--history-minutes", "1"),
        *("--log-interval", "0"),
    )
    yield process
    process.stop()


@pytest.fixture
def hot_path(
    sim: SimProcess, kafka_broker: KafkaBroker, kafka_topic_prefix: str, stack: Any, tmp_path: Path
) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(stack.redis_url, decode_responses=True)
    client.flushdb()  # no ticker planted by another test: only what the sink writes
    for spec in TOPIC_SPECS:
        kafka_broker.create_topics([f"{kafka_topic_prefix}{spec.name.value}"], partitions=spec.partitions)
    common = {"KAFKA_BOOTSTRAP": kafka_broker.bootstrap_servers, "TOPIC_PREFIX": kafka_topic_prefix}
    ingest = Child(
        "cryptoflow_ingest",
        {
            **{f"CRYPTOFLOW_INGEST_{k}": v for k, v in common.items()},
            "CRYPTOFLOW_INGEST_WS_URL": sim.ws_url,
            "CRYPTOFLOW_INGEST_REST_URL": sim.rest_url,
            "CRYPTOFLOW_INGEST_MARKETS": MARKET,
            "CRYPTOFLOW_INGEST_STATE_FILE": str(tmp_path / "ingest-state.json"),
            "CRYPTOFLOW_INGEST_METRICS_PORT": str(free_port()),
            "CRYPTOFLOW_INGEST_WS_DEFLATE": "false",
        },
        tmp_path / "ingest.log",
    )
    sink = Child(
        "cryptoflow_stream_sink",
        {
            **{f"CRYPTOFLOW_SINK_{k}": v for k, v in common.items()},
            "CRYPTOFLOW_SINK_GROUP_ID": f"{kafka_topic_prefix}sink",
            "CRYPTOFLOW_SINK_REDIS_URL": stack.redis_url,
            "CRYPTOFLOW_SINK_METRICS_PORT": str(free_port()),
        },
        tmp_path / "sink.log",
    )
    try:
        yield client
    finally:
        client.close()
        ingest.stop()
        sink.stop()


def live_price(client: redis.Redis) -> Decimal | None:
    value = client.hget(redis_keys.ticker_key(MARKET), "trade_price")
    return Decimal(str(value)) if value is not None else None


def test_a_price_rule_fires_once_when_the_simulator_crosses_it(  # noqa: PLR0917 - pytest fixtures
    api: Any,
    token_user: Any,
    sim: SimProcess,
    hot_path: redis.Redis,
    celery_worker: CeleryWorker,
    stack: Any,
    mailbox: Any,
    webhook: Any,
    tmp_path: Path,
) -> None:
    wait_until(lambda: live_price(hot_path) is not None, timeout=90, what="KRW-BTC's live ticker in Redis")
    start = live_price(hot_path)
    assert start is not None
    level = (start * Decimal("1.05")).quantize(Decimal(1000))
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_user[1]}")
    created = api.post(
        "/api/alert-rules/",
        {
            "name": "BTC breakout",
            "market": "krw-btc",
            "kind": "price_crosses_above",
            "level": str(level),
            "channels": ["log", "email", "slack"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["armed"] is True
    beat = CeleryWorker(
        ["beat", "--schedule", str(tmp_path / "beat-schedule"), "--loglevel", "INFO"],
        env=stack.env(CRYPTOFLOW_SERVICE_PRICE_RULES_EVERY_S="0.5"),
        log_path=tmp_path / "beat.log",
    )
    try:
        beat.wait_for_log(r"beat: Starting")
        before = len(EVALUATED.findall(celery_worker.log()))
        wait_until(
            lambda: len(EVALUATED.findall(celery_worker.log())) >= before + 2,
            timeout=30,
            what="Beat's price-rule evaluations",
        )
        assert mailbox.received() == []  # below the level: nothing
        moved = sim.admin("POST", f"/markets/{MARKET}/price", {"price": str(level * Decimal("1.03"))})
        assert Decimal(str(moved["price"])) > level
        wait_until(
            lambda: len(mailbox.received()) >= 1 and len(webhook.state.posts) >= 1,
            timeout=30,
            what="the e-mail and the Slack post",
        )
        assert (live_price(hot_path) or 0) > level
        subject = f"[CryptoFlow] KRW-BTC price crossed above {level}"
        [(recipients, message)] = mailbox.received()
        assert recipients == ["alice@example.com"]
        assert message["Subject"] == subject
        [post] = webhook.state.posts
        assert post["text"].startswith(f"*{subject}*\n")
        # The price stays above through more evaluations: still one of each.
        seen = len(EVALUATED.findall(celery_worker.log()))
        wait_until(
            lambda: len(EVALUATED.findall(celery_worker.log())) >= seen + 4,
            timeout=30,
            what="more price-rule evaluations",
        )
        assert len(mailbox.received()) == 1
        assert len(webhook.state.posts) == 1
        assert api.get("/api/alerts/?market=KRW-BTC").json()["count"] == 1
        rule = api.get(f"/api/alert-rules/{created.json()['id']}/").json()
        assert (rule["armed"], rule["crossings"]) == (False, 1)
    finally:
        beat.stop()
