from __future__ import annotations

from django.apps import AppConfig


class MartsConfig(AppConfig):
    name = "cryptoflow_service.marts"
    label = "marts"
    verbose_name = "Marts (read-only)"
