"""Upbit market codes (`KRW-BTC`: quote currency, a dash, base currency), parsed in one place.

Every package that splits a code or checks one uses these: `quote_of` / `base_of` on codes that came from
Upbit or the contracts (no validation, hot-path cheap), `MarketPair.parse` on anything typed by a person or
read from configuration (strict: a clear `ValueError` naming the text), `normalize_market` /
`normalize_quote` where input is case-insensitive (the API's query parameters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "MARKET_PATTERN",
    "QUOTE_PATTERN",
    "MarketPair",
    "base_of",
    "normalize_market",
    "normalize_quote",
    "quote_of",
]

MARKET_PATTERN = r"^[A-Z0-9]{2,10}-[A-Z0-9]{1,20}$"
"""An upper-case market code: 2-10 letters or digits of quote currency, a dash, 1-20 of base currency."""
QUOTE_PATTERN = r"^[A-Z0-9]{2,10}$"
_MARKET = re.compile(MARKET_PATTERN)
_QUOTE = re.compile(QUOTE_PATTERN)


@dataclass(frozen=True, slots=True, order=True)
class MarketPair:
    """A market code's two halves: `MarketPair.parse("KRW-BTC") == MarketPair("KRW", "BTC")`."""

    quote: str
    base: str

    @classmethod
    def parse(cls, text: str) -> MarketPair:
        """The pair of an exact, upper-case code; `ValueError` naming `text` otherwise."""
        if not isinstance(text, str) or not _MARKET.match(text):
            raise ValueError(f"not a market code (QUOTE-BASE, e.g. KRW-BTC): {text!r}")
        quote, _, base = text.partition("-")
        return cls(quote, base)

    @classmethod
    def normalize(cls, text: str) -> MarketPair | None:
        """The pair of `text` read case-insensitively (`krw-btc`), or None when it is not a code."""
        code = normalize_market(text)
        return None if code is None else cls.parse(code)

    @property
    def code(self) -> str:
        return f"{self.quote}-{self.base}"

    def __str__(self) -> str:
        return self.code


def quote_of(code: str) -> str:
    """The quote currency of a well-formed code: the part before the dash (`KRW-BTC` -> `KRW`)."""
    return code.partition("-")[0]


def base_of(code: str) -> str:
    """The base currency of a well-formed code: the part after the dash (`KRW-BTC` -> `BTC`)."""
    return code.partition("-")[2]


def normalize_market(text: str) -> str | None:
    """The upper-case market code, or None when `text` is not one (`krw-btc` -> `KRW-BTC`)."""
    code = text.strip().upper()
    return code if _MARKET.match(code) else None


def normalize_quote(text: str) -> str | None:
    """The upper-case quote currency, or None when `text` is not one (`krw` -> `KRW`)."""
    code = text.strip().upper()
    return code if _QUOTE.match(code) else None
