"""Pure logic: backoff, rate windows, sharding, subscribe requests, the trade tracker, market selection."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncGenerator, Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from cryptoflow_contracts.backoff import Backoff
from cryptoflow_contracts.records import TradeRecord
from cryptoflow_contracts.rest import RestMarket, RestTradeTick, parse_rest_list
from cryptoflow_ingest.backfill import Backfiller, missing_trades
from cryptoflow_ingest.connection import now_ms
from cryptoflow_ingest.discovery import select_markets
from cryptoflow_ingest.metrics import IngestMetrics
from cryptoflow_ingest.rest import days_back
from cryptoflow_ingest.settings import IngestSettings, WsFormat
from cryptoflow_ingest.subscriptions import ShardPlan, subscribe_request
from cryptoflow_ingest.tracker import TradeTracker
from cryptoflow_upbit_client import GroupLimiter, SlidingWindow


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_backoff_grows_caps_and_resets() -> None:
    backoff = Backoff(initial_s=0.5, max_s=4.0, rng=lambda: 1.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_backoff_full_jitter_stays_within_the_cap() -> None:
    backoff = Backoff(initial_s=1.0, max_s=8.0)
    delays = [backoff.next_delay() for _ in range(50)]
    assert all(0 <= d <= 8.0 for d in delays)
    assert len(set(delays)) > 40  # jittered, not a fixed schedule


def test_rate_window_slides() -> None:
    clock = FakeClock()
    window = SlidingWindow(5, 1.0, clock=clock)
    for _ in range(5):
        assert window.delay() == 0
        window.record()
    assert window.delay() == pytest.approx(1.0)
    clock.now += 0.4
    assert window.delay() == pytest.approx(0.6)
    clock.now += 0.6
    assert window.delay() == 0


async def test_rate_limits_need_every_window() -> None:
    # 100/min with 5/s: the per-minute window is the binding one once exhausted.
    limits = GroupLimiter(5, 0.05, also=[(7, 60.0)])
    per_min = limits.windows[1]
    for _ in range(7):
        await asyncio.wait_for(limits.acquire(), 1.0)
    assert per_min.delay() > 50
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(limits.acquire(), 0.2)


def test_shard_plan_fills_shards_and_is_sticky() -> None:
    plan = ShardPlan(capacity=3)
    assert plan.update(["A", "B", "C", "D", "E"]) == {0, 1}
    assert plan.shards == {0: ("A", "B", "C"), 1: ("D", "E")}
    # A new listing fills the free slot; shard 0 is untouched.
    assert plan.update(["A", "B", "C", "D", "E", "F"]) == {1}
    assert plan.shards == {0: ("A", "B", "C"), 1: ("D", "E", "F")}
    # A delisting only touches its shard; the next listing reuses the room.
    assert plan.update(["A", "C", "D", "E", "F"]) == {0}
    assert plan.update(["A", "C", "D", "E", "F", "G", "H"]) == {0, 2}
    assert plan.shards == {0: ("A", "C", "G"), 1: ("D", "E", "F"), 2: ("H",)}
    # An emptied shard disappears (its connection closes); ids are not reused.
    assert plan.update(["A", "C", "G", "H"]) == {1}
    assert plan.update(["A", "C", "G", "H", "I", "J", "K"]) == {2, 3}
    assert 1 not in plan.shards
    assert plan.markets() == {"A", "C", "G", "H", "I", "J", "K"}
    assert plan.update(["A", "C", "G", "H", "I", "J", "K"]) == set()


@pytest.mark.parametrize(
    ("depth", "book_codes"), [(30, ["KRW-BTC", "KRW-ETH"]), (15, ["KRW-BTC.15", "KRW-ETH.15"])]
)
def test_subscribe_request_lists_every_type(depth: int, book_codes: list[str]) -> None:
    raw = subscribe_request(
        ["KRW-BTC", "KRW-ETH"], orderbook_depth=depth, ws_format=WsFormat.SIMPLE, ticket="t"
    )
    assert json.loads(raw) == [
        {"ticket": "t"},
        {"type": "trade", "codes": ["KRW-BTC", "KRW-ETH"]},
        {"type": "ticker", "codes": ["KRW-BTC", "KRW-ETH"]},
        {"type": "orderbook", "codes": book_codes},
        {"format": "SIMPLE"},
    ]


def test_tracker_ids_timestamps_and_pruning() -> None:
    tracker = TradeTracker(keep_ms=1_000, max_ids=3)
    tracker.seen("M", 11, 5_000)
    tracker.seen("M", 10, 4_000)  # out of order: the newest time stays
    assert tracker.last_seen_ms("M") == 5_000
    assert tracker.knows("M", 10)
    assert tracker.knows("M", 11)
    tracker.seen("M", 12, 6_500)  # 4_000 and 5_000 are now older than 6_500 - 1_000
    assert not tracker.knows("M", 10)
    assert tracker.knows("M", 12)
    for sid in range(20, 25):
        tracker.seen("M", sid, 6_500)
    assert sum(tracker.knows("M", sid) for sid in range(20, 25)) == 3  # capped
    assert not tracker.knows("X", 1)
    assert tracker.last_seen_ms("X") is None


def test_tracker_checkpoint_stays_behind_open_gaps(tmp_path: Path) -> None:
    tracker = TradeTracker(keep_ms=10_000)
    tracker.acked("M", 9_000)
    tracker.acked("M", 8_000)  # acks never move it back
    tracker.open_gap("M", 5_000)
    tracker.open_gap("M", 7_000)
    assert tracker.checkpoint() == {"M": 5_000}
    tracker.close_gaps("M", [5_000])
    assert tracker.checkpoint() == {"M": 7_000}
    tracker.close_gaps("M", [7_000])
    tracker.open_gap("N", 3_000)  # a gap with nothing acked yet still pins the checkpoint
    assert tracker.checkpoint() == {"M": 9_000, "N": 3_000}

    state = tmp_path / "state.json"
    tracker.save(state)
    restored = TradeTracker(keep_ms=10_000)
    restored.load(state)
    assert restored.last_seen_ms("M") == 9_000
    assert restored.last_seen_ms("N") == 3_000
    tracker.forget("N")
    tracker.save(state)
    assert json.loads(state.read_text()) == {"version": 1, "markets": {"M": 9_000}}


@pytest.mark.parametrize("content", ["{not json", '["a list"]', '{"version": 99, "markets": {}}'])
def test_tracker_ignores_a_bad_state_file(tmp_path: Path, content: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    tracker = TradeTracker(keep_ms=10)
    tracker.load(state)
    tracker.load(tmp_path / "missing.json")
    assert tracker.checkpoint() == {}


def test_select_markets_filters(samples_dir: Path) -> None:
    listed = parse_rest_list((samples_dir / "rest-market-all.json").read_bytes(), RestMarket)
    everything = select_markets(listed, IngestSettings())
    assert len(everything) == len(listed) == 10
    krw = select_markets(listed, IngestSettings(quote_currencies=["krw"]))
    assert krw
    assert all(code.startswith("KRW-") for code in krw)
    assert set(krw) < set(everything)
    # An explicit list only keeps what is listed.
    assert select_markets(listed, IngestSettings(markets=["KRW-BTC", "KRW-GONE"])) == ["KRW-BTC"]


def _tick(sid: int, ts: int) -> RestTradeTick:
    return RestTradeTick(
        market="KRW-BTC",
        trade_date_utc="2026-03-12",
        trade_time_utc="01:15:25",
        timestamp=ts,
        trade_price=Decimal("100"),
        trade_volume=Decimal("0.1"),
        prev_closing_price=Decimal("99"),
        change_price=Decimal("1"),
        ask_bid="BID",
        sequential_id=sid,
    )


def test_missing_trades_uses_time_floor_and_ids() -> None:
    ticks = [_tick(5, 1_500), _tick(9, 1_400), _tick(3, 1_000), _tick(7, 999)]
    known = {9}
    missing = missing_trades(ticks, floor_ms=1_000, known=known.__contains__)
    assert [t.sequential_id for t in missing] == [5, 3]


def test_days_back_counts_utc_days() -> None:
    def ms(text: str) -> int:
        return int(dt.datetime.fromisoformat(text).timestamp() * 1000)

    assert days_back(ms("2026-03-12T00:00:01+00:00"), ms("2026-03-12T23:00:00+00:00")) == 0
    assert days_back(ms("2026-03-11T23:59:59+00:00"), ms("2026-03-12T00:00:01+00:00")) == 1
    assert days_back(ms("2026-01-01T00:00:00+00:00"), ms("2026-03-12T00:00:00+00:00")) == 7


async def test_a_gap_opened_before_a_queued_fetch_waits_for_its_own_live_moment() -> None:
    """Drop → live → drop again before the settle pause ends: the first fetch must not close the second
    gap, or the trades between that fetch and the next resubscribe would never be fetched."""
    fetched: list[int] = []

    async def pages(market: str, floor_ms: int, now: int) -> AsyncGenerator[Sequence[RestTradeTick]]:
        fetched.append(floor_ms)
        yield []

    class Sink:
        async def publish_backfill(self, market: str, records: Sequence[TradeRecord]) -> None:
            raise AssertionError("nothing to publish")

    tracker = TradeTracker(keep_ms=60_000)
    backfiller = Backfiller(
        pages,
        Sink(),
        tracker=tracker,
        metrics=IngestMetrics(),
        concurrency=2,
        max_age_ms=3_600_000,
        settle_s=0.05,
    )
    first, second = now_ms() - 20_000, now_ms() - 10_000
    running = asyncio.create_task(backfiller.run())
    try:
        backfiller.release(["KRW-BTC"])  # nothing open: nothing to do
        backfiller.open("KRW-BTC", first)
        backfiller.release(["KRW-BTC"])
        backfiller.open("KRW-BTC", second)  # dropped again while the first gap settles
        await asyncio.sleep(0.3)
        assert fetched == [first]
        assert tracker.checkpoint() == {"KRW-BTC": second}  # still pinned by the unfetched gap
        assert backfiller.pending == 0
        backfiller.release(["KRW-BTC"])
        assert backfiller.pending == 1
        await asyncio.sleep(0.3)
        assert fetched == [first, second]
        assert tracker.checkpoint() == {}
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
