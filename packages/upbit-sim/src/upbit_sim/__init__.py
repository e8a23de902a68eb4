"""An Upbit-compatible exchange simulator (WebSocket + REST) for tests, demos and benchmarks."""

from __future__ import annotations

from importlib.metadata import version

__version__ = version("upbit-sim")

from upbit_sim.config import SimConfig
from upbit_sim.server import Simulator

__all__ = ["SimConfig", "Simulator", "__version__"]
