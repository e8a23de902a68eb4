"""Fixed-window rate limits counted in Redis, so every server process shares one count per client.

DRF's stock throttles keep a list of request times in the cache per client (a read and a write of a
growing list per request); a counter is one pipelined INCR + EXPIRE. If Redis is down the request is
let through: the endpoints that need Redis answer 503 on their own.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from cryptoflow_service.common.conf import service_config
from cryptoflow_service.common.redis import get_redis
from cryptoflow_service.config import parse_rate

logger = logging.getLogger(__name__)


class _RedisWindowThrottle(BaseThrottle):
    scope = ""

    def __init__(self) -> None:
        self.wait_s = 0.0

    def rate(self) -> str:
        raise NotImplementedError

    def identity(self, request: Request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        limit = parse_rate(self.rate())
        ident = self.identity(request)
        if limit is None or ident is None:
            return True
        count, period = limit
        now = time.time()
        window = int(now // period)
        key = f"throttle:{self.scope}:{ident}:{window}"
        try:
            pipe = get_redis().pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, period + 1)
            seen = int(pipe.execute()[0])
        except redis.RedisError as exc:
            logger.warning("throttle skipped, redis unavailable: %s", exc)
            return True
        self.wait_s = (window + 1) * period - now
        return seen <= count

    def wait(self) -> float | None:
        return self.wait_s


class AnonRateThrottle(_RedisWindowThrottle):
    """Per client address, for requests without a token (`CRYPTOFLOW_SERVICE_ANON_THROTTLE_RATE`)."""

    scope = "anon"

    def rate(self) -> str:
        return service_config().anon_throttle_rate

    def identity(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request)


class UserRateThrottle(_RedisWindowThrottle):
    """Per token holder (`CRYPTOFLOW_SERVICE_USER_THROTTLE_RATE`)."""

    scope = "user"

    def rate(self) -> str:
        return service_config().user_throttle_rate

    def identity(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return str(request.user.pk)
        return None
