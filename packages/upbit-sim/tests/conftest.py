from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from upbit_sim import SimConfig, Simulator

pytest_plugins = ["upbit_sim.testing"]

MakeSim = Callable[..., Awaitable[Simulator]]


@pytest.fixture(scope="session")
def samples_dir(upbit_samples: Path) -> Path:
    return upbit_samples


@pytest.fixture
async def make_sim() -> AsyncIterator[MakeSim]:
    """Start in-process simulators (limits off unless overridden); all are stopped at the end."""
    sims: list[Simulator] = []

    async def make(**overrides: Any) -> Simulator:
        overrides.setdefault("markets", 4)
        overrides.setdefault("rate", 100)
        sim = Simulator(SimConfig.relaxed(**overrides))
        await sim.start()
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        await sim.stop()


@pytest.fixture
async def sim(make_sim: MakeSim) -> Simulator:
    return await make_sim()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


class Kit:
    """Client helpers for the tests (a fixture: conftest is not importable with --import-mode=importlib)."""

    @staticmethod
    async def subscribe(sim: Simulator, *items: dict[str, Any], fmt: str | None = None) -> ClientConnection:
        ws = await websockets.connect(sim.ws_url, compression=None, max_size=None, max_queue=None)
        request: list[dict[str, Any]] = [{"ticket": "test"}, *items]
        if fmt:
            request.append({"format": fmt})
        await ws.send(json.dumps(request))
        return ws

    @staticmethod
    async def recv(ws: ClientConnection, wait: float = 5.0) -> bytes:
        frame = await asyncio.wait_for(ws.recv(), wait)
        assert isinstance(frame, bytes), f"expected a binary frame, got text {frame!r}"
        return frame

    @staticmethod
    async def recv_json(ws: ClientConnection, wait: float = 5.0) -> Any:
        return json.loads(await Kit.recv(ws, wait))

    @staticmethod
    async def collect(ws: ClientConnection, seconds: float) -> list[bytes]:
        """Every frame that arrives within `seconds`."""
        out: list[bytes] = []
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            try:
                out.append(await Kit.recv(ws, left))
            except TimeoutError:
                break
        return out

    @staticmethod
    async def admin(sim: Simulator, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.request(method, f"{sim.admin_url}{path}", json=body)
            response.raise_for_status()
            return response.json()


@pytest.fixture
def kit() -> Kit:
    return Kit()
