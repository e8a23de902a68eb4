"""Waiting for a condition in tests, never for a fixed time: the one implementation every package's tests use.

    await wait_until(lambda: sink_has(1000), within=30, what="1,000 trades in Redis")

A timeout fails the test (`pytest.fail`) with what was awaited and for how long.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

__all__ = ["wait_until", "wait_until_sync"]


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, within: float, what: str, interval: float = 0.1
) -> None:
    """Poll the coroutine function `check` every `interval` s until it returns true; fail after `within` s."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(interval)


def wait_until_sync(check: Callable[[], bool], *, within: float, what: str, interval: float = 0.05) -> None:
    """`wait_until` for plain functions (threads, subprocesses)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within:g} s waiting for {what}")
        time.sleep(interval)
