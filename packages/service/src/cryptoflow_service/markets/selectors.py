"""Reads that join the hot path (Redis) with the cold path (marts) and the service's own analyses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cryptoflow_service.analysis import selectors as analysis
from cryptoflow_service.common.markets import quote_of
from cryptoflow_service.live import selectors as live
from cryptoflow_service.marts import selectors as marts

RECENT_SIGNALS = 10


def market_known(*, market: str) -> bool:
    """A market is known if the hot path has seen it or the marts hold it."""
    return live.market_known(market=market) or marts.market_in_marts(market=market)


def unknown_markets(*, markets: Iterable[str]) -> list[str]:
    """Those of `markets` (in order, once each) that neither the hot path nor the marts know."""
    codes = list(dict.fromkeys(markets))
    live_known = live.known_markets(markets=codes)
    known = live_known | marts.markets_in_marts(markets=[code for code in codes if code not in live_known])
    return [code for code in codes if code not in known]


def market_list(*, quote: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """The live registry (Redis) joined with the cold path's market list (names, warning flag); markets
    only one side knows are included, with `live` telling which."""
    registry = live.registry()
    names = marts.mart_markets()
    rows: list[dict[str, Any]] = []
    for market in sorted(set(registry) | set(names)):
        entry = registry.get(market) or {
            "market": market,
            "quote": quote_of(market),
            "status": None,
            "last_seen_ms": None,
            "status_ms": None,
        }
        info = names.get(market)
        row = {
            **entry,
            "live": market in registry,
            "korean_name": info.korean_name if info else None,
            "english_name": info.english_name if info else None,
            "warning": info.warning if info else None,
            "caution": info.caution if info else None,
        }
        if (quote is None or row["quote"] == quote) and (status is None or row["status"] == status):
            rows.append(row)
    return rows


def market_overview(*, market: str) -> dict[str, Any] | None:
    """Everything about one market in one answer, or None if no store knows it."""
    ticker = live.ticker(market=market)
    book = live.orderbook(market=market)
    entry = live.registry_get(market=market)
    stats = marts.latest_stats_of(market=market)
    indicator = marts.latest_indicator(market=market)
    info = marts.mart_markets(markets=[market]).get(market)
    if not any((ticker, book, entry, stats, indicator, info)) and not marts.market_in_marts(market=market):
        return None
    top = None
    if book is not None:
        top = {
            name: book.get(name)
            for name in ("best_ask_price", "best_bid_price", "spread", "timestamp", "age_ms")
        }
    return {
        "market": market,
        "quote": entry["quote"] if entry else info.quote if info else quote_of(market),
        "registry": entry,
        "names": {
            "korean_name": info.korean_name,
            "english_name": info.english_name,
            "warning": info.warning,
            "caution": info.caution,
        }
        if info
        else None,
        "ticker": ticker,
        "orderbook_top": top,
        "stats_24h": stats,
        "indicators": indicator,
        "signals": analysis.recent_signals(market=market, limit=RECENT_SIGNALS),
        "trend": analysis.latest_trend(market=market),
    }
