"""Test support for other packages: run the simulator as a real process and read its URLs.

    pytest_plugins = ["upbit_sim.testing"]

    def test_something(upbit_sim: SimProcess) -> None:
        ...  # upbit_sim.ws_url, .rest_url, .admin_url, .admin("GET", "/stats")

`upbit_sim_factory(*args)` starts more (each with its own CLI arguments); all are stopped (SIGTERM)
at the end of the test. In-process use needs no plugin: `async with Simulator(SimConfig.relaxed()) as sim`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

RELAXED_ARGS = ("--no-limits", "--log-interval", "0", "--history-days", "60", "--history-minutes", "5")


@dataclass
class SimProcess:
    """A running `upbit-sim serve` subprocess."""

    process: subprocess.Popen[str]
    ws_url: str
    rest_url: str
    admin_url: str

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the admin API (`path` below /admin, e.g. "/stats" or "/faults/drop")."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.admin_url}{path}", data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own http:// URL
            return json.loads(response.read())

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then wait; returns the exit code (0 for a clean shutdown)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


def parse_banner(line: str) -> dict[str, str]:
    """`upbit-sim ws=... rest=... admin=...` -> {"ws": ..., "rest": ..., "admin": ...}."""
    parts = line.split()
    if not parts or parts[0] != "upbit-sim":
        raise ValueError(f"not an upbit-sim banner: {line!r}")
    return dict(p.split("=", 1) for p in parts[1:])


def start_sim_process(*args: str, env: dict[str, str] | None = None, timeout: float = 30.0) -> SimProcess:
    """Run `upbit-sim serve --host 127.0.0.1 --port 0 ARGS` and wait for its first stdout line."""
    cmd = [sys.executable, "-m", "upbit_sim", "serve", "--host", "127.0.0.1", "--port", "0", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})  # noqa: S603
    assert proc.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0]:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"upbit-sim did not print its URLs within {timeout} s (exit code {proc.poll()})")
    urls = parse_banner(lines[0])
    return SimProcess(proc, urls["ws"], urls["rest"], urls["admin"])


@pytest.fixture
def upbit_sim_factory() -> Iterator[Callable[..., SimProcess]]:
    """Start simulator processes with extra CLI arguments; limits are off unless arguments turn them on."""
    started: list[SimProcess] = []

    def factory(*args: str, relaxed: bool = True, env: dict[str, str] | None = None) -> SimProcess:
        sim = start_sim_process(*((*RELAXED_ARGS, *args) if relaxed else args), env=env)
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()


@pytest.fixture
def upbit_sim(upbit_sim_factory: Callable[..., SimProcess]) -> SimProcess:
    """One simulator process: 4 markets, 100 frames/s, limits off."""
    return upbit_sim_factory("--markets", "4", "--rate", "100")
