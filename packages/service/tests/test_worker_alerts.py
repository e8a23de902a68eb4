"""End to end with a real Celery worker process, a real SMTP server and a real webhook receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from cryptoflow_service.alerts.models import Alert, AlertRule, Delivery
from cryptoflow_service.analysis.models import Signal
from cryptoflow_service.analysis.tasks import detect_crosses
from servicetest import plant
from servicetest.receivers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
ALERT_LINE = "ALERT [CryptoFlow] Golden cross on KRW-BTC (1d, MA5/MA20)"


@pytest.fixture
def rule() -> AlertRule:
    owner = get_user_model().objects.create_user("alice", email="alice@example.com")
    return AlertRule.objects.create(
        owner=owner,
        name="BTC golden",
        market="KRW-BTC",
        kind="golden_cross",
        channels=["log", "email", "slack"],
    )


def plant_golden_cross() -> None:
    """Yesterday's row of mart.indicators flags MA5 crossing above MA20 (as the batch engine writes it)."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    plant.indicator("KRW-BTC", yesterday - timedelta(days=1), "99")
    plant.indicator("KRW-BTC", yesterday, "120", golden_cross=True, ma_5=Decimal(99), ma_20=Decimal("98.5"))


def run_detection(worker: Any, runs: int = 1) -> None:
    results = [detect_crosses.delay(interval="1d") for _ in range(runs)]
    for result in results:
        assert "succeeded" in worker.wait_for_task(result.id)


def deliveries() -> dict[str, Delivery]:
    return {delivery.channel: delivery for delivery in Delivery.objects.all()}


def settled(*channels: str) -> bool:
    found = deliveries()
    return set(found) == set(channels) and all(d.status in {"sent", "failed"} for d in found.values())


def test_a_planted_cross_is_detected_once_and_delivered_once_per_channel(
    celery_worker: Any, rule: AlertRule, mailbox: Any, webhook: Any
) -> None:
    plant_golden_cross()
    run_detection(celery_worker)
    wait_until(lambda: settled("log", "email", "slack"), what="three deliveries")
    assert {channel: d.status for channel, d in deliveries().items()} == {
        "log": "sent",
        "email": "sent",
        "slack": "sent",
    }
    signal = Signal.objects.get()
    assert (signal.market, signal.kind, signal.interval) == ("KRW-BTC", "golden_cross", "1d")
    wait_until(
        lambda: len(mailbox.received()) == 1 and len(webhook.state.posts) == 1, what="mail and webhook"
    )
    recipients, message = mailbox.received()[0]
    assert recipients == ["alice@example.com"]
    assert message["Subject"] == "[CryptoFlow] Golden cross on KRW-BTC (1d, MA5/MA20)"
    assert "crossed above MA20" in message.get_payload()
    assert "Golden cross on KRW-BTC" in webhook.state.posts[0]["text"]
    wait_until(lambda: ALERT_LINE in celery_worker.log(), what="the log channel's line")

    # The task again, twice at once (two worker processes race): nothing new anywhere.
    run_detection(celery_worker, runs=2)
    assert Signal.objects.count() == 1
    assert Alert.objects.count() == 1
    assert Delivery.objects.count() == 3
    assert len(mailbox.received()) == 1
    assert len(webhook.state.posts) == 1
    assert celery_worker.log().count(ALERT_LINE) == 1


def test_a_failing_channel_is_retried_and_does_not_block_the_others(
    celery_worker: Any, rule: AlertRule, mailbox: Any, webhook: Any
) -> None:
    webhook.state.fail_next = 100  # Slack is down for good
    plant_golden_cross()
    run_detection(celery_worker)
    wait_until(lambda: settled("log", "email", "slack"), what="deliveries to settle")
    found = deliveries()
    assert found["log"].status == "sent"
    assert found["email"].status == "sent"
    assert len(mailbox.received()) == 1
    slack = found["slack"]
    assert slack.status == "failed"
    assert slack.attempts == 3
    assert "HTTP 500" in slack.last_error
    assert slack.sent_at is None
    assert webhook.state.attempts == 3
    assert webhook.state.posts == []


def test_a_channel_that_recovers_is_delivered_on_retry(
    celery_worker: Any, rule: AlertRule, mailbox: Any, webhook: Any
) -> None:
    webhook.state.fail_next = 1
    plant_golden_cross()
    run_detection(celery_worker)
    wait_until(lambda: settled("log", "email", "slack"), what="deliveries to settle")
    slack = deliveries()["slack"]
    assert slack.status == "sent"
    assert slack.attempts == 2
    assert "HTTP 500" in slack.last_error
    assert webhook.state.attempts == 2
    assert len(webhook.state.posts) == 1


def test_rules_that_do_not_match_fire_nothing(celery_worker: Any, rule: AlertRule, webhook: Any) -> None:
    rule.price_above = 1000  # the cross closes at 120
    rule.save()
    plant_golden_cross()
    run_detection(celery_worker)
    assert Signal.objects.count() == 1
    assert Alert.objects.count() == 0
    assert Delivery.objects.count() == 0
