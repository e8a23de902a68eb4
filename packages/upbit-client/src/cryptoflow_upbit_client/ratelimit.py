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
from collections.abc import Callable

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


class GroupLimiter:
    """At most ``rate`` sends per ``period`` seconds, plus pauses the server asks for."""

    def __init__(
        self,
        rate: int = DEFAULT_RATE_PER_SECOND,
        period: float = DEFAULT_WINDOW_S,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate < 1:
            raise ValueError(f"rate must be at least 1, got {rate}")
        self.rate = rate
        self.period = period
        self._clock = clock
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self._lock = asyncio.Lock()

    def delay(self) -> float:
        """Seconds to wait before the next send may go out (0 when it may go now)."""
        now = self._clock()
        while self._sent and self._sent[0] <= now - self.period:
            self._sent.popleft()
        wait = self._blocked_until - now
        if len(self._sent) >= self.rate:
            wait = max(wait, self._sent[0] + self.period - now)
        return max(wait, 0.0)

    async def acquire(self) -> float:
        """Wait for a send slot and take it; returns the seconds spent waiting."""
        started = self._clock()
        async with self._lock:  # FIFO: waiters go out in the order they arrived
            # A sleep, not an Event: the deadline itself moves when the server asks for a pause meanwhile.
            while (wait := self.delay()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
            now = self._clock()
            self._sent.append(now)
        return now - started

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
