"""Gap recovery: fetch the trades a market may have missed from `/v1/trades/ticks` and publish them.

A gap is opened with a floor (a trade time) when a connection drops or resubscribes, at start from the
checkpoint, or when a market is newly listed; it is fetched only once the market's subscription is live
again, so REST covers everything up to a moment when the WebSocket already delivers. Pages come newest
first; `sequential_id`s are not ordered, so trade time decides how far back to go (the floor already has
the safety margin subtracted) and the recent-id set decides what was missing. Duplicates are harmless
(the sink is exactly-once per id); a gap is not, so a failed backfill is retried and keeps the
checkpoint behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from typing import Protocol

from cryptoflow_contracts.records import TradeRecord, record_from_rest_trade
from cryptoflow_contracts.rest import RestTradeTick
from cryptoflow_ingest.connection import now_ms
from cryptoflow_ingest.metrics import IngestMetrics
from cryptoflow_ingest.publisher import SOURCE_BACKFILL
from cryptoflow_ingest.tracker import TradeTracker

log = logging.getLogger(__name__)

TradePages = Callable[[str, int, int], AsyncGenerator[Sequence[RestTradeTick]]]
"""`pages(market, floor_ms, now_ms)`: pages of `/v1/trades/ticks`, newest first, back to the floor."""


class BackfillSink(Protocol):
    async def publish_backfill(self, market: str, records: Sequence[TradeRecord]) -> None: ...


def missing_trades(
    ticks: Iterable[RestTradeTick], *, floor_ms: int, known: Callable[[int], bool]
) -> list[RestTradeTick]:
    return [tick for tick in ticks if tick.timestamp >= floor_ms and not known(tick.sequential_id)]


class Backfiller:
    def __init__(
        self,
        pages: TradePages,
        sink: BackfillSink,
        *,
        tracker: TradeTracker,
        metrics: IngestMetrics,
        concurrency: int,
        max_age_ms: int,
        settle_s: float = 1.0,
        retry_s: float = 5.0,
    ) -> None:
        self._pages = pages
        self._sink = sink
        self._tracker = tracker
        self._metrics = metrics
        self._concurrency = concurrency
        self._max_age_ms = max_age_ms
        self._settle_s = settle_s
        self._retry_s = retry_s
        # A gap's floor moves through three places: opened (`_waiting`), released by a live subscription
        # and settling (`_settling`, one batch per timer), then fetchable (`_floors`). A floor opened while
        # an earlier one is already queued waits for its own live moment: fetched before the market is
        # live again, the trades between that fetch and the resubscribe would be lost.
        self._waiting: dict[str, list[int]] = {}
        self._settling: list[dict[str, list[int]]] = []
        self._floors: dict[str, list[int]] = {}
        # Each market is queued at most once, so the queue is bounded by the number of markets.
        self._ready: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()
        self._busy = 0
        self.backfilled = 0
        self._timers: set[asyncio.Task[None]] = set()

    def open(self, market: str, floor_ms: int) -> None:
        """Trades of `market` from `floor_ms` on may be missing; fetched after the next `release(market)`."""
        floor_ms = max(floor_ms, now_ms() - self._max_age_ms)
        self._waiting.setdefault(market, []).append(floor_ms)
        self._tracker.open_gap(market, floor_ms)

    def release(self, markets: Iterable[str]) -> None:
        """These markets are live again: the gaps opened before now are fetched after `settle_s`.

        The pause covers the two ways a fetch made right away could end too early: after a resubscribe
        the first frame may still belong to the old subscription, and REST may show a trade a moment
        later than the WebSocket does.
        """
        released = {m: floors for m in markets if (floors := self._waiting.pop(m, None))}
        if released:
            self._later(self._settle_s, released)

    def _later(self, delay: float, released: dict[str, list[int]]) -> None:
        self._settling.append(released)

        async def enqueue() -> None:
            await asyncio.sleep(delay)
            self._settling.remove(released)
            for market, floors in released.items():
                self._floors.setdefault(market, []).extend(floors)
                if market not in self._queued:
                    self._queued.add(market)
                    self._ready.put_nowait(market)

        task = asyncio.create_task(enqueue())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    def drop(self, market: str) -> None:
        """A delisted market: forget its gaps."""
        self._waiting.pop(market, None)
        self._floors.pop(market, None)
        for released in self._settling:
            released.pop(market, None)

    @property
    def pending(self) -> int:
        """Markets with a released gap not fetched yet (settling, queued or being fetched)."""
        settling = {market for released in self._settling for market in released}
        return len(settling | self._queued) + self._busy

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                for index in range(self._concurrency):
                    group.create_task(self._worker(), name=f"backfill-{index}")
        finally:
            for timer in self._timers:
                timer.cancel()

    async def _worker(self) -> None:
        while True:
            market = await self._ready.get()
            self._queued.discard(market)
            floors = self._floors.pop(market, [])
            if not floors:
                continue
            self._busy += 1
            try:
                await self._backfill(market, min(floors))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("backfill of %s failed (%s: %s): retrying", market, type(exc).__name__, exc)
                self._later(self._retry_s, {market: floors})
            else:
                self._tracker.close_gaps(market, floors)
            finally:
                self._busy -= 1

    async def _backfill(self, market: str, floor_ms: int) -> None:
        tracker = self._tracker
        fetched = published = 0
        # Page by page: a long gap of a busy market never sits in memory as a whole.
        async with contextlib.aclosing(self._pages(market, floor_ms, now_ms())) as pages:
            async for page in pages:
                fetched += len(page)
                missing = missing_trades(
                    page, floor_ms=floor_ms, known=lambda sid: tracker.knows(market, sid)
                )
                if not missing:
                    continue
                received = now_ms()
                await self._sink.publish_backfill(
                    market,
                    [
                        record_from_rest_trade(t, received_ms=received, source=SOURCE_BACKFILL)
                        for t in missing
                    ],
                )
                # Only now: a failed publish must leave these ids unknown for the retry.
                for tick in missing:
                    tracker.seen(market, tick.sequential_id, tick.timestamp)
                published += len(missing)
                self.backfilled += len(missing)
        self._metrics.backfill_requests.inc()
        log.info(
            "backfill %s: %d trades fetched back to %d, %d were missing", market, fetched, floor_ms, published
        )
