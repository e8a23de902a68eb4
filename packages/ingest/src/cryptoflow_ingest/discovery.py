"""Which markets to carry: `/v1/market/all`, filtered by settings."""

from __future__ import annotations

from collections.abc import Iterable

from cryptoflow_contracts.markets import quote_of
from cryptoflow_contracts.rest import RestMarket
from cryptoflow_ingest.settings import IngestSettings


def select_markets(listed: Iterable[RestMarket], settings: IngestSettings) -> list[str]:
    """Listed markets, narrowed to `settings.markets` when given (a delisted one drops out all the same),
    else to `settings.quote_currencies` when given."""
    codes = [market.market for market in listed]
    if settings.markets:
        wanted = set(settings.markets)
        return sorted(code for code in codes if code in wanted)
    if settings.quote_currencies:
        quotes = set(settings.quote_currencies)
        return sorted(code for code in codes if quote_of(code) in quotes)
    return sorted(codes)
