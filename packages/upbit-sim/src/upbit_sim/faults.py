"""Faults injected on command (CLI `--fault` or the admin API), and the counters that prove they happened."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

STREAM_FAULTS = ("malformed", "duplicate", "out_of_order")
FAULT_NAMES = (
    "drop",
    "drop_every",
    "stall",
    "unstall",
    *STREAM_FAULTS,
    "rest_error",
    "rest_slow",
    "clear",
)
MALFORMED_FRAMES = (
    b'{"type":"trade","code":"KRW-BTC","timestamp":17',  # truncated JSON
    b"<html><body><h1>502 Bad Gateway</h1></body></html>",  # not JSON at all
    b'\xff\xfe{"type":"ticker"}',  # not UTF-8
    b'{"type":"trade","code":"KRW-BTC","trade_price":"NaN-ish",}',  # broken JSON syntax
)


class FaultError(ValueError):
    """A fault command with an unknown name or bad parameters."""


@dataclass(slots=True)
class Injector:
    """Fires for the next `count` chances, or with probability `rate` per chance, until `until`."""

    count: int | None = None
    rate: float | None = None
    until: float | None = None

    def alive(self, now: float) -> bool:
        if self.until is not None and now >= self.until:
            return False
        return self.count is None or self.count > 0

    def fire(self, rng: random.Random) -> bool:
        if self.count is not None:
            if self.count <= 0:
                return False
            self.count -= 1
            return True
        return rng.random() < (self.rate or 0.0)


@dataclass(slots=True)
class RestFault:
    status: int
    delay_ms: int
    count: int | None
    until: float | None

    def take(self, now: float) -> bool:
        if self.until is not None and now >= self.until:
            return False
        if self.count is not None:
            if self.count <= 0:
                return False
            self.count -= 1
        return True


@dataclass
class Faults:
    """Active faults. The hub and the REST middleware consult it; `counters` feeds `/admin/stats`."""

    rng: random.Random = field(default_factory=lambda: random.Random(0x5EED))
    counters: Counter[str] = field(default_factory=Counter)
    drop_every: int = 0
    stream: dict[str, Injector] = field(default_factory=dict)
    rest_error: RestFault | None = None
    rest_slow: RestFault | None = None
    stall_all_until: float | None = None
    _malformed_next: int = 0

    @property
    def stream_active(self) -> bool:
        return bool(self.stream) or self.drop_every > 0

    def expire(self, now: float) -> None:
        for name in [n for n, inj in self.stream.items() if not inj.alive(now)]:
            del self.stream[name]

    def fire(self, name: str) -> bool:
        inj = self.stream.get(name)
        if inj is None or not inj.fire(self.rng):
            return False
        self.counters[name] += 1
        return True

    def malformed_frame(self) -> bytes:
        frame = MALFORMED_FRAMES[self._malformed_next % len(MALFORMED_FRAMES)]
        self._malformed_next += 1
        return frame

    def describe(self) -> dict[str, Any]:
        now = time.monotonic()
        out: dict[str, Any] = {"drop_every": self.drop_every}
        for name, inj in self.stream.items():
            out[name] = {"count": inj.count, "rate": inj.rate, "seconds_left": _left(inj.until, now)}
        for name, rf in (("rest_error", self.rest_error), ("rest_slow", self.rest_slow)):
            if rf is not None:
                out[name] = {
                    "status": rf.status,
                    "delay_ms": rf.delay_ms,
                    "count": rf.count,
                    "seconds_left": _left(rf.until, now),
                }
        if self.stall_all_until is not None:
            out["stall_all"] = {"seconds_left": _left(self.stall_all_until, now)}
        return out


def _left(until: float | None, now: float) -> float | None:
    return None if until is None else max(0.0, round(until - now, 3))


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """`NAME[:key=value,...]` (the CLI form of an admin fault body), e.g. `malformed:rate=0.001`."""
    name, _, rest = spec.partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq:
            raise FaultError(f"fault parameter {item!r} is not key=value")
        params[key.strip()] = _scalar(value.strip())
    return name.strip(), params


def _scalar(value: str) -> Any:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def number(params: dict[str, Any], key: str, *, minimum: float = 0, integer: bool = False) -> float | None:
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise FaultError(f"{key} must be a number >= {minimum}")
    if integer and int(value) != value:
        raise FaultError(f"{key} must be an integer")
    return value
