"""Upbit's rate limits: REST groups (429, then 418), WebSocket connections and subscribe requests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from cryptoflow_contracts.rest import RemainingReq, parse_rest_error


async def test_rest_group_limit_429_then_418_then_released(make_sim: Any, http: httpx.AsyncClient) -> None:
    sim = await make_sim(rest_rate_limit=10, abuse_after=3, block_seconds=0.6)
    url = f"{sim.rest_url}/v1/ticker"
    statuses: list[int] = []
    secs: list[int] = []
    for _ in range(40):
        response = await http.get(url, params={"markets": "KRW-BTC"})
        statuses.append(response.status_code)
        secs.append(RemainingReq.parse(response.headers["Remaining-Req"]).sec)
        if response.status_code == 418:
            break
    first_429 = statuses.index(429)
    # ten per second: the request before the first 429 used the last slot of its second
    assert first_429 >= 10
    assert set(statuses[:first_429]) == {200}
    assert secs[first_429 - 1] == 0
    assert secs[first_429] == 0
    assert 9 in secs[:first_429]
    assert statuses[-1] == 418
    assert statuses.count(429) >= 3
    body = parse_rest_error(response.content).error
    assert body.name == 418
    assert "blocked" in body.message
    # a blocked IP is blocked for every group
    assert (await http.get(f"{sim.rest_url}/v1/market/all")).status_code == 418
    await asyncio.sleep(0.7)
    assert (await http.get(f"{sim.rest_url}/v1/market/all")).status_code == 200
    stats = (await http.get(f"{sim.admin_url}/stats")).json()
    assert stats["rest"]["rate_limited_429"] >= 3
    assert stats["rest"]["blocked_418"] >= 2


async def test_rest_groups_are_counted_separately(make_sim: Any, http: httpx.AsyncClient) -> None:
    sim = await make_sim(rest_rate_limit=3, abuse_after=0)
    for _ in range(20):
        response = await http.get(f"{sim.rest_url}/v1/ticker", params={"markets": "KRW-BTC"})
        if response.status_code == 429:
            break
    assert response.status_code == 429
    body = parse_rest_error(response.content)
    assert body.error.name == 429
    assert body.error.message == "Too many API requests."
    # right after the ticker group ran out, the candles group still has its own budget
    candles = await http.get(f"{sim.rest_url}/v1/candles/days", params={"market": "KRW-BTC"})
    assert candles.status_code == 200
    assert RemainingReq.parse(candles.headers["Remaining-Req"]).group == "candles"


async def test_origin_header_gets_one_request_per_ten_seconds(make_sim: Any, http: httpx.AsyncClient) -> None:
    sim = await make_sim(rest_rate_limit=10, origin_rate_limit=True)
    headers = {"Origin": "https://example.test"}
    first = await http.get(f"{sim.rest_url}/v1/market/all", headers=headers)
    second = await http.get(f"{sim.rest_url}/v1/market/all", headers=headers)
    assert (first.status_code, second.status_code) == (200, 429)


async def test_ws_connection_limit_429_then_418(make_sim: Any, kit: Any) -> None:
    sim = await make_sim(ws_connect_rate_limit=2, abuse_after=2, block_seconds=5)
    statuses = []
    opened = []
    for _ in range(8):
        try:
            opened.append(await websockets.connect(sim.ws_url))
            statuses.append(101)
        except InvalidStatus as exc:
            statuses.append(exc.response.status_code)
    for ws in opened:
        await ws.close()
    assert statuses[0] == 101
    assert 429 in statuses
    assert statuses[-1] == 418
    stats = await kit.admin(sim, "GET", "/stats")
    assert stats["connections"]["rejected_429"] >= 2
    assert stats["connections"]["rejected_418"] >= 1


async def test_ws_subscribe_limit_error_frame_then_closed_and_blocked(make_sim: Any, kit: Any) -> None:
    sim = await make_sim(
        ws_subscribe_per_sec=2, ws_subscribe_per_min=100, ws_connect_rate_limit=100, abuse_after=2
    )
    ws = await websockets.connect(sim.ws_url)
    request = json.dumps(
        [{"ticket": "t"}, {"type": "ticker", "codes": ["KRW-BTC"], "is_only_snapshot": True}]
    )
    errors = []

    async def keep_subscribing() -> None:
        for _ in range(10):
            await ws.send(request)
            for frame in await kit.collect(ws, 0.05):
                reply = json.loads(frame)
                if "error" in reply:
                    errors.append(reply["error"])

    with pytest.raises(ConnectionClosed):
        await keep_subscribing()
    assert ws.close_code == 1008
    assert errors
    assert errors[0]["name"] == "TOO_MANY_REQUESTS"
    with pytest.raises(InvalidStatus) as info:
        await websockets.connect(sim.ws_url)
    assert info.value.response.status_code == 418
    stats = await kit.admin(sim, "GET", "/stats")
    assert stats["subscriptions"]["rate_limited"] >= 3
    assert stats["subscriptions"]["blocked_418"] == 1


async def test_ws_subscribe_limit_per_minute(make_sim: Any, kit: Any) -> None:
    sim = await make_sim(ws_subscribe_per_sec=0, ws_subscribe_per_min=4, abuse_after=0)
    ws = await websockets.connect(sim.ws_url)
    request = json.dumps([{"ticket": "t"}, {"method": "LIST_SUBSCRIPTIONS"}])
    replies = []
    for _ in range(6):
        await ws.send(request)
        replies.append(await kit.recv_json(ws))
    await ws.close()
    assert [("error" in r) for r in replies] == [False] * 4 + [True] * 2
