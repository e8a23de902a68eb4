"""Same field names, in the same order, as the recorded samples: every WS type and format, every REST body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from cryptoflow_contracts.ws import WsError, WsListSubscriptions, WsStatus, parse_ws_frame
from upbit_sim import Simulator


def _first(path: Path) -> dict[str, Any]:
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else json.loads(text.splitlines()[0])
    return data[0] if isinstance(data, list) else data


def _keys(obj: Any) -> Any:
    """Key order, recursively (lists by their first element)."""
    if isinstance(obj, dict):
        return [(k, _keys(v)) for k, v in obj.items()]
    if isinstance(obj, list) and obj:
        return [_keys(obj[0])]
    return None


@pytest.mark.parametrize(
    "case",
    [
        ("ws-trade.jsonl", "trade", "DEFAULT"),
        ("ws-ticker.jsonl", "ticker", "DEFAULT"),
        ("ws-ticker-simple.jsonl", "ticker", "SIMPLE"),
        ("ws-orderbook.jsonl", "orderbook", "DEFAULT"),
        ("ws-candle.jsonl", "candle.1s", "DEFAULT"),
    ],
)
async def test_ws_frames_have_the_sample_fields(
    sim: Simulator, kit: Any, samples_dir: Path, case: tuple[str, str, str]
) -> None:
    sample, type_, fmt = case
    ws = await kit.subscribe(sim, {"type": type_, "codes": ["KRW-BTC"]}, fmt=fmt)
    frame = await kit.recv_json(ws)
    await ws.close()
    assert _keys(frame) == _keys(_first(samples_dir / sample))


@pytest.mark.parametrize(
    "case",
    [
        ("rest-market-all.json", "/v1/market/all", {"is_details": "true"}),
        ("rest-ticker.json", "/v1/ticker", {"markets": "KRW-BTC"}),
        ("rest-candles-minutes-1.json", "/v1/candles/minutes/1", {"market": "KRW-BTC"}),
        ("rest-candles-days.json", "/v1/candles/days", {"market": "KRW-BTC"}),
        ("rest-trades-ticks.json", "/v1/trades/ticks", {"market": "KRW-BTC"}),
        ("rest-orderbook.json", "/v1/orderbook", {"markets": "KRW-BTC"}),
    ],
)
async def test_rest_bodies_have_the_sample_fields(
    sim: Simulator, http: httpx.AsyncClient, samples_dir: Path, case: tuple[str, str, dict[str, str]]
) -> None:
    sample, path, params = case
    body = (await http.get(f"{sim.rest_url}{path}", params=params)).json()
    assert _keys(body[0]) == _keys(_first(samples_dir / sample))


async def test_control_frames_match_the_samples(sim: Simulator, kit: Any, samples_dir: Path) -> None:
    status, listing, *errors = (
        json.loads(line) for line in (samples_dir / "ws-control.jsonl").read_text().splitlines()
    )
    ws = await kit.subscribe(sim, {"type": "ticker", "codes": ["KRW-BTC"], "is_only_snapshot": True})
    await kit.recv(ws)
    await ws.send("PING")
    pong = await kit.recv(ws)
    assert json.loads(pong) == status
    assert isinstance(parse_ws_frame(pong), WsStatus)
    codes = ["KRW-BTC", "KRW-ETH", "KRW-XRP"]
    types = [{"type": t, "codes": codes} for t in ("ticker", "trade", "orderbook")]
    await ws.send(json.dumps([{"ticket": listing["ticket"]}, *types, {"method": "LIST_SUBSCRIPTIONS"}]))
    raw = await kit.collect(ws, 0.3)
    frames = [json.loads(f) for f in raw]
    assert next(f for f in frames if f.get("method") == "LIST_SUBSCRIPTIONS") == listing
    assert any(isinstance(parse_ws_frame(f), WsListSubscriptions) for f in raw)
    await ws.send("[]")
    error = await kit.recv(ws)
    assert _keys(json.loads(error)) == _keys(errors[0])
    assert isinstance(parse_ws_frame(error), WsError)
    await ws.close()
