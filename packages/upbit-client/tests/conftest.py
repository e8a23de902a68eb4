"""Fixtures: the recorded Upbit samples and a real upbit-sim per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from upbit_sim import SimConfig, Simulator


@pytest.fixture(scope="session")
def upbit_samples() -> Path:
    """``$UPBIT_SAMPLES_DIR``, else ``<repo root>/testdata/upbit-samples`` (the folder above with uv.lock)."""
    if env := os.environ.get("UPBIT_SAMPLES_DIR"):
        folder = Path(env)
    else:
        here = Path(__file__).resolve()
        root = next((p for p in here.parents if (p / "uv.lock").is_file()), None)
        if root is None:
            pytest.fail(f"no uv.lock above {here}: set UPBIT_SAMPLES_DIR to the Upbit samples folder")
        folder = root / "testdata" / "upbit-samples"
    if not (folder / "rest-ticker.json").is_file():
        pytest.fail(f"Upbit samples not found in {folder}: set UPBIT_SAMPLES_DIR")
    return folder


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A simulator with Upbit's REST limit (10/s per group) and 4 markets."""
    async with Simulator(
        SimConfig.relaxed(markets=4, rest_rate_limit=10, history_days=500, seed=7)
    ) as server:
        yield server
