"""The one async Upbit REST quotation client: rate limits per group, backoff, paging, raw bodies."""

from __future__ import annotations

from importlib.metadata import version

from cryptoflow_upbit_client.client import DEFAULT_BASE_URL, DEFAULT_QUOTES, ClientStats, UpbitRestClient
from cryptoflow_upbit_client.errors import UpbitError, UpbitHTTPError, UpbitRetriesExhausted
from cryptoflow_upbit_client.ratelimit import GroupLimiter, RateLimiter, SlidingWindow, default_group
from cryptoflow_upbit_client.types import (
    CandlePage,
    CandleUnit,
    RestResponse,
    TradePage,
    format_to,
    parse_utc,
)

__version__ = version("cryptoflow-upbit-client")

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_QUOTES",
    "CandlePage",
    "CandleUnit",
    "ClientStats",
    "GroupLimiter",
    "RateLimiter",
    "RestResponse",
    "SlidingWindow",
    "TradePage",
    "UpbitError",
    "UpbitHTTPError",
    "UpbitRestClient",
    "UpbitRetriesExhausted",
    "__version__",
    "default_group",
    "format_to",
    "parse_utc",
]
