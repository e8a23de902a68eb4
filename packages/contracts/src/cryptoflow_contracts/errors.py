"""Errors raised when bytes from outside do not fit a contract."""

from __future__ import annotations

from pydantic import ValidationError


class DecodeError(ValueError):
    """Input that does not decode into a contract model. `reason` is one human-readable line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FrameError(DecodeError):
    """An Upbit WebSocket frame that does not decode."""


class ResponseError(DecodeError):
    """An Upbit REST response body (or header) that does not decode."""


class RecordError(DecodeError):
    """A Kafka record value or header list that does not decode."""


class IncompatibleVersionError(ValueError):
    """A record written by a contracts version whose major differs from ours."""


_MAX_ERRORS_SHOWN = 3


def describe_validation_error(exc: ValidationError, *, what: str) -> str:
    """One line naming every failing field (as the key was spelled in the input), e.g.
    `trade.trade_price: Input should be a JSON number, got str '1.0'`."""
    parts = []
    errors = exc.errors(include_url=False)
    for error in errors[:_MAX_ERRORS_SHOWN]:
        loc = ".".join(str(part) for part in error["loc"])
        path = f"{what}.{loc}" if loc else what
        if error["type"] == "missing":
            parts.append(f"{path}: field required")
        else:
            value = error["input"]
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            parts.append(f"{path}: {error['msg']}, got {type(value).__name__} {shown}")
    if len(errors) > _MAX_ERRORS_SHOWN:
        parts.append(f"and {len(errors) - _MAX_ERRORS_SHOWN} more")
    return "; ".join(parts)
