from __future__ import annotations

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "cryptoflow_service.alerts"
    label = "alerts"

    def ready(self) -> None:
        # Binds the tasks' `shared_task` proxies to our app (and its Redis broker) in every process that
        # queues deliveries, not only in the worker.
        import cryptoflow_service.celery_app  # noqa: F401, PLC0415
