"""`cryptoflow_contracts.markets`: the one parser of market codes."""

from __future__ import annotations

import pytest

from cryptoflow_contracts.markets import (
    MarketPair,
    base_of,
    normalize_market,
    normalize_quote,
    quote_of,
)


def test_parse_splits_quote_and_base() -> None:
    pair = MarketPair.parse("KRW-BTC")
    assert pair == MarketPair("KRW", "BTC")
    assert (pair.quote, pair.base, pair.code, str(pair)) == ("KRW", "BTC", "KRW-BTC", "KRW-BTC")
    assert MarketPair.parse("USDT-1INCH").base == "1INCH"


@pytest.mark.parametrize("text", ["krw-btc", "KRWBTC", "KRW-", "-BTC", "KRW-BTC-X", " KRW-BTC", "", "K-BTC"])
def test_parse_refuses_what_is_not_an_exact_code(text: str) -> None:
    with pytest.raises(ValueError, match="not a market code"):
        MarketPair.parse(text)


def test_normalize_reads_case_insensitively() -> None:
    assert MarketPair.normalize(" krw-btc ") == MarketPair("KRW", "BTC")
    assert MarketPair.normalize("K-R-W") is None
    assert normalize_market("btc-eth") == "BTC-ETH"
    assert normalize_market("$$") is None
    assert normalize_quote("usdt") == "USDT"
    assert normalize_quote("K-R") is None


def test_quote_and_base_of_a_well_formed_code() -> None:
    assert quote_of("BTC-ETH") == "BTC"
    assert base_of("BTC-ETH") == "ETH"
    assert [quote_of(c) for c in ("KRW-BTC", "USDT-XRP")] == ["KRW", "USDT"]
