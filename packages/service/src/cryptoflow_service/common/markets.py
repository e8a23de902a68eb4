"""Market codes (`KRW-BTC`): validation shared by every endpoint that takes one."""

from __future__ import annotations

import re

MARKET_PATTERN = r"^[A-Z0-9]{2,10}-[A-Z0-9]{1,20}$"
QUOTE_PATTERN = r"^[A-Z0-9]{2,10}$"
_MARKET = re.compile(MARKET_PATTERN)
_QUOTE = re.compile(QUOTE_PATTERN)


def normalize_market(text: str) -> str | None:
    """The upper-case market code, or None when `text` is not one (`krw-btc` -> `KRW-BTC`)."""
    code = text.strip().upper()
    return code if _MARKET.match(code) else None


def normalize_quote(text: str) -> str | None:
    code = text.strip().upper()
    return code if _QUOTE.match(code) else None


def quote_of(market: str) -> str:
    """Upbit codes are `QUOTE-BASE`: the quote currency is the part before the dash."""
    return market.split("-", 1)[0]
