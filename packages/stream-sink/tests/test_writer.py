"""The Redis functions against a real Redis: the exactly-once guard, its memory bound, latest-wins hashes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from cryptoflow_contracts import redis_keys
from cryptoflow_stream_sink.writer import LatestEntry, MarketSeen, Plan, RedisWriter, TradeEntry

M = "KRW-BTC"


@pytest.fixture
async def redis(redis_db: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_db)
    yield client
    await client.aclose()


async def writer(
    redis: Redis, *, maxlen: int = 1000, max_ids: int = 1000, horizon_ms: int = 10**9
) -> RedisWriter:
    w = RedisWriter(redis, stream_maxlen=maxlen, dedup_max_ids=max_ids, dedup_horizon_ms=horizon_ms)
    await w.load_functions()
    return w


def trades(*pairs: tuple[int, int]) -> Plan:
    """A plan of KRW-BTC trades given as (sequential_id, trade_timestamp)."""
    entries = [
        TradeEntry(sid, ts, ("sequential_id", str(sid), "trade_timestamp", str(ts))) for sid, ts in pairs
    ]
    return Plan(trades={M: entries})


async def stream_ids(redis: Redis) -> list[int]:
    return [int(fields[b"sequential_id"]) for _, fields in await redis.xrange(redis_keys.trades_key(M))]


async def test_each_trade_id_is_written_once(redis: Redis) -> None:
    w = await writer(redis)
    first = await w.write(trades((11, 5000), (12, 4999), (11, 5000), (13, 5001)))
    again = await w.write(trades((13, 5001), (12, 4999), (14, 4998)))
    assert (first.trades_written, first.trades_duplicate) == (3, 1)
    assert (again.trades_written, again.trades_duplicate, again.trades_expired) == (1, 2, 0)
    # Arrival order in the stream; the entries carry the exchange time to sort by.
    assert await stream_ids(redis) == [11, 12, 13, 14]


async def test_guard_keeps_the_newest_ids_and_refuses_what_it_forgot(redis: Redis) -> None:
    w = await writer(redis, maxlen=50, max_ids=100)
    await w.write(trades(*((1000 + i, 10_000 + i) for i in range(1000))))
    guard = redis_keys.trade_ids_key(M)
    assert await redis.zcard(guard) == 100
    assert await redis.zrange(guard, 0, 0, withscores=True) == [(b"1900", 10_900.0)]
    # XADD MAXLEN ~ trims whole nodes: about 50, never fewer.
    assert 50 <= await redis.xlen(redis_keys.trades_key(M)) <= 150

    replay = await w.write(trades(*((1000 + i, 10_000 + i) for i in range(1000))))
    assert (replay.trades_written, replay.trades_duplicate, replay.trades_expired) == (0, 100, 900)
    # A trade never seen but older than the floor is refused too: the guard cannot vouch for it.
    late = await w.write(trades((5, 10_899), (6, 10_900), (7, 20_000)))
    assert (late.trades_written, late.trades_expired) == (2, 1)


async def test_a_cut_inside_one_millisecond_keeps_the_whole_millisecond(redis: Redis) -> None:
    w = await writer(redis, maxlen=2, max_ids=3)
    await w.write(trades((1, 100), (2, 200), (3, 200), (4, 200), (5, 200), (6, 300)))
    # Keeping the newest three cuts through the 200 ms trades: all four stay, so none can come back as new.
    assert await redis.zcard(redis_keys.trade_ids_key(M)) == 5
    replay = await w.write(trades((2, 200), (3, 200), (1, 100)))
    assert (replay.trades_written, replay.trades_duplicate, replay.trades_expired) == (0, 2, 1)


async def test_guard_forgets_ids_older_than_the_horizon(redis: Redis) -> None:
    w = await writer(redis, horizon_ms=1_000)
    await w.write(trades((1, 8_000), (2, 9_500)))
    await w.write(trades((3, 10_000)))
    assert await redis.zrange(redis_keys.trade_ids_key(M), 0, -1) == [b"2", b"3"]
    result = await w.write(trades((4, 8_999), (5, 9_000), (2, 9_500)))
    assert (result.trades_written, result.trades_duplicate, result.trades_expired) == (1, 1, 1)
    assert await stream_ids(redis) == [1, 2, 3, 5]


async def test_latest_hash_is_replaced_only_by_a_record_at_least_as_new(redis: Redis) -> None:
    w = await writer(redis)

    def book(ts: int, price: str) -> Plan:
        fields = ("market", M, "timestamp", str(ts), "price", price)
        return Plan(orderbooks={M: LatestEntry("timestamp", ts, fields)})

    assert (await w.write(book(2000, "2.5"))).orderbooks_written == 1
    assert (await w.write(book(1999, "1.5"))).orderbooks_stale == 1
    assert (await w.write(book(2000, "2.25"))).orderbooks_written == 1
    assert await redis.hgetall(redis_keys.orderbook_key(M)) == {
        b"market": M.encode(),
        b"timestamp": b"2000",
        b"price": b"2.25",
    }


async def test_markets_registry_moves_forward_only(redis: Redis) -> None:
    w = await writer(redis)
    await w.write(Plan(markets={M: MarketSeen("KRW", 2000, "ACTIVE", 2000)}))
    await w.write(Plan(markets={M: MarketSeen("KRW", 1000, "DELISTED", 1000)}))
    await w.write(Plan(markets={M: MarketSeen("KRW", 3000)}))
    entry = json.loads(await redis.hget(redis_keys.MARKETS_KEY, M) or b"null")
    assert entry == {"quote_currency": "KRW", "last_seen_ms": "3000", "status": "ACTIVE", "status_ms": "2000"}


async def test_a_redis_that_forgot_the_functions_gets_them_again(redis: Redis) -> None:
    w = await writer(redis)
    await redis.function_flush()
    assert (await w.write(trades((1, 1)))).trades_written == 1
