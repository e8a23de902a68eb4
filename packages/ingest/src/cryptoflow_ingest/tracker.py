"""What the process knows about each market's trades: the ids it has seen recently, the newest trade time
it has received, and the newest trade time Kafka has acknowledged (the restart checkpoint).

The checkpoint is a small JSON file rather than a scan of `upbit.trade` at start: reading it costs the
same for 5 or 700 markets and does not depend on Kafka retention, and it stays correct as long as it never
claims more than Kafka holds. So a market's value only moves after Kafka acked the trades up to it (acks
arrive in send order), and never past the floor of a gap that is still being backfilled.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

_FILE_VERSION = 1


@dataclass(slots=True)
class _Market:
    last_seen_ms: int | None = None
    acked_ms: int | None = None
    # Floors of gaps still being backfilled (a multiset: two gaps may share a floor).
    gaps: Counter[int] = field(default_factory=Counter)
    recent: deque[tuple[int, int]] = field(default_factory=deque)
    ids: set[int] = field(default_factory=set)


class TradeTracker:
    def __init__(self, *, keep_ms: int, max_ids: int = 20_000) -> None:
        # Ids older than the newest trade minus `keep_ms` are forgotten: a backfill that reaches further
        # back only publishes duplicates, which the sink drops.
        self._keep_ms = keep_ms
        self._max_ids = max_ids
        self._markets: dict[str, _Market] = {}
        self._dirty = False

    def _get(self, market: str) -> _Market:
        state = self._markets.get(market)
        if state is None:
            state = self._markets[market] = _Market()
        return state

    def seen(self, market: str, sequential_id: int, trade_ms: int) -> None:
        """A trade was received (WebSocket) or fetched (REST) and is on its way to Kafka."""
        state = self._get(market)
        if sequential_id in state.ids:
            return
        state.ids.add(sequential_id)
        state.recent.append((trade_ms, sequential_id))
        if state.last_seen_ms is None or trade_ms > state.last_seen_ms:
            state.last_seen_ms = trade_ms
        horizon = state.last_seen_ms - self._keep_ms
        recent = state.recent
        while recent and (recent[0][0] < horizon or len(recent) > self._max_ids):
            state.ids.discard(recent.popleft()[1])

    def knows(self, market: str, sequential_id: int) -> bool:
        state = self._markets.get(market)
        return state is not None and sequential_id in state.ids

    def last_seen_ms(self, market: str) -> int | None:
        """Newest trade time received, else the checkpoint loaded at start."""
        state = self._markets.get(market)
        if state is None:
            return None
        return state.last_seen_ms if state.last_seen_ms is not None else state.acked_ms

    def acked(self, market: str, trade_ms: int) -> None:
        state = self._get(market)
        if state.acked_ms is None or trade_ms > state.acked_ms:
            state.acked_ms = trade_ms
            self._dirty = True

    def open_gap(self, market: str, floor_ms: int) -> None:
        """Trades from `floor_ms` on may be missing until a backfill closes this gap."""
        self._get(market).gaps[floor_ms] += 1
        self._dirty = True

    def close_gaps(self, market: str, floors_ms: Sequence[int]) -> None:
        """The backfill of these gaps was acked; gaps opened meanwhile stay open."""
        gaps = self._get(market).gaps
        gaps.subtract(floors_ms)
        for floor in [floor for floor, count in gaps.items() if count <= 0]:
            del gaps[floor]
        self._dirty = True

    def forget(self, market: str) -> None:
        """A delisted market: nothing more to track or backfill."""
        if self._markets.pop(market, None) is not None:
            self._dirty = True

    def checkpoint(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for market, state in self._markets.items():
            values = [*state.gaps] if state.acked_ms is None else [state.acked_ms, *state.gaps]
            if values:
                out[market] = min(values)
        return out

    def load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            log.info("no state file at %s: starting without a checkpoint", path)
            return
        except (OSError, ValueError) as exc:
            log.warning("state file %s unreadable (%s): starting without a checkpoint", path, exc)
            return
        markets = data.get("markets") if isinstance(data, dict) else None
        if not isinstance(markets, dict) or data.get("version") != _FILE_VERSION:
            log.warning("state file %s has an unknown layout: starting without a checkpoint", path)
            return
        for market, value in markets.items():
            if isinstance(market, str) and isinstance(value, int):
                self._get(market).acked_ms = value
        log.info("state file %s: checkpoint for %d markets", path, len(markets))

    def save(self, path: Path, *, force: bool = False) -> None:
        """Write atomically (temp file + rename) so a crash leaves the old or the new file, never half."""
        if not (self._dirty or force):
            return
        self._dirty = False
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps({"version": _FILE_VERSION, "markets": self.checkpoint()}, sort_keys=True))
        tmp.replace(path)
