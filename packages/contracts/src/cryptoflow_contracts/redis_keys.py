"""Redis key names. Each per-market key carries a `{market}` hash tag so the layout works on Redis Cluster."""

from __future__ import annotations

MARKETS_KEY = "markets"


def ticker_key(market: str) -> str:
    """Hash of the latest ticker fields of `market`."""
    return f"ticker:{{{market}}}"


def trades_key(market: str) -> str:
    """Stream of the trades of `market`, capped with MAXLEN ~."""
    return f"trades:{{{market}}}"


def trade_ids_key(market: str) -> str:
    """The exactly-once guard of `trades_key(market)`: a sorted set, member `sequential_id`, score
    `trade_timestamp`, trimmed by count and age (bounds in the stream-sink README)."""
    return f"trade-ids:{{{market}}}"


def orderbook_key(market: str) -> str:
    """Latest top-N orderbook snapshot of `market`."""
    return f"orderbook:{{{market}}}"
