"""The real command line: settings errors, a crash in the middle of a batch, a group of two."""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter
from typing import Any

import pytest
from redis.asyncio import Redis

from cryptoflow_stream_sink.cli import main, parse_settings

MARKETS = ("KRW-BTC", "KRW-ETH", "KRW-XRP")
# Keeps the single-threaded Redis busy for ARGV[1] ms.
_BUSY_LUA = """
local t = redis.call('TIME')
local stop = t[1] * 1000000 + t[2] + ARGV[1] * 1000
repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] >= stop
return 1
"""


def test_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTOFLOW_SINK_GROUP_ID", "from-env")
    monkeypatch.setenv("CRYPTOFLOW_SINK_STREAM_MAXLEN", "500")
    monkeypatch.setenv("CRYPTOFLOW_SINK_BATCH_SIZE", "not a number")
    settings = parse_settings(["--group-id", "from-args", "--batch-size", "7", "--no-metrics"])
    assert (settings.group_id, settings.stream_maxlen, settings.batch_size) == ("from-args", 500, 7)
    assert settings.metrics_port is None


@pytest.mark.parametrize("value", ["", "off"])
def test_an_empty_metrics_port_turns_the_endpoint_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CRYPTOFLOW_SINK_METRICS_PORT", value)
    assert parse_settings([]).metrics_port is None
    assert parse_settings(["--metrics-port", "0"]).metrics_port == 0


@pytest.mark.parametrize(
    ("env", "argv", "named"),
    [
        ({"CRYPTOFLOW_SINK_BATCH_SIZE": "lots"}, [], "CRYPTOFLOW_SINK_BATCH_SIZE"),
        ({}, ["--batch-size", "0"], "CRYPTOFLOW_SINK_BATCH_SIZE (--batch-size)"),
        (
            {"CRYPTOFLOW_SINK_STREAM_MAXLEN": "1000"},
            ["--dedup-max-ids", "10"],
            "CRYPTOFLOW_SINK_DEDUP_MAX_IDS",
        ),
    ],
)
def test_a_bad_setting_fails_at_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    argv: list[str],
    named: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert named in err
    assert err.startswith("cryptoflow-stream-sink: invalid settings: ")
    assert err.count("\n") == 1  # one line, however many values are bad


def test_several_bad_settings_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--batch-size", "0", "--poll-timeout-ms", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "CRYPTOFLOW_SINK_BATCH_SIZE (--batch-size)" in err
    assert "CRYPTOFLOW_SINK_POLL_TIMEOUT_MS (--poll-timeout-ms)" in err


async def test_killed_mid_batch_and_restarted_loses_and_repeats_nothing(
    kit: Any, make: Any, processes: list[Any]
) -> None:
    trades = make.trades_for(MARKETS, 4000)
    backfill = [
        make.trade(t.market, t.sequential_id, t.trade_timestamp, source="rest-backfill") for t in trades[::5]
    ]
    await kit.produce(trades)
    await kit.produce(backfill)

    first = kit.spawn("first", "--batch-size", "100")
    processes.append(first)
    await kit.wait_for_trades(MARKETS, 2000, within=60)
    # Hold Redis busy so that the sink's next pipeline is sent but not yet answered, and kill the sink
    # then: Redis runs the orphaned pipeline afterwards, so a batch is written and never committed.
    async with Redis.from_url(kit.redis_url) as blocker:
        # 4 s: under Redis's 5 s busy threshold, and time enough for a loaded machine to run the sink.
        busy = asyncio.create_task(blocker.eval(_BUSY_LUA, 0, 4000))
        await asyncio.sleep(3)
        first.signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
        await busy
    written, committed = await kit.stream_total(MARKETS), await kit.committed()
    assert committed < written < len(trades), "the kill did not land between a write and its commit"

    second = kit.spawn("second", "--batch-size", "100")
    processes.append(second)
    await kit.wait_for_trades(MARKETS, len(trades), within=90)
    await kit.wait_committed(within=60)
    second.signal(signal.SIGINT)
    assert await second.wait() == 0
    assert "stopped" in second.log()
    assert await kit.trade_ids(MARKETS) == Counter({(t.market, t.sequential_id): 1 for t in trades})


async def test_two_members_share_the_work_and_one_takes_over(
    kit: Any, make: Any, processes: list[Any]
) -> None:
    trades = make.trades_for(MARKETS, 3000)
    a = kit.spawn("a", "--batch-size", "100")
    b = kit.spawn("b", "--batch-size", "100")
    processes += [a, b]

    async def sharing() -> bool:
        return all(0 < _owned(p.log()) < 18 for p in (a, b))

    await kit.wait_until(sharing, within=60, what="both members to own partitions")

    async def stream_in() -> None:
        for start in range(0, len(trades), 500):
            await kit.produce(trades[start : start + 500])
            await asyncio.sleep(0.2)

    producing = asyncio.create_task(stream_in())
    await kit.wait_for_trades(MARKETS, 2000, within=60)
    a.signal(signal.SIGTERM)
    assert await a.wait() == 0
    assert "stopped" in a.log()
    assert "gave up" not in a.log()
    await producing
    await kit.wait_for_trades(MARKETS, len(trades), within=90)
    await kit.wait_committed(within=60)
    b.signal(signal.SIGTERM)
    assert await b.wait() == 0

    assert await kit.trade_ids(MARKETS) == Counter({(t.market, t.sequential_id): 1 for t in trades})
    # b owned half of the 18 partitions, then all of them once a left.
    assert _owned(b.log()) == 18


def _owned(log: str) -> int:
    """How many partitions the member owns, by its latest "assigned N partitions" line."""
    counts = re.findall(r"assigned (\d+) partitions", log)
    return int(counts[-1]) if counts else 0
