"""The Redis launcher: a real redis-server whose data survives restarts and kills."""

from __future__ import annotations

import re
from pathlib import Path
from unittest.mock import ANY

import pytest
import redis

from cryptoflow_localstack.process import ServiceStartError
from cryptoflow_localstack.redis_server import RedisServer


def test_write_then_read_across_stop_and_kill(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.hset("ticker:{KRW-BTC}", mapping={"trade_price": "143250000", "ts": "1795660000123"})
    client.xadd("trades:{KRW-BTC}", {"sequential_id": "17334000000000001", "price": "143250000.0"})
    client.close()

    redis_server.stop()
    assert not redis_server.running
    redis_server.start()
    redis_server.kill()
    redis_server.start()

    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        assert client.hgetall("ticker:{KRW-BTC}") == {"trade_price": "143250000", "ts": "1795660000123"}
        assert client.xrange("trades:{KRW-BTC}") == [
            (ANY, {"sequential_id": "17334000000000001", "price": "143250000.0"})
        ]
    finally:
        client.close()


def test_redis_db_is_flushed_before_the_test(
    redis_server: RedisServer, request: pytest.FixtureRequest
) -> None:
    redis_server.command("SET", "left-over", "1")
    url = request.getfixturevalue("redis_db")

    client = redis.Redis.from_url(url)
    try:
        assert client.dbsize() == 0
    finally:
        client.close()


def test_attributes(redis_server: RedisServer) -> None:
    assert re.fullmatch(r"Redis \d+\.\d+\.\d+", redis_server.version)
    assert redis_server.host == "127.0.0.1"
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    assert redis_server.command("PING") == "PONG"


def test_a_taken_port_is_named_in_the_error(redis_server: RedisServer, tmp_path: Path) -> None:
    second = RedisServer(tmp_path / "redis", port=redis_server.port)
    with pytest.raises(
        ServiceStartError,
        match=rf"Redis did not start: port 127\.0\.0\.1:{redis_server.port} is already in use",
    ):
        second.start()
    assert not second.running
