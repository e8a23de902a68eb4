"""The one retry backoff policy of every CryptoFlow process: exponential, capped, with "equal jitter".

Attempt n (from 1) waits a uniform draw in [d/2, d], d = min(max_s, initial_s * factor**(n-1)). The
jitter spreads clients that failed together (reconnects after a drop, retries after a 429) while never
retrying at once, which is what a struggling peer needs. The knobs are the same everywhere: `initial_s`,
`max_s` and `factor`; each package exposes the first two as settings.

It lives in the contracts because it is the lowest package every user (ingest, the sink, the Upbit client,
the service) already depends on.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backoff", "BackoffPolicy"]


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """The delays themselves, stateless: `BackoffPolicy(0.5, 30.0).delay(attempt)`."""

    initial_s: float
    max_s: float
    factor: float = 2.0

    def __post_init__(self) -> None:
        if self.initial_s <= 0 or self.max_s <= 0 or self.factor < 1:
            raise ValueError(f"a backoff needs initial_s > 0, max_s > 0 and factor >= 1, got {self}")

    def ceiling(self, attempt: int) -> float:
        """The longest wait after failed attempt `attempt` (1 for the first failure)."""
        return min(self.max_s, self.initial_s * self.factor ** max(0, attempt - 1))

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """A jittered wait in [ceiling/2, ceiling]; `rng` returns a float in [0, 1)."""
        return self.ceiling(attempt) * (0.5 + 0.5 * rng())

    def scaled(self, k: float) -> BackoffPolicy:
        """The same curve `k` times longer (e.g. Upbit's 418, an IP block, backs off 8x harder)."""
        return BackoffPolicy(self.initial_s * k, self.max_s * k, self.factor)


class Backoff:
    """A policy with its attempt count, for loops that retry until they succeed: `next_delay()` after each
    failure, `reset()` after a success (a reconnect loop resets once it has subscribed again)."""

    def __init__(
        self,
        *,
        initial_s: float,
        max_s: float,
        factor: float = 2.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.policy = BackoffPolicy(initial_s, max_s, factor)
        self._rng = rng
        self._attempt = 0

    @property
    def attempt(self) -> int:
        """Failures since the last reset."""
        return self._attempt

    def next_delay(self) -> float:
        self._attempt += 1
        return self.policy.delay(self._attempt, self._rng)

    def reset(self) -> None:
        self._attempt = 0
