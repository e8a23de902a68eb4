"""Which markets each WebSocket connection carries, and the subscribe request it sends.

Pure logic, so the sharding rules are tested without a socket.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence

from cryptoflow_ingest.settings import WsFormat


def subscribe_request(
    codes: Sequence[str], *, orderbook_depth: int, ws_format: WsFormat, ticket: str | None = None
) -> bytes:
    """The full subscription of one connection: a new request replaces the previous one, so it is always
    the whole list. Depth 30 is Upbit's default and needs no `.N` suffix."""
    book_codes = list(codes) if orderbook_depth == 30 else [f"{code}.{orderbook_depth}" for code in codes]
    request: list[dict[str, object]] = [
        {"ticket": ticket or f"cryptoflow-{uuid.uuid4()}"},
        {"type": "trade", "codes": list(codes)},
        {"type": "ticker", "codes": list(codes)},
        {"type": "orderbook", "codes": book_codes},
        {"format": ws_format.value},
    ]
    return json.dumps(request, separators=(",", ":")).encode()


class ShardPlan:
    """Markets spread over connections of at most `capacity` codes each.

    Assignments are sticky: a refresh only touches the shards that lose or gain markets, so a new
    listing does not resubscribe (and so momentarily disturb) every connection.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._shards: dict[int, list[str]] = {}
        self._next_id = 0  # never reused, so a new shard cannot be mistaken for a dropped one

    @property
    def shards(self) -> dict[int, tuple[str, ...]]:
        return {shard_id: tuple(codes) for shard_id, codes in self._shards.items()}

    def markets(self) -> set[str]:
        return {code for codes in self._shards.values() for code in codes}

    def update(self, wanted: Iterable[str]) -> set[int]:
        """Make the plan carry exactly `wanted`; return the ids of shards that changed (new, altered
        or now empty). An empty shard is dropped from the plan: its connection should close."""
        wanted_set = set(wanted)
        changed: set[int] = set()
        for shard_id, codes in list(self._shards.items()):
            kept = [code for code in codes if code in wanted_set]
            if len(kept) != len(codes):
                changed.add(shard_id)
                if kept:
                    self._shards[shard_id] = kept
                else:
                    del self._shards[shard_id]
        new = sorted(wanted_set - self.markets())
        for shard_id, codes in self._shards.items():
            room = self._capacity - len(codes)
            if room > 0 and new:
                codes.extend(new[:room])
                del new[:room]
                changed.add(shard_id)
        while new:
            shard_id = self._next_id
            self._next_id += 1
            self._shards[shard_id] = new[: self._capacity]
            del new[: self._capacity]
            changed.add(shard_id)
        return changed
