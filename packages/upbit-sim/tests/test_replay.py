"""`--replay`: recorded frames reach subscribers frame for frame; REST follows the replayed state."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from cryptoflow_contracts.rest import RestOrderbook, RestTicker, RestTradeTick, parse_rest_list
from cryptoflow_contracts.ws import parse_ws_frame
from upbit_sim import SimConfig, Simulator
from upbit_sim.replay import Replayer

CODES = ["KRW-BTC", "KRW-ETH", "KRW-XRP"]


def _lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip()]


async def test_trade_sample_reaches_a_subscriber_frame_for_frame(
    make_sim: Any, kit: Any, samples_dir: Path
) -> None:
    sim = await make_sim(replay=samples_dir / "ws-trade.jsonl")
    ws = await kit.subscribe(sim, {"type": "trade", "codes": CODES})
    frames = await kit.collect(ws, 0.7)
    await ws.close()
    assert frames == _lines(samples_dir / "ws-trade.jsonl")
    stats = await kit.admin(sim, "GET", "/stats")
    assert stats["mode"] == "replay"
    assert stats["replay"]["done"]
    assert stats["frames_sent"]["trade"] == 12


async def test_only_matching_type_and_codes_are_sent(make_sim: Any, kit: Any, samples_dir: Path) -> None:
    sim = await make_sim(replay=samples_dir / "ws-trade.jsonl")
    ws = await kit.subscribe(sim, {"type": "trade", "codes": ["KRW-ETH"]}, {"type": "ticker", "codes": CODES})
    frames = [json.loads(f) for f in await kit.collect(ws, 0.7)]
    await ws.close()
    assert len(frames) == 3
    assert {f["code"] for f in frames} == {"KRW-ETH"}


async def test_simple_conversion_decodes_to_the_same_records(
    make_sim: Any, kit: Any, samples_dir: Path
) -> None:
    sim = await make_sim(replay=samples_dir / "ws-ticker.jsonl", replay_start="subscription")
    default = await websockets.connect(sim.ws_url, max_queue=None)
    simple = await websockets.connect(sim.ws_url, max_queue=None)
    await simple.send(json.dumps([{"ticket": "s"}, {"type": "ticker", "codes": CODES}, {"format": "SIMPLE"}]))
    await default.send(json.dumps([{"ticket": "d"}, {"type": "ticker", "codes": CODES}]))
    got_simple = await kit.collect(simple, 0.7)
    got_default = await kit.collect(default, 0.3)
    await default.close()
    await simple.close()
    assert all("ty" in json.loads(f) for f in got_simple)
    # the SIMPLE sample file holds the same events for KRW-BTC and KRW-ETH
    expected = [parse_ws_frame(line) for line in _lines(samples_dir / "ws-ticker-simple.jsonl")]
    converted = [parse_ws_frame(f) for f in got_simple if json.loads(f)["cd"] != "KRW-XRP"]
    assert converted == expected
    assert [parse_ws_frame(f) for f in got_default][:2] == [parse_ws_frame(f) for f in got_simple][
        :2
    ] or got_default


async def test_invalid_lines_go_byte_for_byte_to_every_subscriber(
    make_sim: Any, kit: Any, tmp_path: Path, samples_dir: Path
) -> None:
    trades = _lines(samples_dir / "ws-trade.jsonl")
    broken = b'{"type":"trade","code":"KRW-BTC","trade_pr'
    status = b'{"status":"UP"}'
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([trades[0], broken, status, trades[1], b"not json at all \xff"]) + b"\n")
    sim = await make_sim(replay=path)
    other = await kit.subscribe(sim, {"type": "orderbook", "codes": ["KRW-XRP"]})
    ws = await kit.subscribe(sim, {"type": "trade", "codes": CODES})
    await kit.collect(ws, 0.3)
    await kit.collect(other, 0.1)
    await kit.admin(sim, "POST", "/replay/restart")  # both are subscribed now: play it again
    got = await kit.collect(ws, 0.4)
    got_other = await kit.collect(other, 0.1)
    assert got == [trades[0], broken, status, trades[1], b"not json at all \xff"]
    assert got_other == [broken, status, b"not json at all \xff"]
    await ws.close()
    await other.close()


async def test_rest_state_follows_the_replay(
    make_sim: Any, kit: Any, samples_dir: Path, tmp_path: Path, http: httpx.AsyncClient
) -> None:
    path = tmp_path / "all.jsonl"
    path.write_bytes(
        b"\n".join(
            _lines(samples_dir / name)[i]
            for name in ("ws-trade.jsonl", "ws-ticker.jsonl", "ws-orderbook.jsonl")
            for i in range(len(_lines(samples_dir / name)))
        )
        + b"\n"
    )
    sim = await make_sim(replay=path, replay_start="immediate")
    deadline = time.monotonic() + 3
    while not (await kit.admin(sim, "GET", "/stats"))["replay"]["done"] and time.monotonic() < deadline:
        await kit.collect(await kit.subscribe(sim, {"type": "trade", "codes": ["KRW-BTC"]}), 0.1)
    trades = parse_rest_list(
        (
            await http.get(f"{sim.rest_url}/v1/trades/ticks", params={"market": "KRW-BTC", "count": 50})
        ).content,
        RestTradeTick,
    )
    expected_rest = parse_rest_list((samples_dir / "rest-trades-ticks.json").read_bytes(), RestTradeTick)
    assert trades == expected_rest[:-1]  # the REST sample has one older trade the WS never showed
    tickers = parse_rest_list(
        (await http.get(f"{sim.rest_url}/v1/ticker", params={"markets": ",".join(CODES)})).content, RestTicker
    )
    expected_tickers = parse_rest_list((samples_dir / "rest-ticker.json").read_bytes(), RestTicker)
    for got, want in zip(tickers, expected_tickers, strict=True):
        assert got.model_dump(exclude={"timestamp"}) == want.model_dump(exclude={"timestamp"})
    books = parse_rest_list(
        (await http.get(f"{sim.rest_url}/v1/orderbook", params={"markets": "KRW-BTC,KRW-ETH"})).content,
        RestOrderbook,
    )
    expected_books = parse_rest_list((samples_dir / "rest-orderbook.json").read_bytes(), RestOrderbook)
    # the REST sample was taken a moment after the last WS frame: same book, later timestamp
    assert [b.model_dump(exclude={"timestamp"}) for b in books] == [
        b.model_dump(exclude={"timestamp"}) for b in expected_books
    ]
    markets = [m["market"] for m in (await http.get(f"{sim.rest_url}/v1/market/all")).json()]
    assert markets == CODES


async def test_realtime_speed_follows_timestamps(make_sim: Any, kit: Any, samples_dir: Path) -> None:
    sim = await make_sim(replay=samples_dir / "ws-trade.jsonl", replay_speed="10")
    ws = await kit.subscribe(sim, {"type": "trade", "codes": CODES})
    start = time.monotonic()
    frames = []
    while len(frames) < 12:
        frames.append(await kit.recv(ws, 2))
    elapsed = time.monotonic() - start
    await ws.close()
    span = json.loads(frames[-1])["timestamp"] - json.loads(frames[0])["timestamp"]  # ~3.9 s recorded
    # Paced, not sent at once (a loaded machine can only add time; the pacing arithmetic itself is
    # checked on the replay's own sleeps below).
    assert elapsed >= span / 1000 / 10 * 0.8


async def test_re_sent_frames_do_not_slow_the_replay(tmp_path: Path, samples_dir: Path) -> None:
    """Pacing follows the newest timestamp seen: re-sends and late frames add no waiting (they made a
    recording with re-sends replay ~5x slower than real time). Measured on the replay's own sleeps."""
    template = json.loads(_lines(samples_dir / "ws-trade.jsonl")[0])
    t0 = template["timestamp"]
    offsets = [0, 1000, 2000, 1000, 3000, 500, 2500, 4000]  # the 4th and 6th are re-sends, the 7th late
    path = tmp_path / "resends.jsonl"
    path.write_text("".join(json.dumps({**template, "timestamp": t0 + o}) + "\n" for o in offsets))
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    sim = Simulator(SimConfig.relaxed(replay=path, replay_speed="realtime"))
    replayer = Replayer(sim, path, "realtime", "immediate", sleep=record)
    await replayer.play()
    assert replayer.done
    assert sum(slept) == pytest.approx(4.0)  # the recording's span, once
    assert slept == pytest.approx([1.0, 1.0, 1.0, 1.0])
    fast = Replayer(sim, path, "4", "immediate", sleep=record)
    slept.clear()
    await fast.play()
    assert sum(slept) == pytest.approx(1.0)
