"""Pydantic v2 models of every message that crosses a CryptoFlow process boundary, with schema export
and a compatibility gate."""

from __future__ import annotations

from importlib.metadata import version

__version__ = version("cryptoflow-contracts")
