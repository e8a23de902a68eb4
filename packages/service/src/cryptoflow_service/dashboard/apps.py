from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "cryptoflow_service.dashboard"
    label = "dashboard"
