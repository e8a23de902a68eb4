"""Reconnect backoff and request-rate windows: the pure timing logic behind Upbit's connection rules."""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable


class Backoff:
    """Exponential backoff with full jitter; `reset()` after a successful subscribe.

    Full jitter (a uniform draw in [0, cap]) spreads reconnects of many connections that dropped
    together, so they do not all hit the 5 connects/s limit in the same instant.
    """

    def __init__(
        self,
        *,
        initial_s: float,
        max_s: float,
        factor: float = 2.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._initial = initial_s
        self._max = max_s
        self._factor = factor
        self._rng = rng
        self._attempt = 0

    @property
    def attempt(self) -> int:
        return self._attempt

    def next_delay(self) -> float:
        cap = min(self._max, self._initial * self._factor**self._attempt)
        self._attempt += 1
        return cap * self._rng()

    def reset(self) -> None:
        self._attempt = 0


class RateWindow:
    """At most `limit` events in any sliding `period_s` window."""

    def __init__(
        self,
        limit: int,
        period_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._period = period_s
        self._clock = clock
        self._events: deque[float] = deque()

    def delay(self) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        now = self._clock()
        while self._events and now - self._events[0] >= self._period:
            self._events.popleft()
        if len(self._events) < self._limit:
            return 0.0
        return self._period - (now - self._events[0])

    def record(self) -> None:
        self._events.append(self._clock())


class RateLimits:
    """Several windows that must all allow an event (e.g. 5/s and 100/min)."""

    def __init__(self, *windows: RateWindow) -> None:
        self._windows = windows

    async def acquire(self) -> None:
        # No await between the last check and record(): concurrent callers cannot both take the slot.
        while True:
            wait = max(window.delay() for window in self._windows)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        for window in self._windows:
            window.record()
