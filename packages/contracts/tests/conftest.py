"""Fixtures: the shared Upbit sample files, located via `UPBIT_SAMPLES_DIR` or in testdata/."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptoflow_contracts.decimals import loads_exact
from cryptoflow_contracts.ws import WsFrame, parse_ws_frame


@pytest.fixture(scope="session")
def samples_dir(upbit_samples: Path) -> Path:
    return upbit_samples


@pytest.fixture(scope="session")
def ws_lines(samples_dir: Path) -> dict[str, list[bytes]]:
    """Non-blank lines of every `ws-*.jsonl`, by file name."""
    return {
        path.name: [line for line in path.read_bytes().splitlines() if line.strip()]
        for path in sorted(samples_dir.glob("ws-*.jsonl"))
    }


@pytest.fixture(scope="session")
def ws_frames(ws_lines: dict[str, list[bytes]]) -> dict[str, list[WsFrame]]:
    return {name: [parse_ws_frame(line) for line in lines] for name, lines in ws_lines.items()}


@pytest.fixture(scope="session")
def rest_json(samples_dir: Path) -> dict[str, list[dict[str, object]]]:
    """Every `rest-*.json` body parsed exactly, by file name."""
    return {path.name: loads_exact(path.read_bytes()) for path in sorted(samples_dir.glob("rest-*.json"))}


@pytest.fixture(scope="session")
def rest_bytes(samples_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(samples_dir.glob("rest-*.json"))}
