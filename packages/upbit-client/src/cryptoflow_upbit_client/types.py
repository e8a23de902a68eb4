"""Value types the client returns: the raw response, candle units and pages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from cryptoflow_contracts.decimals import loads_exact
from cryptoflow_contracts.rest import RemainingReq, RestModel, parse_rest_list

UTC = dt.UTC
MINUTE_UNITS = (1, 3, 5, 10, 15, 30, 60, 240)
MAX_CANDLES_PER_REQUEST = 200
MAX_TRADES_PER_REQUEST = 500

_M = TypeVar("_M", bound=RestModel)

CandleKind = Literal["seconds", "minutes", "days", "weeks", "months", "years"]
_KINDS: tuple[CandleKind, ...] = ("seconds", "minutes", "days", "weeks", "months", "years")
_SHORT = {"1s": "seconds", "1d": "days", "1w": "weeks", "1M": "months", "1y": "years"}
_MINUTES = re.compile(r"^(?:candles/)?minutes/(\d+)$|^(\d+)m$")


@dataclass(frozen=True, slots=True)
class RestResponse:
    """One successful (HTTP 200) answer, with the body exactly as it arrived."""

    path: str
    params: Mapping[str, str]
    status: int
    content: bytes
    remaining: RemainingReq | None
    received_at_ms: int
    attempts: int = 1

    @property
    def text(self) -> str:
        """The body as text: what the lake stores (PostgreSQL parses it into exact ``numeric``)."""
        return self.content.decode("utf-8")

    def json(self) -> Any:
        """The body parsed with :class:`~decimal.Decimal` for every non-integer number (never ``float``)."""
        return loads_exact(self.content)

    def models(self, model: type[_M]) -> list[_M]:
        """The body validated as a list of a ``cryptoflow_contracts.rest`` model, e.g. ``RestTicker``."""
        return parse_rest_list(self.content, model)


@dataclass(frozen=True, slots=True)
class CandleUnit:
    """A candle endpoint, e.g. ``CandleUnit.parse("minutes/1")`` (also ``"1m"``, ``"days"``, ``"1d"``)."""

    kind: CandleKind
    minutes: int | None = None

    def __post_init__(self) -> None:
        if self.kind == "minutes" and self.minutes not in MINUTE_UNITS:
            raise ValueError(f"minute candles come in {MINUTE_UNITS} minutes, not {self.minutes!r}")
        if self.kind != "minutes" and self.minutes is not None:
            raise ValueError(f"{self.kind} candles take no minute unit")

    @classmethod
    def parse(cls, text: str) -> CandleUnit:
        value = text.strip()
        if value.startswith("candles/"):
            value = value.removeprefix("candles/")
        value = _SHORT.get(value, value)
        if value in _KINDS:
            if value == "minutes":
                raise ValueError("minute candles need a unit, e.g. 'minutes/1'")
            return cls(value)
        match = _MINUTES.match(value)
        if match:
            return cls("minutes", int(match.group(1) or match.group(2)))
        raise ValueError(
            f"unknown candle unit {text!r}: use seconds, minutes/N (N in {MINUTE_UNITS}), days, weeks, "
            "months or years"
        )

    @property
    def name(self) -> str:
        """The endpoint name without ``/v1/``, e.g. ``candles/minutes/1``: the lake's ``endpoint`` value."""
        return f"candles/minutes/{self.minutes}" if self.kind == "minutes" else f"candles/{self.kind}"

    @property
    def path(self) -> str:
        return f"/v1/{self.name}"

    @property
    def step(self) -> dt.timedelta | None:
        """The bucket length, or None where it varies (months, years)."""
        if self.kind == "seconds":
            return dt.timedelta(seconds=1)
        if self.kind == "minutes":
            assert self.minutes is not None
            return dt.timedelta(minutes=self.minutes)
        if self.kind == "days":
            return dt.timedelta(days=1)
        if self.kind == "weeks":
            return dt.timedelta(weeks=1)
        return None

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class CandlePage:
    """One page of candles (newest first), with the bucket starts read from ``candle_date_time_utc``."""

    response: RestResponse
    starts: tuple[dt.datetime, ...] = field(default=())

    @property
    def oldest(self) -> dt.datetime | None:
        return min(self.starts) if self.starts else None

    @property
    def newest(self) -> dt.datetime | None:
        return max(self.starts) if self.starts else None


@dataclass(frozen=True, slots=True)
class TradePage:
    """One page of trades (newest first) and the cursor that continues before it."""

    response: RestResponse
    count: int
    cursor: int | None
    oldest_timestamp_ms: int | None


def parse_utc(value: str) -> dt.datetime:
    """Upbit's ``candle_date_time_utc`` (``yyyy-MM-ddTHH:mm:ss``, no offset) as an aware UTC datetime."""
    parsed = dt.datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_to(value: dt.datetime) -> str:
    """A ``to`` parameter: ISO 8601 in UTC without an offset (Upbit reads offset-less times as UTC)."""
    if value.tzinfo is None:
        raise ValueError(f"'to' must be timezone-aware, got {value!r}")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
