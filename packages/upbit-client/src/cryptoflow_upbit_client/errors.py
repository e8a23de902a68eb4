"""Errors raised by the client; each carries what is needed to log or retry it."""

from __future__ import annotations


class UpbitError(Exception):
    """Base class of every error this client raises."""


class UpbitHTTPError(UpbitError):
    """Upbit answered with a status that retrying will not fix (400, 404, ...)."""

    def __init__(self, status: int, url: str, body: bytes) -> None:
        self.status = status
        self.url = url
        self.body = body
        super().__init__(f"HTTP {status} from {url}: {body[:300].decode('utf-8', 'replace')}")


class UpbitRetriesExhausted(UpbitError):
    """Every attempt failed with a retryable status or transport error."""

    def __init__(self, url: str, attempts: int, last: str) -> None:
        self.url = url
        self.attempts = attempts
        self.last = last
        super().__init__(f"gave up on {url} after {attempts} attempts; last: {last}")
