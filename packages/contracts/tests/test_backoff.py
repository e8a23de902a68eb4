"""`cryptoflow_contracts.backoff`: the one backoff policy."""

from __future__ import annotations

import random

import pytest

from cryptoflow_contracts.backoff import Backoff, BackoffPolicy


def test_ceiling_doubles_and_caps() -> None:
    policy = BackoffPolicy(0.5, 4.0)
    assert [policy.ceiling(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_delay_is_equal_jitter() -> None:
    policy = BackoffPolicy(1.0, 8.0)
    rng = random.Random(3)
    for attempt in range(1, 10):
        ceiling = policy.ceiling(attempt)
        delays = [policy.delay(attempt, rng.random) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 150
    assert policy.delay(3, lambda: 0.0) == 2.0
    assert policy.delay(3, lambda: 1.0) == 4.0


def test_scaled_and_refused_knobs() -> None:
    assert BackoffPolicy(0.25, 10.0).scaled(8) == BackoffPolicy(2.0, 80.0)
    assert BackoffPolicy(2.0, 1.0).ceiling(1) == 1.0  # the cap wins
    for initial, cap, factor in ((0, 1, 2), (1, 0, 2), (1, 2, 0.5)):
        with pytest.raises(ValueError, match="backoff needs"):
            BackoffPolicy(initial, cap, factor)


def test_backoff_counts_attempts_and_resets() -> None:
    backoff = Backoff(initial_s=0.5, max_s=4.0, rng=lambda: 1.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff.attempt == 6
    backoff.reset()
    assert (backoff.attempt, backoff.next_delay()) == (0, 0.5)
