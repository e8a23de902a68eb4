"""The sink in-process against real Kafka and Redis: exactly once, latest wins, dead letters, outages."""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.request
from collections import Counter
from typing import Any

import pytest

from cryptoflow_contracts import redis_keys
from cryptoflow_contracts.records import serialize
from cryptoflow_contracts.topics import Topic
from cryptoflow_stream_sink.sink import DLQ_RAW_LIMIT

MARKETS = ("KRW-BTC", "KRW-ETH", "KRW-XRP")
RECORDS_IN = "cryptoflow_sink_records_in_total"


async def test_every_trade_lands_once_despite_duplicates_and_redelivery(kit: Any, make: Any) -> None:
    originals = make.trades_for(MARKETS, 200)
    # The same trades again: REST backfill copies (fewer fields), some before their WS original arrives,
    # and a SNAPSHOT-style repeat of the first 50.
    backfill = [
        make.trade(t.market, t.sequential_id, t.trade_timestamp, price=str(t.price), source="rest-backfill")
        for t in originals[::3]
    ]
    sent = await kit.produce(originals[:300])
    sent += await kit.produce([*backfill, *originals[300:], *originals[:50]])

    async with kit.running(kit.settings(batch_size=64)) as sink:
        await kit.wait_until(lambda: _read(sink, sent), within=60, what="every record read")
        await kit.wait_committed(within=30)
    expected = Counter({(t.market, t.sequential_id): 1 for t in originals})
    assert await kit.trade_ids(MARKETS) == expected
    assert make.metric(sink, "cryptoflow_sink_records_out_total", kind="trade") == 600
    assert (
        make.metric(sink, "cryptoflow_sink_records_skipped_total", kind="trade", reason="duplicate")
        == sent - 600
    )

    first = originals[0]
    entry = (await kit.stream(first.market))[0]
    assert entry["sequential_id"] == str(first.sequential_id)
    assert entry["trade_timestamp"] == str(first.trade_timestamp)
    assert entry["price"] == str(first.price) == "1000.05"
    assert entry["source"] == "ws"
    # Ids are not in time order; (trade_timestamp, sequential_id) is the order to read them in.
    entries = await kit.stream("KRW-ETH")
    by_time = sorted(entries, key=lambda e: (int(e["trade_timestamp"]), int(e["sequential_id"])))
    assert [int(e["sequential_id"]) for e in by_time] != sorted(int(e["sequential_id"]) for e in entries)

    # Redelivery of everything: a second group reads both topics from the start into the same Redis.
    again = kit.settings(group_id=f"{kit.group_id}-again")
    async with kit.running(again) as replay:
        await kit.wait_until(lambda: _read(replay, sent), within=60, what="the replay")
    assert await kit.trade_ids(MARKETS) == expected
    assert make.metric(replay, "cryptoflow_sink_records_out_total", kind="trade") == 0


async def test_stale_ticker_never_overwrites_and_latest_orderbook_wins(kit: Any, make: Any) -> None:
    btc = "KRW-BTC"
    async with kit.running() as sink:
        first = await kit.produce(
            [
                make.ticker(btc, 2000, price="2"),
                make.ticker(btc, 1000, price="1"),
                make.orderbook(btc, 1000, best_ask="1"),
                make.orderbook(btc, 3000, best_ask="3"),
                make.orderbook(btc, 2000, best_ask="2"),
            ]
        )
        await kit.wait_until(lambda: _read(sink, first), within=60, what="the first records")
        # Older records again, now in a batch of their own: Redis holds newer ones.
        late = await kit.produce(
            [make.ticker(btc, 1500, price="1.5"), make.orderbook(btc, 2999, best_ask="2.9")]
        )
        await kit.wait_until(lambda: _read(sink, first + late), within=30, what="the late records")
        # The same exchange time as the stored ticker: the later record wins.
        tie = await kit.produce([make.ticker(btc, 2000, price="2.5"), make.ticker("KRW-ETH", 10, price="10")])
        await kit.wait_until(lambda: _read(sink, first + late + tie), within=30, what="the tie")

    ticker = await kit.hash(redis_keys.ticker_key(btc))
    assert (ticker["timestamp"], ticker["trade_price"], ticker["market"]) == ("2000", "2.5", btc)
    assert ticker["acc_trade_price"] == "147660279944.1342"  # exact text, straight from the sample
    book = await kit.hash(redis_keys.orderbook_key(btc))
    assert book["timestamp"] == "3000"
    assert json.loads(book["units"])[0]["ask_price"] == "3"
    assert make.metric(sink, "cryptoflow_sink_records_skipped_total", kind="orderbook", reason="stale") == 1
    assert make.metric(sink, "cryptoflow_sink_records_skipped_total", kind="ticker", reason="stale") == 1

    registry = {
        k.decode(): json.loads(v) for k, v in (await kit.redis.hgetall(redis_keys.MARKETS_KEY)).items()
    }
    assert registry[btc] == {
        "quote_currency": "KRW",
        "status": "ACTIVE",
        "status_ms": "2000",
        "last_seen_ms": "3000",
    }
    assert registry["KRW-ETH"]["last_seen_ms"] == "10"


async def test_records_that_do_not_fit_go_to_the_dlq_and_the_sink_goes_on(kit: Any, make: Any) -> None:
    valid = make.trades_for(["KRW-BTC"], 10)
    good_headers = [("contract", b"upbit.trade"), ("contract-version", b"1.0.0"), ("source", b"ws")]
    trade_value = serialize(make.trade("KRW-BTC", 99, 1_773_278_125_000))
    float_price = json.loads(trade_value) | {"price": 104862000.5}
    bad: list[tuple[Topic, bytes | None, list[tuple[str, bytes]], str]] = [
        (Topic.TRADE, b"{not json", good_headers, "Invalid JSON"),
        (Topic.TRADE, b'{"market":"KRW-BTC"}', good_headers, "field required"),
        (Topic.TRADE, json.dumps(float_price).encode(), good_headers, "upbit.trade.price"),
        (
            Topic.TRADE,
            trade_value,
            [*good_headers[:1], ("contract-version", b"2.0.0"), good_headers[2]],
            "major",
        ),
        (Topic.TICKER, serialize(make.ticker("KRW-BTC", 1, price="1")), [], "missing record header"),
        (Topic.ORDERBOOK, serialize(make.orderbook("KRW-BTC", 1, best_ask="1")), good_headers, "contract="),
        (Topic.TRADE, None, good_headers, "tombstone"),
        (Topic.TRADE, b"[" * 300_000, good_headers, "cut to 262144"),
    ]
    await kit.produce(valid[:5])
    expected = {}
    for topic, value, headers, reason in bad:
        partition, offset = await kit.produce_raw(topic, value, headers=headers)
        # A huge value is kept in part: the DLQ record must fit in a Kafka message.
        expected[(kit.topic(topic), partition, offset)] = ((value or b"")[:DLQ_RAW_LIMIT], reason)

    settings = kit.settings(metrics_port=0, batch_size=4)
    async with kit.running(settings) as sink:
        await kit.wait_until(lambda: _read(sink, 5 + len(bad)), within=60, what="the bad records")
        await kit.produce(valid[5:])
        await kit.wait_for_trades(["KRW-BTC"], 10, within=30)
        await kit.wait_committed(within=30)
        scraped = await asyncio.to_thread(_scrape, sink.metrics_port)

    letters = await kit.dead_letters()
    assert len(letters) == len(bad)
    for letter, headers in letters:
        value, reason = expected[(letter.source_topic, letter.source_partition, letter.source_offset)]
        assert reason in letter.reason
        assert letter.stage == "stream-sink"
        assert base64.b64decode(letter.raw_base64) == value
        assert letter.key == "KRW-BTC"
        assert headers["contract"] == b"upbit.dlq"
        assert headers["source"] == b"stream-sink"
    assert await kit.trade_ids(["KRW-BTC"]) == Counter({("KRW-BTC", t.sequential_id): 1 for t in valid})
    dlq_lines = [line for line in scraped.splitlines() if line.startswith("cryptoflow_sink_dlq_total")]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in dlq_lines) == len(bad)


async def test_stop_finishes_and_commits_the_batch_in_hand(kit: Any, make: Any) -> None:
    trades = make.trades_for(MARKETS, 3000)
    await kit.produce(trades)
    async with kit.running(kit.settings(batch_size=200)) as sink:
        await kit.wait_until(lambda: _read(sink, 1000), within=60, what="the first batches")
    # Stopped mid-backlog: what reached Redis is exactly what was committed, nothing half-done.
    written = await kit.stream_total(MARKETS)
    assert written < len(trades)
    assert await kit.committed() == written
    assert make.metric(sink, "cryptoflow_sink_records_committed_total") == written


@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_broker_restart_mid_stream_loses_nothing(kit: Any, make: Any, how: str) -> None:
    trades = make.trades_for(MARKETS, 1500)
    await kit.produce(trades[:3000])
    async with kit.running(kit.settings(batch_size=50)) as sink:
        await kit.wait_until(lambda: _read(sink, 300), within=60, what="the first batches")
        await asyncio.to_thread(getattr(kit.broker, how))
        await asyncio.sleep(1)
        await asyncio.to_thread(kit.broker.start)
        await kit.produce(trades[3000:])
        await kit.wait_for_trades(MARKETS, len(trades), within=90)
        await kit.wait_committed(within=60)
    assert await kit.trade_ids(MARKETS) == Counter({(t.market, t.sequential_id): 1 for t in trades})


async def test_redis_outage_blocks_commits_and_then_recovers(kit: Any, make: Any, redis_server: Any) -> None:
    trades = make.trades_for(MARKETS, 400)
    async with kit.running(kit.settings(batch_size=100)) as sink:
        await kit.produce(trades[:600])
        await kit.wait_for_trades(MARKETS, 600, within=60)
        await kit.wait_committed(within=30)
        await asyncio.to_thread(redis_server.stop)
        await kit.produce(trades[600:])

        async def retrying() -> bool:
            return make.metric(sink, "cryptoflow_sink_retries_total", operation="redis") >= 3

        await kit.wait_until(retrying, within=30, what="the sink to retry Redis")
        # Nothing was written, so nothing past the first 600 records may be committed.
        assert await kit.committed() == 600
        await asyncio.to_thread(redis_server.start)
        await kit.wait_for_trades(MARKETS, len(trades), within=60)
        await kit.wait_committed(within=30)
    assert await kit.trade_ids(MARKETS) == Counter({(t.market, t.sequential_id): 1 for t in trades})


async def _read(sink: Any, count: int) -> bool:
    """Whether the sink has read at least `count` records (valid or not)."""
    total = sum(
        sink.metrics.registry.get_sample_value(RECORDS_IN, {"kind": kind}) or 0.0
        for kind in ("trade", "ticker", "orderbook")
    )
    return total >= count


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        body: bytes = response.read()
    return body.decode()
