"""Client-side rate limiting per Upbit request group, corrected by the server's ``Remaining-Req`` header.

Upbit counts quotation requests per IP and per group (10 per second each). The limiter keeps a sliding
window of send times per group so this process never exceeds the budget on its own, and it pauses a
group whenever the server says the current second is used up (``sec=0``) or answers 429/418, which is
how other processes sharing the IP become visible.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence

DEFAULT_RATE_PER_SECOND = 10
# Upbit counts in fixed one-second windows on its side; requests reach it with varying latency, so a
# window a little longer than a second keeps a burst from landing in one server window twice.
DEFAULT_WINDOW_S = 1.1

# Where Upbit's header names differ from the path (recorded: market, ticker, candles, crix-trades, orderbook).
_GROUP_BY_PATH_PREFIX = {
    "market": "market",
    "ticker": "ticker",
    "candles": "candles",
    "trades": "crix-trades",
    "orderbook": "orderbook",
}


def default_group(path: str) -> str:
    """The rate-limit group Upbit uses for a quotation path such as ``/v1/candles/days``."""
    parts = [p for p in path.split("/") if p and p != "v1"]
    head = parts[0] if parts else ""
    return _GROUP_BY_PATH_PREFIX.get(head, head or "default")


class SlidingWindow:
    """At most ``limit`` events in any sliding ``period_s`` window: the one window implementation (REST
    groups here; ingest's WebSocket connect and subscribe limits too)."""

    def __init__(self, limit: int, period_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1:
            raise ValueError(f"rate must be at least 1, got {limit}")
        self.limit = limit
        self.period = period_s
        self._clock = clock
        self._events: deque[float] = deque()

    def delay(self) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        now = self._clock()
        while self._events and self._events[0] <= now - self.period:
            self._events.popleft()
        if len(self._events) < self.limit:
            return 0.0
        return max(self._events[0] + self.period - now, 0.0)

    def record(self) -> None:
        self._events.append(self._clock())


class GroupLimiter:
    """At most ``rate`` sends per ``period`` seconds (and per each of ``also``'s windows, e.g. Upbit's
    100 WebSocket requests a minute beside 5 a second), plus pauses the server asks for."""

    def __init__(
        self,
        rate: int = DEFAULT_RATE_PER_SECOND,
        period: float = DEFAULT_WINDOW_S,
        *,
        also: Sequence[tuple[int, float]] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.period = period
        self.windows = [SlidingWindow(n, s, clock=clock) for n, s in ((rate, period), *also)]
        self._clock = clock
        self._blocked_until = 0.0
        self._lock = asyncio.Lock()

    def delay(self) -> float:
        """Seconds to wait before the next send may go out (0 when it may go now)."""
        wait = self._blocked_until - self._clock()
        for window in self.windows:
            wait = max(wait, window.delay())
        return max(wait, 0.0)

    async def acquire(self) -> float:
        """Wait for a send slot and take it; returns the seconds spent waiting."""
        started = self._clock()
        async with self._lock:  # FIFO: waiters go out in the order they arrived
            # A sleep, not an Event: the deadline itself moves when the server asks for a pause meanwhile.
            while (wait := self.delay()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
            # No await between the last check and the records: every window takes the same slot.
            for window in self.windows:
                window.record()
        return self._clock() - started

    def observe_remaining(self, remaining_sec: int) -> None:
        """The server's count of requests left in the current second for this group."""
        if remaining_sec <= 0:
            self.pause(self.period)

    def pause(self, seconds: float) -> None:
        """Send nothing in this group for ``seconds`` (after a 429/418 or an exhausted second)."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)


class RateLimiter:
    """One :class:`GroupLimiter` per group name, created on first use."""

    def __init__(self, rate: int = DEFAULT_RATE_PER_SECOND, period: float = DEFAULT_WINDOW_S) -> None:
        self.rate = rate
        self.period = period
        self._groups: dict[str, GroupLimiter] = {}
        self._learned: dict[str, str] = {}

    def group_for(self, path: str) -> str:
        """The group a path counts against: what the server said last time, else Upbit's documented name."""
        return self._learned.get(_path_key(path)) or default_group(path)

    def learn(self, path: str, group: str) -> None:
        self._learned[_path_key(path)] = group

    def limiter(self, group: str) -> GroupLimiter:
        limiter = self._groups.get(group)
        if limiter is None:
            limiter = self._groups[group] = GroupLimiter(self.rate, self.period)
        return limiter


def _path_key(path: str) -> str:
    parts = [p for p in path.split("/") if p and p != "v1"]
    return parts[0] if parts else ""
