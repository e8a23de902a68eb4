"""The Celery app (Redis broker). Tasks live in each app's `tasks.py`; the Beat schedule in `schedule.py`
(installed as `CELERY_BEAT_SCHEDULE` by the settings)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cryptoflow_service.settings")

app = Celery("cryptoflow_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["cryptoflow_service.analysis", "cryptoflow_service.alerts"])


def _record_run(task: Task | None = None, state: str = "", kwargs: Any = None, **_: Any) -> None:
    """Every finished task's time and state, for the dashboard's health page (Beat keeps none we can read)."""
    from cryptoflow_service.dashboard.pipeline import record_task_run  # noqa: PLC0415 - needs Django set up

    record_task_run(task, state, kwargs)


task_postrun.connect(_record_run, weak=False)
