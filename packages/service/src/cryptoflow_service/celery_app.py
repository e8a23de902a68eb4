"""The Celery app (Redis broker). Tasks live in each app's `tasks.py`; the Beat schedule in `schedule.py`
(installed as `CELERY_BEAT_SCHEDULE` by the settings)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cryptoflow_service.settings")

app = Celery("cryptoflow_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["cryptoflow_service.analysis", "cryptoflow_service.alerts"])
