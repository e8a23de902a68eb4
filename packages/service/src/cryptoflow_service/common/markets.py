"""Market codes (`KRW-BTC`): the contracts' one parser (`cryptoflow_contracts.markets`), used by every
endpoint that takes one."""

from __future__ import annotations

from cryptoflow_contracts.markets import (
    MARKET_PATTERN,
    QUOTE_PATTERN,
    normalize_market,
    normalize_quote,
    quote_of,
)

__all__ = ["MARKET_PATTERN", "QUOTE_PATTERN", "normalize_market", "normalize_quote", "quote_of"]
