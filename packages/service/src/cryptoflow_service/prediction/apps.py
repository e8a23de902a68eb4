from __future__ import annotations

from django.apps import AppConfig


class PredictionConfig(AppConfig):
    name = "cryptoflow_service.prediction"
    label = "prediction"
    verbose_name = "ML predictions (read-only)"
