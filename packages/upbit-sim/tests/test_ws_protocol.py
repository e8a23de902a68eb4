"""The WebSocket protocol as a plain `websockets` client sees it."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from cryptoflow_contracts.ws import WsCandle, WsOrderbook, WsTicker, WsTrade, parse_ws_frame
from upbit_sim import Simulator

MakeSim = Callable[..., Awaitable[Simulator]]

ALL_TYPES = ["trade", "ticker", "orderbook", "candle.1s", "candle.1m", "candle.240m"]


async def test_frames_are_binary_utf8_json_snapshot_then_realtime(kit: Any, sim: Simulator) -> None:
    ws = await kit.subscribe(sim, {"type": "trade", "codes": ["KRW-BTC", "KRW-ETH"]})
    first = [await kit.recv_json(ws), await kit.recv_json(ws)]
    assert [(f["code"], f["stream_type"]) for f in first] == [
        ("KRW-BTC", "SNAPSHOT"),
        ("KRW-ETH", "SNAPSHOT"),
    ]
    later = [json.loads(f) for f in await kit.collect(ws, 0.5)]
    assert later
    assert {f["stream_type"] for f in later} == {"REALTIME"}
    assert {f["code"] for f in later} <= {"KRW-BTC", "KRW-ETH"}
    await ws.close()


async def test_nothing_is_sent_before_the_first_subscription(sim: Simulator) -> None:
    async with websockets.connect(sim.ws_url) as ws:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.5)


@pytest.mark.parametrize("flag", ["is_only_snapshot", "isOnlySnapshot"])
async def test_only_snapshot_sends_one_frame_per_code(kit: Any, sim: Simulator, flag: str) -> None:
    ws = await kit.subscribe(sim, {"type": "ticker", "codes": ["KRW-BTC", "KRW-XRP"], flag: True})
    frames = [json.loads(f) for f in await kit.collect(ws, 0.5)]
    assert [(f["code"], f["stream_type"]) for f in frames] == [
        ("KRW-BTC", "SNAPSHOT"),
        ("KRW-XRP", "SNAPSHOT"),
    ]
    await ws.close()


@pytest.mark.parametrize("flag", ["is_only_realtime", "isOnlyRealtime"])
async def test_only_realtime_skips_the_snapshot(kit: Any, sim: Simulator, flag: str) -> None:
    ws = await kit.subscribe(sim, {"type": "trade", "codes": ["KRW-BTC", "KRW-ETH", "KRW-XRP"], flag: True})
    frames = [json.loads(f) for f in await kit.collect(ws, 0.5)]
    assert frames
    assert {f["stream_type"] for f in frames} == {"REALTIME"}
    await ws.close()


async def test_all_types_and_simple_format(kit: Any, sim: Simulator) -> None:
    ws = await kit.subscribe(sim, *({"type": t, "codes": ["KRW-BTC"]} for t in ALL_TYPES), fmt="SIMPLE")
    raw = await kit.collect(ws, 0.8)  # snapshots carry every type
    models = {type(parse_ws_frame(f)) for f in raw}
    assert models == {WsTrade, WsTicker, WsOrderbook, WsCandle}
    frames = [json.loads(f) for f in raw]
    kinds = {f["ty"] for f in frames}
    assert kinds == set(ALL_TYPES)
    assert all("type" not in f and f["cd"] == "KRW-BTC" for f in frames)
    ticker = next(f for f in frames if f["ty"] == "ticker")
    assert {"tdt", "ttm", "atv24h", "h52wp", "ms", "st"} <= ticker.keys()
    trade = next(f for f in frames if f["ty"] == "trade")
    assert {"td", "ttm", "sid", "bap", "bbs"} <= trade.keys()
    await ws.close()


@pytest.mark.parametrize(
    ("suffix", "levels"), [("", 30), (".1", 1), (".5", 5), (".15", 15), (".30", 30), (".7", 30)]
)
async def test_orderbook_depth_suffix(kit: Any, sim: Simulator, suffix: str, levels: int) -> None:
    ws = await kit.subscribe(sim, {"type": "orderbook", "codes": [f"KRW-ETH{suffix}"]})
    book = await kit.recv_json(ws)
    assert book["code"] == "KRW-ETH"
    assert len(book["orderbook_units"]) == levels
    await ws.close()


async def test_orderbook_level_groups_prices(kit: Any, sim: Simulator) -> None:
    ws = await kit.subscribe(sim, {"type": "orderbook", "codes": ["KRW-BTC"], "level": 100000})
    book = await kit.recv_json(ws)
    assert book["level"] == 100000
    for unit in book["orderbook_units"]:
        assert unit["ask_price"] % 100000 == 0
        assert unit["bid_price"] % 100000 == 0
    await ws.close()


@pytest.mark.parametrize("fmt", ["JSON_LIST", "SIMPLE_LIST"])
async def test_list_formats_deliver_arrays(kit: Any, sim: Simulator, fmt: str) -> None:
    ws = await kit.subscribe(
        sim,
        {"type": "trade", "codes": ["KRW-BTC", "KRW-ETH"]},
        {"type": "ticker", "codes": ["KRW-BTC"]},
        fmt=fmt,
    )
    frames = [json.loads(f) for f in await kit.collect(ws, 0.5)]
    assert frames
    assert all(isinstance(f, list) and f for f in frames)
    key = "ty" if fmt == "SIMPLE_LIST" else "type"
    assert {item[key] for f in frames for item in f} == {"trade", "ticker"}
    await ws.close()


async def test_new_subscription_replaces_the_previous_one(kit: Any, sim: Simulator) -> None:
    ws = await kit.subscribe(sim, {"type": "trade", "codes": ["KRW-BTC"]})
    await kit.collect(ws, 0.3)
    await ws.send(json.dumps([{"ticket": "t2"}, {"type": "ticker", "codes": ["KRW-ETH"]}]))
    await asyncio.sleep(0.1)  # frames already in flight may still arrive
    await kit.collect(ws, 0.2)
    frames = [json.loads(f) for f in await kit.collect(ws, 0.5)]
    assert frames
    assert {(f["type"], f["code"]) for f in frames} == {("ticker", "KRW-ETH")}
    await ws.close()


async def test_list_subscriptions_reports_and_switches_format(kit: Any, sim: Simulator) -> None:
    ws = await kit.subscribe(
        sim,
        {"type": "ticker", "codes": ["KRW-BTC", "KRW-ETH"]},
        {"type": "orderbook", "codes": ["KRW-BTC.5"]},
        {"type": "trade", "codes": ["KRW-XRP"], "is_only_snapshot": True},
    )
    await ws.send(json.dumps([{"ticket": "list-1"}, {"method": "LIST_SUBSCRIPTIONS"}, {"format": "SIMPLE"}]))
    reply = None
    for frame in await kit.collect(ws, 1.0):
        obj = json.loads(frame)
        if isinstance(obj, dict) and obj.get("mthd") == "LIST_SUBSCRIPTIONS":
            reply = obj
            break
    assert reply == {
        "mthd": "LIST_SUBSCRIPTIONS",
        "rslt": [
            {"ty": "ticker", "cds": ["KRW-BTC", "KRW-ETH"]},
            {"ty": "orderbook", "cds": ["KRW-BTC.5"], "lv": 0},
        ],
        "tckt": "list-1",
    }
    after = [json.loads(f) for f in await kit.collect(ws, 0.8)]
    assert after
    assert all("ty" in f for f in after)
    await ws.close()


async def test_text_ping_answers_status_up_then_every_interval(kit: Any, make_sim: MakeSim) -> None:
    sim = await make_sim(status_interval=0.3, rate=5)
    async with websockets.connect(sim.ws_url) as ws:
        await ws.send("PING")
        assert await kit.recv_json(ws) == {"status": "UP"}
        # Three more, each at least an interval after the one before (a loaded machine may delay them,
        # never bring them closer: the status loop sleeps the interval between sends).
        arrivals = []
        while len(arrivals) < 3:
            if await kit.recv(ws) == b'{"status":"UP"}':
                arrivals.append(time.monotonic())
        assert all(b - a >= 0.3 * 0.9 for a, b in itertools.pairwise(arrivals))


async def test_websocket_ping_is_answered_with_pong(sim: Simulator) -> None:
    async with websockets.connect(sim.ws_url) as ws:
        latency = await asyncio.wait_for(await ws.ping(b"hello"), 2)
        assert latency >= 0


async def test_idle_connection_is_closed(kit: Any, make_sim: MakeSim) -> None:
    sim = await make_sim(idle_timeout=0.4)
    async with websockets.connect(sim.ws_url, ping_interval=None) as ws:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 3)
    stats = await kit.admin(sim, "GET", "/stats")
    assert stats["connections"]["idle_closes"] == 1


async def test_subscribed_connection_with_traffic_is_not_idle(kit: Any, make_sim: MakeSim) -> None:
    sim = await make_sim(idle_timeout=0.5, rate=200)
    ws = await kit.subscribe(sim, {"type": "orderbook", "codes": ["KRW-BTC", "KRW-ETH"]})
    assert len(await kit.collect(ws, 1.5)) > 10
    assert ws.close_code is None
    await ws.close()


ERRORS: list[tuple[Any, str]] = [
    ("not json", "WRONG_FORMAT"),
    ({"ticket": "x"}, "WRONG_FORMAT"),
    ([], "WRONG_FORMAT"),
    (["ticket", "trade"], "WRONG_FORMAT"),
    ([{"type": "trade", "codes": ["KRW-BTC"]}], "NO_TICKET"),
    ([{"ticket": "x"}], "NO_TYPE"),
    ([{"ticket": "x"}, {"format": "SIMPLE"}], "NO_TYPE"),
    ([{"ticket": "x"}, {"type": "trade"}], "NO_CODES"),
    ([{"ticket": "x"}, {"type": "trade", "codes": []}], "NO_CODES"),
    ([{"ticket": "x"}, {"type": "trades", "codes": ["KRW-BTC"]}], "INVALID_PARAM"),
    ([{"ticket": "x"}, {"type": "candle.2m", "codes": ["KRW-BTC"]}], "INVALID_PARAM"),
    ([{"ticket": "x"}, {"type": "trade", "codes": "KRW-BTC"}], "INVALID_PARAM"),
    ([{"ticket": "x"}, {"type": "trade", "codes": ["KRW-BTC"]}, {"format": "XML"}], "INVALID_PARAM"),
    ([{"ticket": "x"}, {"type": "trade", "codes": ["KRW-BTC"], "is_only_snapshot": "yes"}], "INVALID_PARAM"),
    ([{"ticket": "x"}, {"type": "orderbook", "codes": ["KRW-BTC"], "level": 12345}], "INVALID_PARAM"),
    ([{"ticket": "x"}, {"type": "orderbook", "codes": ["KRW-BTC.x"]}], "INVALID_PARAM"),
    ([{"ticket": "x"}, {"method": "UNSUBSCRIBE"}], "INVALID_PARAM"),
]


@pytest.mark.parametrize(("request_", "name"), ERRORS)
async def test_bad_requests_get_error_frames(kit: Any, sim: Simulator, request_: Any, name: str) -> None:
    async with websockets.connect(sim.ws_url) as ws:
        await ws.send(request_ if isinstance(request_, str) else json.dumps(request_))
        reply = await kit.recv_json(ws)
        assert reply["error"]["name"] == name
        assert reply["error"]["message"]
        # the connection stays usable
        await ws.send(json.dumps([{"ticket": "ok"}, {"type": "trade", "codes": ["KRW-BTC"]}]))
        assert (await kit.recv_json(ws))["stream_type"] == "SNAPSHOT"
    stats = await kit.admin(sim, "GET", "/stats")
    assert stats["subscriptions"]["errors"] == {name: 1}


async def test_unknown_codes_are_accepted_but_silent(kit: Any, sim: Simulator) -> None:
    ws = await kit.subscribe(sim, {"type": "trade", "codes": ["KRW-NOPE"]})
    assert await kit.collect(ws, 0.6) == []
    await ws.close()


async def test_binary_request_is_accepted(kit: Any, sim: Simulator) -> None:
    async with websockets.connect(sim.ws_url) as ws:
        await ws.send(json.dumps([{"ticket": "b"}, {"type": "ticker", "codes": ["KRW-BTC"]}]).encode())
        assert (await kit.recv_json(ws))["type"] == "ticker"


async def test_frames_count_per_type(kit: Any, sim: Simulator) -> None:
    ws = await kit.subscribe(
        sim, {"type": "trade", "codes": ["KRW-BTC"]}, {"type": "orderbook", "codes": ["KRW-BTC"]}
    )
    frames = [json.loads(f) for f in await kit.collect(ws, 0.5)]
    await ws.close()
    stats = await kit.admin(sim, "GET", "/stats")
    for kind in ("trade", "orderbook"):
        got = sum(1 for f in frames if f["type"] == kind)
        assert stats["frames_sent"][kind] >= got > 0


async def test_candle_frames_at_most_once_per_second_per_market(make_sim: MakeSim, kit: Any) -> None:
    sim = await make_sim(rate=400, markets=2)
    ws = await kit.subscribe(sim, {"type": "candle.1m", "codes": ["KRW-BTC"], "is_only_realtime": True})
    frames = [json.loads(await kit.recv(ws)) for _ in range(3)]  # over hundreds of trades
    await ws.close()
    stamps = [f["timestamp"] for f in frames]
    assert all(b - a >= 1000 for a, b in itertools.pairwise(stamps))
    assert {f["type"] for f in frames} == {"candle.1m"}
