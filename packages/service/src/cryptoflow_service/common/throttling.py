"""Fixed-window rate limits counted in Redis, so every server process shares one count per client.

Why Redis rather than a cheaper counter in each process: an operator who sets `600/min` per address expects
600 per minute whichever gunicorn worker (or replica behind a load balancer) answers, and after a worker
restarts. Counters local to a process allow N times the limit, or, set to limit/N, throttle a client whose
requests happen to land on one worker. So the count stays in Redis, and views that read Redis anyway send
it with their read (`check_with_reads`): one round trip per request, as many as a local counter would
leave. (A throttled request has then read for nothing: a few microseconds of Redis time.)

DRF's stock throttles keep a list of request times in the cache per client (a read and a write of a
growing list per request); a counter is one INCR + EXPIRE. If Redis is down the request is let through:
the endpoints that need Redis answer 503 on their own.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis
from django.core.exceptions import ImproperlyConfigured
from redis.client import Pipeline
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from cryptoflow_service.common.conf import service_config
from cryptoflow_service.common.redis import get_redis
from cryptoflow_service.config import parse_rate

if TYPE_CHECKING:  # rest_framework.views imports this module (DEFAULT_THROTTLE_CLASSES)
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

_parse_rate = functools.lru_cache(maxsize=16)(parse_rate)  # the rate text is read on every request


@dataclass(frozen=True, slots=True)
class Window:
    """One client's counter in the current fixed window."""

    key: str
    limit: int
    period_s: int
    wait_s: float
    """Until the window ends (`Retry-After` when the limit is reached)."""

    def queue(self, pipe: Pipeline) -> None:
        pipe.incr(self.key)
        pipe.expire(self.key, self.period_s + 1)


class RedisWindowThrottle(BaseThrottle):
    scope = ""

    def __init__(self) -> None:
        self.wait_s = 0.0

    def rate(self) -> str:
        raise NotImplementedError

    def identity(self, request: Request) -> str | None:
        raise NotImplementedError

    def window(self, request: Request) -> Window | None:
        """The counter this request adds to, or None when it is not limited."""
        ident = self.identity(request)
        limit = _parse_rate(self.rate()) if ident is not None else None
        if ident is None or limit is None:
            return None
        count, period = limit
        now = time.time()
        window = int(now // period)
        return Window(f"throttle:{self.scope}:{ident}:{window}", count, period, (window + 1) * period - now)

    def allow_request(self, request: Request, view: Any) -> bool:
        window = self.window(request)
        if window is None:
            return True
        pipe = get_redis().pipeline(transaction=False)
        window.queue(pipe)
        try:
            seen = int(pipe.execute()[0])
        except redis.RedisError as exc:
            logger.warning("throttle skipped, redis unavailable: %s", exc)
            return True
        self.wait_s = window.wait_s
        return seen <= window.limit

    def wait(self) -> float | None:
        return self.wait_s


class AnonRateThrottle(RedisWindowThrottle):
    """Per client address, for requests without a token (`CRYPTOFLOW_SERVICE_ANON_THROTTLE_RATE`)."""

    scope = "anon"

    def rate(self) -> str:
        return service_config().anon_throttle_rate

    def identity(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request)


class UserRateThrottle(RedisWindowThrottle):
    """Per token holder (`CRYPTOFLOW_SERVICE_USER_THROTTLE_RATE`)."""

    scope = "user"

    def rate(self) -> str:
        return service_config().user_throttle_rate

    def identity(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return str(request.user.pk)
        return None


def check_with_reads(
    view: APIView, request: Request, queue_reads: Callable[[Pipeline], None] | None
) -> list[Any]:
    """`APIView.check_throttles` that also sends the view's own Redis reads: the counters and the reads
    `queue_reads` queues go in one pipeline (one round trip). Returns the reads' replies; raises
    `Throttled` (429 with `Retry-After`) before the view answers anything else, as DRF does."""
    windows: list[Window] = []
    for throttle in view.get_throttles():
        if not isinstance(throttle, RedisWindowThrottle):
            raise ImproperlyConfigured(f"{type(throttle).__name__}: only Redis window throttles share a read")
        if (window := throttle.window(request)) is not None:
            windows.append(window)
    pipe = get_redis().pipeline(transaction=False)
    for window in windows:
        window.queue(pipe)
    counters = len(pipe)
    if queue_reads is not None:
        queue_reads(pipe)
    reads = len(pipe) - counters
    if not counters and not reads:
        return []
    try:
        replies = pipe.execute()
    except redis.RedisError as exc:
        if reads:
            raise  # the view cannot answer without its reads: 503, as if it had read alone
        logger.warning("throttle skipped, redis unavailable: %s", exc)
        return []
    seen = replies[:counters:2]  # each window's INCR reply
    waits = [window.wait_s for window, count in zip(windows, seen, strict=True) if count > window.limit]
    if waits:
        view.throttled(request, max(waits))
    return list(replies[counters:])
