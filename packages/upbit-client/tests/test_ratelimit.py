"""Pure logic: the per-group limiter with a fake clock, backoff bounds, group names."""

from __future__ import annotations

import asyncio
import random

import pytest

from cryptoflow_upbit_client import GroupLimiter, RateLimiter, UpbitRestClient, default_group


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_window_allows_rate_then_waits_for_the_oldest_send() -> None:
    clock = FakeClock()
    limiter = GroupLimiter(rate=3, period=1.0, clock=clock)
    for _ in range(3):
        assert limiter.delay() == 0
        limiter.windows[0].record()
    assert limiter.delay() == pytest.approx(1.0)
    clock.now += 0.4
    assert limiter.delay() == pytest.approx(0.6)
    clock.now += 0.6
    assert limiter.delay() == 0


def test_server_says_second_is_used_up() -> None:
    clock = FakeClock()
    limiter = GroupLimiter(rate=10, period=1.1, clock=clock)
    limiter.observe_remaining(3)
    assert limiter.delay() == 0
    limiter.observe_remaining(0)
    assert limiter.delay() == pytest.approx(1.1)


def test_pause_never_shortens_an_existing_pause() -> None:
    clock = FakeClock()
    limiter = GroupLimiter(rate=10, clock=clock)
    limiter.pause(5.0)
    limiter.pause(1.0)
    assert limiter.delay() == pytest.approx(5.0)


async def test_acquire_paces_real_sends() -> None:
    limiter = GroupLimiter(rate=5, period=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(limiter.acquire() for _ in range(15)))
    # 15 sends at 5 per 0.2 s: the last batch cannot start before 0.4 s
    assert loop.time() - started >= 0.39


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("/v1/market/all", "market"),
        ("/v1/ticker", "ticker"),
        ("/v1/ticker/all", "ticker"),
        ("/v1/candles/minutes/1", "candles"),
        ("/v1/trades/ticks", "crix-trades"),
        ("/v1/orderbook", "orderbook"),
    ],
)
def test_default_groups_follow_upbits_header_names(path: str, group: str) -> None:
    assert default_group(path) == group


def test_learned_group_wins() -> None:
    limits = RateLimiter()
    limits.learn("/v1/candles/days", "candle")
    assert limits.group_for("/v1/candles/minutes/1") == "candle"
    assert limits.limiter("candle") is limits.limiter("candle")


async def test_backoff_grows_with_jitter_and_stays_capped() -> None:
    async with UpbitRestClient(
        "http://127.0.0.1:9", backoff_base=0.1, backoff_cap=1.0, rng=random.Random(7)
    ) as c:
        delays = [c.backoff_delay(n) for n in range(1, 9)]
        assert all(0.05 <= d <= 1.0 for d in delays)
        assert delays[0] <= 0.1
        assert max(delays[4:]) > 0.5  # grown to the cap region
        assert len(set(delays)) == len(delays)  # jittered
        blocked = c.backoff_delay(1, blocked=True)
        assert 0.4 <= blocked <= 0.8  # 418: 8x harder
