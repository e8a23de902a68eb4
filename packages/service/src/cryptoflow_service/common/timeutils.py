"""UTC times: epoch milliseconds on the wire, aware `datetime`s inside."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant a datetime can hold
_INT = re.compile(r"^[0-9]{1,15}$")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (naive ones are read as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    if not 0 <= ms <= _MAX_MS:
        raise ValueError(f"{ms} is outside 0..{_MAX_MS} epoch milliseconds")
    return _EPOCH + timedelta(milliseconds=ms)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a `Z`, e.g. `2026-03-12T01:15:25.123Z`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_time(text: str) -> datetime:
    """Epoch ms (`1773278125000`) or ISO 8601 (`2026-03-12T01:15:25Z`, `2026-03-12`; no offset = UTC).

    Raises `ValueError` with a message fit for an API answer.
    """
    text = text.strip()
    if _INT.match(text):
        return from_ms(int(text))
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"'{text[:40]}' is neither epoch milliseconds nor an ISO 8601 time") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"'{text[:40]}' is out of range") from None
