"""Feature engineering, training and inference shared by batch and service."""

from __future__ import annotations

from importlib.metadata import version

__version__ = version("cryptoflow-ml")
