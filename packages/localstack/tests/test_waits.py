"""`cryptoflow_localstack.waits`: the one wait-for-a-condition of every package's tests."""

from __future__ import annotations

import pytest

from cryptoflow_localstack.waits import wait_until, wait_until_sync


async def test_wait_until_returns_once_the_condition_holds_and_fails_naming_it() -> None:
    calls = 0

    async def third_time() -> bool:
        nonlocal calls
        calls += 1
        return calls >= 3

    await wait_until(third_time, within=5, what="the third call", interval=0.01)
    assert calls == 3

    async def never() -> bool:
        return False

    with pytest.raises(pytest.fail.Exception, match=r"timed out after 0.05 s waiting for nothing"):
        await wait_until(never, within=0.05, what="nothing", interval=0.01)


def test_wait_until_sync() -> None:
    seen = iter([False, False, True])
    wait_until_sync(lambda: next(seen), within=5, what="true", interval=0.01)
    with pytest.raises(pytest.fail.Exception, match="waiting for a miracle"):
        wait_until_sync(lambda: False, within=0.05, what="a miracle", interval=0.01)
