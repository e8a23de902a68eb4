"""One Redis client (and connection pool) per process and URL; created lazily, so after a fork."""

from __future__ import annotations

import functools

import redis

from cryptoflow_service.common.conf import service_config


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=30,
    )


def get_redis() -> redis.Redis:
    """The hot path's Redis (`CRYPTOFLOW_SERVICE_REDIS_URL`), with str responses."""
    return _client(service_config().redis_url)
