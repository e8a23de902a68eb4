"""The aiohttp application key under which handlers find their `Simulator`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from upbit_sim.server import Simulator

SIM: web.AppKey[Simulator] = web.AppKey("upbit_sim.simulator")
