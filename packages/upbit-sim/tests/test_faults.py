"""Faults on command: each is visible to a client and counted in /admin/stats."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from cryptoflow_localstack.waits import wait_until
from upbit_sim.admin import _loopback
from upbit_sim.faults import FaultError, parse_spec

ALL = [{"type": t, "codes": ["KRW-BTC", "KRW-ETH", "KRW-XRP"]} for t in ("trade", "ticker", "orderbook")]


async def test_drop_now_cuts_connections(sim: Any, kit: Any) -> None:
    ws = await kit.subscribe(sim, *ALL)
    await kit.collect(ws, 0.2)
    result = await kit.admin(sim, "POST", "/faults/drop")
    assert len(result["dropped"]) == 1
    with pytest.raises(ConnectionClosed):
        await kit.collect(ws, 2)
    assert ws.close_code == 1006  # no close frame: a network failure
    assert (await kit.admin(sim, "GET", "/stats"))["faults"]["drop"] == 1


async def test_drop_every_n_frames(sim: Any, kit: Any) -> None:
    await kit.admin(sim, "POST", "/faults/drop_every", {"n": 25})
    ws = await kit.subscribe(sim, *ALL)
    frames: list[bytes] = []

    async def read_all() -> None:
        while True:
            frames.append(await kit.recv(ws))

    with pytest.raises(ConnectionClosed):
        await read_all()
    assert len(frames) == 25
    await kit.admin(sim, "POST", "/faults/drop_every", {"n": 0})
    ws = await kit.subscribe(sim, *ALL)
    assert len(await kit.collect(ws, 0.6)) > 25
    await ws.close()
    assert (await kit.admin(sim, "GET", "/stats"))["faults"]["drop_every"] == 1


async def test_drop_every_cuts_a_connection_already_past_n_frames(sim: Any, kit: Any) -> None:
    """Set while a connection has already had more than n frames: it is cut at its next write. (It used to
    stay open while every frame meant for it was thrown away: a loss no client can see.)"""
    ws = await kit.subscribe(sim, *ALL)
    before = await kit.collect(ws, 0.6)
    assert len(before) > 5
    await kit.admin(sim, "POST", "/faults/drop_every", {"n": 5})
    with pytest.raises(ConnectionClosed):
        await kit.collect(ws, 3)
    await kit.admin(sim, "POST", "/faults/drop_every", {"n": 0})
    assert (await kit.admin(sim, "GET", "/stats"))["faults"]["drop_every"] == 1


async def test_stall_stops_sending_without_closing(sim: Any, kit: Any) -> None:
    ws = await kit.subscribe(sim, *ALL)
    await kit.collect(ws, 0.2)
    # 3 s: the checks below take under 1 s, with room for a loaded machine.
    await kit.admin(sim, "POST", "/faults/stall", {"seconds": 3})
    await kit.collect(ws, 0.1)  # frames already in flight
    assert await kit.collect(ws, 0.5) == []
    with pytest.raises(TimeoutError):  # pings are not answered either
        await asyncio.wait_for(await ws.ping(), 0.2)
    assert ws.close_code is None
    for _ in range(6):  # and it comes back
        await kit.recv(ws, 10)
    await ws.close()
    assert (await kit.admin(sim, "GET", "/stats"))["faults"]["stall"] == 1


async def test_stall_one_connection_by_id(sim: Any, kit: Any) -> None:
    a = await kit.subscribe(sim, *ALL)
    b = await kit.subscribe(sim, *ALL)
    await kit.collect(a, 0.1)
    conns = await kit.admin(sim, "GET", "/connections")
    await kit.admin(sim, "POST", "/faults/stall", {"conn_id": conns[0]["id"]})
    await kit.collect(a, 0.1)
    await kit.collect(b, 0.1)
    assert await kit.collect(a, 0.4) == []
    assert len(await kit.collect(b, 0.4)) > 3
    await kit.admin(sim, "POST", "/faults/unstall")
    assert len(await kit.collect(a, 0.4)) > 3
    await a.close()
    await b.close()


async def test_malformed_frames_are_injected(sim: Any, kit: Any) -> None:
    await kit.admin(sim, "POST", "/faults/malformed", {"count": 4})
    ws = await kit.subscribe(sim, *ALL)
    frames = await kit.collect(ws, 0.6)
    await ws.close()
    bad = 0
    for frame in frames:
        try:
            json.loads(frame.decode())
        except (UnicodeDecodeError, ValueError):
            bad += 1
    assert bad == 4
    assert len(frames) > 10
    assert (await kit.admin(sim, "GET", "/stats"))["faults"]["malformed"] == 4


async def test_duplicate_frames_are_injected(sim: Any, kit: Any) -> None:
    await kit.admin(sim, "POST", "/faults/duplicate", {"count": 3})
    ws = await kit.subscribe(sim, *ALL)
    frames = await kit.collect(ws, 0.6)
    await ws.close()
    assert sum(1 for a, b in itertools.pairwise(frames) if a == b) == 3
    assert (await kit.admin(sim, "GET", "/stats"))["faults"]["duplicate"] == 3


async def test_out_of_order_trades_are_injected(make_sim: Any, kit: Any) -> None:
    sim = await make_sim(out_of_order_rate=0.0, rate=300)
    await kit.admin(sim, "POST", "/faults/out_of_order", {"count": 3})
    ws = await kit.subscribe(
        sim, {"type": "trade", "codes": ["KRW-BTC", "KRW-ETH", "KRW-XRP"], "is_only_realtime": True}
    )
    trades = [json.loads(f) for f in await kit.collect(ws, 1.5)]
    await ws.close()
    ids = [t["sequential_id"] for t in trades]
    assert sum(1 for a, b in itertools.pairwise(ids) if a > b) == 3  # ids rise in generation order
    assert len(set(ids)) == len(ids)
    assert (await kit.admin(sim, "GET", "/stats"))["faults"]["out_of_order"] == 3


async def test_rest_errors_for_n_requests_then_normal(sim: Any, kit: Any, http: httpx.AsyncClient) -> None:
    await kit.admin(sim, "POST", "/faults/rest_error", {"status": 503, "count": 2})
    url = f"{sim.rest_url}/v1/market/all"
    responses = [await http.get(url) for _ in range(3)]
    assert [r.status_code for r in responses] == [503, 503, 200]
    assert responses[0].headers["Content-Type"].startswith("text/html")
    assert "Remaining-Req" in responses[0].headers
    await kit.admin(sim, "POST", "/faults/rest_error", {"status": 500, "count": 1})
    assert (await http.get(url)).json() == {"error": {"name": 500, "message": "Internal Server Error"}}
    assert (await kit.admin(sim, "GET", "/stats"))["faults"]["rest_error"] == 3


async def test_rest_errors_for_a_while(sim: Any, kit: Any, http: httpx.AsyncClient) -> None:
    await kit.admin(sim, "POST", "/faults/rest_error", {"status": 429, "seconds": 1.0})
    url = f"{sim.rest_url}/v1/ticker?markets=KRW-BTC"
    set_at = time.monotonic()
    assert (await http.get(url)).status_code == 429

    async def answered() -> bool:
        return (await http.get(url)).status_code == 200

    await wait_until(answered, within=10, what="the 429s to end")
    assert time.monotonic() - set_at >= 1.0 * 0.9


async def test_slow_rest_responses(sim: Any, kit: Any, http: httpx.AsyncClient) -> None:
    await kit.admin(sim, "POST", "/faults/rest_slow", {"delay_ms": 300, "count": 1})
    url = f"{sim.rest_url}/v1/market/all"
    start = time.monotonic()
    assert (await http.get(url)).status_code == 200
    assert time.monotonic() - start >= 0.3
    await http.get(url)  # `count: 1`: only the first was slowed (the counter below)
    assert (await kit.admin(sim, "GET", "/stats"))["faults"]["rest_slow"] == 1


async def test_clear_and_list_faults(sim: Any, kit: Any) -> None:
    await kit.admin(sim, "POST", "/faults/malformed", {"rate": 0.5})
    await kit.admin(sim, "POST", "/faults/rest_slow", {"delay_ms": 10, "seconds": 30})
    active = (await kit.admin(sim, "GET", "/faults"))["active"]
    assert active["malformed"]["rate"] == 0.5
    assert active["rest_slow"]["delay_ms"] == 10
    await kit.admin(sim, "POST", "/faults/clear")
    assert (await kit.admin(sim, "GET", "/faults"))["active"] == {"drop_every": 0}


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("malformed", {}),
        ("malformed", {"count": 1, "rate": 0.1}),
        ("duplicate", {"rate": 2}),
        ("rest_error", {"status": 200, "count": 1}),
        ("rest_error", {"status": 503}),
        ("rest_slow", {"count": 1}),
        ("drop_every", {}),
        ("drop", {"conn_id": 999}),
    ],
)
async def test_bad_fault_commands_are_refused(
    sim: Any, http: httpx.AsyncClient, name: str, body: dict[str, Any]
) -> None:
    response = await http.post(f"{sim.admin_url}/faults/{name}", json=body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert (await http.post(f"{sim.admin_url}/faults/explode")).status_code == 404


async def test_faults_from_the_command_line_form(make_sim: Any, http: httpx.AsyncClient) -> None:
    assert parse_spec("rest_error:status=503,count=2") == ("rest_error", {"status": 503, "count": 2})
    assert parse_spec("malformed:rate=0.5") == ("malformed", {"rate": 0.5})
    with pytest.raises(FaultError):
        parse_spec("malformed:rate")
    sim = await make_sim(faults=["rest_error:status=502,count=1"])
    assert (await http.get(f"{sim.rest_url}/v1/market/all")).status_code == 502
    assert (await http.get(f"{sim.rest_url}/v1/market/all")).status_code == 200


def test_admin_is_loopback_only() -> None:
    assert _loopback("127.0.0.1")
    assert _loopback("::1")
    assert _loopback("127.8.9.10")
    assert not _loopback("10.0.0.5")
    assert not _loopback("192.168.1.2")
    assert not _loopback(None)
    assert not _loopback("x")
