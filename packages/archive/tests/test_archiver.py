"""The archiver in-process against real Kafka and PostgreSQL: exactly once, candles, dead letters, faults."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

from cryptoflow_contracts.records import RecordHeaders

MARKETS = ("KRW-BTC", "KRW-ETH", "KRW-XRP")
MINUTE = 60_000


def _metric(archiver: Any, name: str) -> float:
    return archiver.metrics.registry.get_sample_value(name) or 0.0


def _expected_candles(trades: list[Any]) -> dict[tuple[str, int], tuple[Any, ...]]:
    """(market, minute ms) -> (open, high, low, close, volume, value, count), computed in Python."""
    by_minute: dict[tuple[str, int], list[Any]] = {}
    for t in trades:
        by_minute.setdefault((t.market, t.trade_timestamp - t.trade_timestamp % MINUTE), []).append(t)
    out = {}
    for key, group in by_minute.items():
        group.sort(key=lambda t: (t.trade_timestamp, t.sequential_id))
        prices = [t.price for t in group]
        out[key] = (
            prices[0], max(prices), min(prices), prices[-1],
            sum(t.volume for t in group), sum(t.price * t.volume for t in group), len(group),
        )  # fmt: skip
    return out


def _candles(kit: Any, table: str = "mart.candles_1m") -> dict[tuple[str, int], tuple[Any, ...]]:
    # The test's own table name, not input.
    rows = kit.query(
        f"SELECT market, (extract(epoch FROM candle_start) * 1000)::bigint, opening_price, high_price,"  # noqa: S608
        f" low_price, trade_price, volume, value, trade_count FROM {table}"
    )
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


async def test_every_trade_archived_once_with_exact_decimals_and_candles(kit: Any, make: Any) -> None:
    originals = make.trades_for(MARKETS, 3000)  # ~21 s of trades per market: several minutes' candles
    backfill = [
        make.trade(t.market, t.sequential_id, t.trade_timestamp, price=str(t.price), volume=str(t.volume),
                   source="rest-backfill")
        for t in originals[::3]
    ]  # fmt: skip
    backfill_of = originals[::3]
    sent = await kit.produce(originals[:4000])
    sent += await kit.produce([*backfill, *originals[4000:], *originals[:500]])

    async with kit.running(kit.settings(batch_size=700)) as archiver:
        await kit.wait_archived(len(originals), within=60)
        await kit.wait_committed(within=30)
    assert _metric(archiver, "cryptoflow_archive_records_in_total") == sent
    assert _metric(archiver, "cryptoflow_archive_trades_archived_total") == len(originals)
    assert _metric(archiver, "cryptoflow_archive_trades_duplicate_total") == sent - len(originals)

    # The first copy archived wins: the backfill copies of trades whose original came later keep theirs.
    late = {(t.market, t.sequential_id) for t in originals[4000:]}
    archived = kit.archived()
    assert archived == {
        (t.market, t.sequential_id): (
            t.trade_timestamp, t.price, t.volume, t.side, t.received_ms,
            "rest-backfill" if (t.market, t.sequential_id) in late and t in backfill_of else "ws",
        )
        for t in originals
    }  # fmt: skip
    # The exact text survives: no float on the way.
    first = originals[1]
    (price,) = kit.query(
        "SELECT price::text FROM lake.trades WHERE market = %s AND sequential_id = %s",
        (first.market, first.sequential_id),
    )[0]
    assert price == str(first.price)

    assert _candles(kit) == _expected_candles(originals)
    # Hours from minutes.
    hours: dict[tuple[str, int], list[tuple[Any, ...]]] = {}
    for (market, minute), candle in sorted(_expected_candles(originals).items()):
        hours.setdefault((market, minute - minute % 3_600_000), []).append(candle)
    assert _candles(kit, "mart.candles_1h") == {
        key: (ms[0][0], max(m[1] for m in ms), min(m[2] for m in ms), ms[-1][3],
              sum(m[4] for m in ms), sum(m[5] for m in ms), sum(m[6] for m in ms))
        for key, ms in hours.items()
    }  # fmt: skip
    # Those minutes ended long ago: closed.
    assert kit.query("SELECT count(*) FROM mart.candles_1m WHERE is_open")[0][0] == 0

    # Redelivery of everything to a second group: nothing new, no candle touched.
    stamps = kit.query("SELECT market, candle_start, updated_at FROM mart.candles_1m ORDER BY 1, 2")
    async with kit.running(kit.settings(group_id=f"{kit.group_id}-again")) as replay:
        await kit.wait_until(lambda: _read(replay, sent), within=60, what="the replay to read every record")
    assert _metric(replay, "cryptoflow_archive_trades_archived_total") == 0
    assert kit.count() == len(originals)
    assert kit.query("SELECT market, candle_start, updated_at FROM mart.candles_1m ORDER BY 1, 2") == stamps


async def test_current_minute_open_then_closed(kit: Any, make: Any) -> None:
    now = _now_ms()
    if now % MINUTE > MINUTE - 15_000:  # room for the candle to be seen open before its minute ends
        await asyncio.sleep((MINUTE - now % MINUTE) / 1000 + 0.1)
        now = _now_ms()
    minute = now - now % MINUTE
    trades = [make.trade("KRW-BTC", 1_000 + i, minute + i, price=f"{100 + i}") for i in range(3)]
    async with kit.running(kit.settings(maintenance_interval_s=0.2)):
        await kit.produce(trades)
        await kit.wait_archived(3, within=30)
        ((is_open, count, first_update),) = kit.query(
            "SELECT is_open, trade_count, updated_at FROM mart.candles_1m"
        )
        assert (is_open, count) == (True, 3) or _now_ms() >= minute + MINUTE
        assert kit.query("SELECT is_open FROM mart.candles_1h") == [(True,)]

        async def closed() -> bool:
            return not kit.query("SELECT is_open FROM mart.candles_1m")[0][0]

        await kit.wait_until(closed, within=90, what="the minute candle to close")
    # Closing is a change: readers polling updated_at see it.
    ((updated,),) = kit.query("SELECT updated_at FROM mart.candles_1m")
    assert updated > first_update or not is_open


async def test_invalid_records_go_to_the_dlq_with_reason(kit: Any, make: Any) -> None:
    good = make.trades_for(["KRW-BTC"], 10)
    await kit.produce(good)
    headers = RecordHeaders.for_record(good[0]).to_kafka()
    await kit.produce_raw(b"{not json", headers=headers)
    await kit.produce(good[:1], contract_version="99.0.0")
    async with kit.running() as archiver:
        await kit.wait_committed(within=60)
    assert kit.count() == 10
    assert _metric(archiver, "cryptoflow_archive_dlq_total") == 2
    letters = await kit.dead_letters()
    assert len(letters) == 2
    assert all(letter.stage == "archive" and letter.reason for letter in letters)
    assert any("99.0.0" in letter.reason for letter in letters)


async def test_postgres_restart_mid_stream_loses_and_repeats_nothing(
    kit: Any, make: Any, postgres_server: Any
) -> None:
    trades = make.trades_for(MARKETS, 2000)
    await kit.produce(trades[:3000])
    async with kit.running(kit.settings(batch_size=100)) as archiver:
        await kit.wait_archived(500, within=60)
        await asyncio.to_thread(postgres_server.stop)
        await kit.produce(trades[3000:])

        async def retrying() -> bool:
            return (archiver.metrics.registry.get_sample_value(
                "cryptoflow_archive_retries_total", {"operation": "postgres"}) or 0) >= 2  # fmt: skip

        await kit.wait_until(retrying, within=30, what="the archiver to retry PostgreSQL")
        committed = await kit.committed()
        await asyncio.to_thread(postgres_server.start)
        # Nothing committed that was not archived (the retry may archive its batch as soon as the server
        # is back, before committing it: archived can run ahead of committed, never behind).
        assert committed <= kit.count()
        await kit.wait_archived(len(trades), within=90)
        await kit.wait_committed(within=60)
    assert set(kit.archived()) == {(t.market, t.sequential_id) for t in trades}
    assert _candles(kit) == _expected_candles(trades)


async def test_sigkill_mid_batch_then_restart_loses_and_repeats_nothing(
    kit: Any, make: Any, processes: list[Any]
) -> None:
    trades = make.trades_for(MARKETS, 5000)
    await kit.produce(trades)
    first = kit.spawn("first", "--batch-size", "200")
    processes.append(first)
    await kit.wait_archived(1000, within=60)
    first.popen.send_signal(signal.SIGKILL)
    assert await first.wait() == -signal.SIGKILL
    archived_then = kit.count()
    assert archived_then < len(trades), "the archiver finished before it was killed"
    second = kit.spawn("second", "--batch-size", "500")
    processes.append(second)
    await kit.wait_archived(len(trades), within=90)
    await kit.wait_committed(within=60)
    second.popen.send_signal(signal.SIGTERM)
    assert await second.wait() == 0
    assert "stopped" in second.log()
    assert set(kit.archived()) == {(t.market, t.sequential_id) for t in trades}
    assert _candles(kit) == _expected_candles(trades)


async def test_partitions_ahead_and_retention(kit: Any, make: Any) -> None:
    old = make.trades_for(["KRW-BTC"], 5, first_ts=_now_ms() - 40 * 86_400_000)
    new = make.trades_for(["KRW-ETH"], 5, first_ts=_now_ms())
    await kit.produce([*old, *new])
    async with kit.running():
        await kit.wait_archived(10, within=60)
    parts = {r[0] for r in kit.query(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'lake.trades'::regclass")}  # fmt: skip
    assert len(parts) >= 4  # the old day, today and two days ahead
    async with kit.running(kit.settings(retention_days=30)):

        async def dropped() -> bool:
            return kit.count() == 5

        await kit.wait_until(dropped, within=30, what="the old partition dropped")
    assert {m for m, _ in kit.archived()} == {"KRW-ETH"}


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _read(archiver: Any, count: int) -> bool:
    return _metric(archiver, "cryptoflow_archive_records_in_total") >= count
