"""Celery tasks of alerting. `deliver` makes one attempt per run and schedules its own retry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task

from cryptoflow_service.alerts import levels, services


def _deliver(task: Any, delivery_id: int) -> str:
    attempt = services.attempt_delivery(delivery_id=delivery_id)
    if attempt.retry_in_s is not None:
        raise task.retry(countdown=attempt.retry_in_s)
    return attempt.status


def _redeliver_stalled() -> int:
    stalled = services.stalled_deliveries(older_than=timedelta(minutes=10))
    services.enqueue_deliveries(stalled)
    return len(stalled)


def _evaluate_price_rules() -> int:
    return len(levels.evaluate_live())


def _evaluate_mart_rules() -> int:
    return len(levels.evaluate_marts())


# max_retries=None: `attempt_delivery` decides when to stop (CRYPTOFLOW_SERVICE_ALERT_MAX_RETRIES).
deliver = shared_task(name="alerts.deliver", bind=True, acks_late=True, max_retries=None)(_deliver)
redeliver_stalled = shared_task(name="alerts.redeliver_stalled")(_redeliver_stalled)
evaluate_price_rules = shared_task(name="alerts.evaluate_price_rules", ignore_result=True)(
    _evaluate_price_rules
)
evaluate_mart_rules = shared_task(name="alerts.evaluate_mart_rules", ignore_result=True)(_evaluate_mart_rules)
