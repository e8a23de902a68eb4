"""Upbit's request limits: fixed one-second windows per IP and group, 429 when over, then an escalating
418 block for a client that keeps going after its 429s."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class Verdict:
    status: int  # 200, 429 or 418
    remaining: int  # what `Remaining-Req: sec=` shows
    block_seconds: float = 0.0


@dataclass
class Limiter:
    """Counts requests per key in fixed windows. `limit <= 0` turns a limit off.

    A limit of 0 is not enforced, but `remaining` still counts down from `nominal` (so clients that pace
    themselves on `Remaining-Req` behave as they would against Upbit).

    Abuse: `abuse_after` 429 answers to one IP within `abuse_window` seconds block that IP for
    `block_seconds`, doubling with each new block up to `block_max_seconds`; a blocked IP gets 418.
    """

    limit: int
    nominal: int = 10
    window: float = 1.0
    abuse_after: int = 5
    abuse_window: float = 10.0
    block_seconds: float = 10.0
    block_max_seconds: float = 600.0
    _counts: dict[object, tuple[int, int]] = field(default_factory=dict)
    _strikes: dict[str, deque[float]] = field(default_factory=dict)
    _blocked: dict[str, float] = field(default_factory=dict)
    _blocks: dict[str, int] = field(default_factory=dict)

    def blocked_for(self, ip: str, now: float) -> float:
        until = self._blocked.get(ip)
        if until is None:
            return 0.0
        if now >= until:
            del self._blocked[ip]
            return 0.0
        return until - now

    def check(
        self, ip: str, key: object, now: float, limit: int | None = None, window: float | None = None
    ) -> Verdict:
        left = self.blocked_for(ip, now)
        if left:
            return Verdict(418, 0, left)
        limit = self.limit if limit is None else limit
        enforce = limit > 0
        if not enforce:
            limit = self.nominal
        slot = int(now // (window or self.window))
        start, count = self._counts.get(key, (slot, 0))
        if start != slot:
            start, count = slot, 0
        if count >= limit and enforce:
            self._counts[key] = (start, count)
            return self.strike(ip, now)
        count += 1
        self._counts[key] = (start, count)
        if len(self._counts) > 100_000:
            self._counts = {k: v for k, v in self._counts.items() if v[0] == slot}
        return Verdict(200, max(0, limit - count))

    def strike(self, ip: str, now: float) -> Verdict:
        """Record one 429; block the IP (418) once it has had too many."""
        strikes = self._strikes.setdefault(ip, deque())
        strikes.append(now)
        while strikes and strikes[0] < now - self.abuse_window:
            strikes.popleft()
        if self.abuse_after > 0 and len(strikes) > self.abuse_after:
            strikes.clear()
            n = self._blocks.get(ip, 0)
            self._blocks[ip] = n + 1
            seconds = min(self.block_max_seconds, self.block_seconds * 2**n)
            self._blocked[ip] = now + seconds
            return Verdict(418, 0, seconds)
        return Verdict(429, 0)

    def reset(self) -> None:
        self._counts.clear()
        self._strikes.clear()
        self._blocked.clear()
        self._blocks.clear()


def allow_window(times: deque[float], now: float, per_sec: int, per_min: int) -> bool:
    """Sliding one-second and one-minute windows over a connection's request times."""
    while times and times[0] <= now - 60.0:
        times.popleft()
    if per_min > 0 and len(times) >= per_min:
        return False
    if per_sec > 0 and sum(1 for t in times if t > now - 1.0) >= per_sec:
        return False
    times.append(now)
    return True
