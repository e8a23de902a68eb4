"""Django + DRF API, Celery analysis and alerts, and the dashboard."""

from __future__ import annotations

from importlib.metadata import version

__version__ = version("cryptoflow-service")
