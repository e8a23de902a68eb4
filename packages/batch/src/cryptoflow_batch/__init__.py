"""Airflow 3 DAGs and the ELT library behind them: Upbit REST -> PostgreSQL lake -> marts."""

from __future__ import annotations

from importlib.metadata import version

__version__ = version("cryptoflow-batch")
