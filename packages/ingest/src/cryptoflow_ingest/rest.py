"""What ingest asks of Upbit REST, through the shared `cryptoflow_upbit_client` (limits, retries, paging)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, Sequence

from cryptoflow_contracts.rest import RestMarket, RestTradeTick
from cryptoflow_upbit_client import UpbitRestClient

MAX_DAYS_AGO = 7


def days_back(floor_ms: int, now_ms: int) -> int:
    """How many UTC days before today `/v1/trades/ticks` must reach (`days_ago`) to get back to `floor_ms`."""
    floor_day = dt.datetime.fromtimestamp(floor_ms / 1000, dt.UTC).date()
    today = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC).date()
    return max(0, min(MAX_DAYS_AGO, (today - floor_day).days))


class UpbitSource:
    """Market discovery and trade history for ingest."""

    def __init__(self, client: UpbitRestClient) -> None:
        self._client = client

    async def market_all(self) -> list[RestMarket]:
        return (await self._client.market_all(is_details=True)).models(RestMarket)

    async def trade_pages(
        self, market: str, floor_ms: int, now_ms: int
    ) -> AsyncGenerator[Sequence[RestTradeTick]]:
        """Pages newest first, back to `floor_ms`: today's trades, then earlier UTC days (`days_ago`)
        when the floor lies before today. The caller may stop early."""
        for days_ago in range(days_back(floor_ms, now_ms) + 1):
            async for page in self._client.iter_trades(market, days_ago=days_ago or None, since_ms=floor_ms):
                yield page.response.models(RestTradeTick)
                if page.oldest_timestamp_ms is not None and page.oldest_timestamp_ms <= floor_ms:
                    return
