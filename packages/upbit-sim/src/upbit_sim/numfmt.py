"""JSON text for Upbit values: bare numbers written from `Decimal` (never through float), dates and times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

DAY_MS = 86_400_000
KST = timedelta(hours=9)


def num(d: Decimal) -> str:
    """A JSON number with the digits of `d` (no exponent, as Upbit writes them)."""
    s = str(d)
    if "E" in s:
        s = format(d, "f")
    return s


def price_num(d: Decimal) -> str:
    """Prices in WS frames, tickers and candles look like Java doubles: `104862000.0`, `2071.0`, `0.0301`."""
    s = str(d)
    if "E" in s:
        s = format(d, "f")
    if "." not in s:
        s += ".0"
    return s


def dumps(obj: Any) -> str:
    """Compact JSON where `Decimal` becomes a bare number; everything else as `json.dumps` writes it."""
    if isinstance(obj, Decimal):
        return num(obj)
    if isinstance(obj, dict):
        return (
            "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dumps(v) for k, v in obj.items()) + "}"
        )
    if isinstance(obj, list | tuple):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    return json.dumps(obj, ensure_ascii=False)


class Clock:
    """Caches the date/time strings of the last second seen (every frame needs them)."""

    __slots__ = ("_sec", "colon_time", "compact_date", "compact_time", "dash_date")

    def __init__(self) -> None:
        self._sec = -1
        self.dash_date = self.colon_time = self.compact_date = self.compact_time = ""

    def at(self, ms: int) -> Clock:
        sec = ms // 1000
        if sec != self._sec:
            self._sec = sec
            t = datetime.fromtimestamp(sec, UTC)
            self.dash_date = t.strftime("%Y-%m-%d")
            self.colon_time = t.strftime("%H:%M:%S")
            self.compact_date = self.dash_date.replace("-", "")
            self.compact_time = self.colon_time.replace(":", "")
        return self


def iso_utc(ms: int) -> str:
    """`yyyy-MM-ddTHH:mm:ss` (a candle's bucket start)."""
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def iso_kst(ms: int) -> str:
    return (datetime.fromtimestamp(ms // 1000, UTC) + KST).strftime("%Y-%m-%dT%H:%M:%S")


def dash_date(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%d")
