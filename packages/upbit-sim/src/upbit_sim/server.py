"""`Simulator`: the aiohttp application (WebSocket, REST and admin on one port) and its background tasks."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from types import TracebackType
from typing import Any

from aiohttp import web

from upbit_sim import admin, rest
from upbit_sim.appkey import SIM
from upbit_sim.catalog import MarketInfo, build_catalog, new_market
from upbit_sim.config import SimConfig
from upbit_sim.engine import Engine, now_ms
from upbit_sim.faults import FaultError, Faults, parse_spec
from upbit_sim.hub import Hub
from upbit_sim.market import MarketState
from upbit_sim.ratelimit import Limiter
from upbit_sim.replay import Replayer
from upbit_sim.ws import STATUS_UP, websocket_handler

log = logging.getLogger("upbit_sim")
_HTML_5XX = "<html><head><title>{0}</title></head><body><center><h1>{0}</h1></center></body></html>"
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


class Simulator:
    """An Upbit-compatible exchange on one port: `async with Simulator(SimConfig(...)) as sim: sim.ws_url`."""

    def __init__(self, config: SimConfig | None = None, **overrides: Any) -> None:
        base = config or SimConfig()
        self.cfg = base.model_copy(update=overrides) if overrides else base
        cfg = self.cfg
        self.faults = Faults()
        self.hub = Hub(self.faults)
        self.hub.write_limit = cfg.write_buffer_limit
        self.rest_limiter = Limiter(
            cfg.rest_rate_limit,
            abuse_after=cfg.abuse_after,
            block_seconds=cfg.block_seconds,
            block_max_seconds=cfg.block_max_seconds,
        )
        self.ws_connect_limiter = Limiter(
            cfg.ws_connect_rate_limit,
            abuse_after=cfg.abuse_after,
            block_seconds=cfg.block_seconds,
            block_max_seconds=cfg.block_max_seconds,
        )
        self.rest_stats: Counter[str] = Counter()
        self.engine: Engine | None = None
        self.replay: Replayer | None = None
        self._schedule: list[tuple[float, str, str]] = []
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._started = 0.0
        self.host = cfg.host
        self.port = cfg.port

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        cfg = self.cfg
        for spec in cfg.faults:
            name, params = parse_spec(spec)
            self.hub.apply_fault(name, params)
        self._schedule = sorted(_schedule_item(s) for s in cfg.schedule)
        if cfg.replay is not None:
            if not cfg.replay.is_file():
                raise FileNotFoundError(f"replay file not found: {cfg.replay}")
            self.replay = Replayer(self, cfg.replay, cfg.replay_speed, cfg.replay_start)
        else:
            infos = build_catalog(cfg.markets, cfg.seed, cfg.codes)
            self.engine = Engine(cfg, self.hub, infos)
        app = web.Application(middlewares=[admin.admin_guard, rest.rest_middleware])
        app[SIM] = self
        app.add_routes([web.get("/websocket/v1", websocket_handler), *rest.routes(), *admin.routes()])
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, cfg.host, cfg.port, reuse_address=True)
        await site.start()
        addr = self._runner.addresses[0]
        self.host, self.port = str(addr[0]), int(addr[1])
        self._started = time.monotonic()
        main = self.engine.run() if self.engine is not None else self.replay.run()  # type: ignore[union-attr]
        self._tasks = [
            asyncio.create_task(main, name="upbit-sim-main"),
            asyncio.create_task(self._housekeeping(), name="upbit-sim-housekeeping"),
        ]
        if cfg.log_interval > 0:
            self._tasks.append(asyncio.create_task(self._log_loop(), name="upbit-sim-log"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:
                # a background task that died must not keep the server (and its port) from shutting down
                log.exception("%s had failed", task.get_name())
        self._tasks = []
        for conn in list(self.hub.conns.values()):
            self.hub.abort(conn)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------ addresses
    @property
    def _authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self._authority}/websocket/v1"

    @property
    def rest_url(self) -> str:
        return f"http://{self._authority}"

    @property
    def admin_url(self) -> str:
        return f"http://{self._authority}/admin"

    def banner(self) -> str:
        return f"upbit-sim ws={self.ws_url} rest={self.rest_url} admin={self.admin_url}"

    # ------------------------------------------------------------ markets
    def now_ms(self) -> int:
        """Wall-clock time, or in replay mode the time of the newest replayed frame."""
        return now_ms() if self.replay is None else self.replay.now

    def _markets(self) -> dict[str, MarketState]:
        if self.engine is not None:
            return self.engine.markets
        assert self.replay is not None
        return self.replay.markets

    def all_markets(self) -> list[MarketState]:
        return list(self._markets().values())

    def listed_markets(self) -> list[MarketState]:
        return [m for m in self._markets().values() if m.state != "DELISTED"]

    def market(self, code: str) -> MarketState | None:
        """A listed market (delisted and unknown codes are `None`: REST answers 404)."""
        m = self._markets().get(code)
        return m if m is not None and m.state != "DELISTED" else None

    def any_market(self, code: str) -> MarketState | None:
        return self._markets().get(code)

    def list_market(self, info: MarketInfo) -> MarketState:
        if self.engine is None:
            raise ValueError("markets cannot be listed in replay mode")
        m = self.engine.list_market(info)
        self.hub.counters["markets_listed"] += 1
        return m

    def delist_market(self, code: str) -> MarketState:
        if self.engine is None:
            raise RuntimeError("markets cannot be delisted in replay mode")
        m = self.engine.delist_market(code)
        self.hub.counters["markets_delisted"] += 1
        return m

    # ------------------------------------------------------------ REST errors
    def rest_error_response(self, status: int, block_seconds: float) -> web.Response:
        """Upbit's answer for a limit (429/418) or a server error; also refuses WebSocket upgrades."""
        if status == 429:
            return rest.json_response(rest.error_body(429, "Too many API requests."), 429)
        if status == 418:
            message = f"Too many API requests after 429: this IP is blocked for {block_seconds:.0f} seconds."
            return rest.json_response(rest.error_body(418, message), 418)
        if status in (502, 503, 504):
            text = _HTML_5XX.format(f"{status} {_REASONS[status]}")
            return web.Response(text=text, status=status, content_type="text/html")
        return rest.json_response(rest.error_body(status, _REASONS.get(status, "Error")), status)

    # ------------------------------------------------------------ background
    async def _housekeeping(self) -> None:
        cfg = self.cfg
        period = max(0.01, min(0.25, cfg.status_interval / 4, cfg.idle_timeout / 4))
        last_trim = 0.0
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            self.hub.housekeeping(now, cfg.idle_timeout, cfg.status_interval, STATUS_UP)
            self._run_schedule(now - self._started)
            if self.engine is not None and now - last_trim >= 1.0:
                last_trim = now
                ms = now_ms()
                if self.engine.paused:
                    self.engine.roll_days(ms)
                for m in self.engine.markets.values():
                    m.trim(cfg.max_trades_per_market, ms - 7 * 86_400_000)

    def _run_schedule(self, elapsed: float) -> None:
        while self._schedule and self._schedule[0][0] <= elapsed:
            _, action, code = self._schedule.pop(0)
            try:
                if action == "list":
                    self.list_market(new_market(code, self.cfg.seed, None, None, None))
                else:
                    self.delist_market(code)
            except (KeyError, ValueError, RuntimeError) as exc:
                log.warning("scheduled %s of %s failed: %s", action, code, exc)

    async def _log_loop(self) -> None:
        last_frames = sum(self.hub.sent.values())
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.cfg.log_interval)
            now = time.monotonic()
            frames = sum(self.hub.sent.values())
            log.info(
                "frames/s %.0f  connections %d  subscriptions %d  trades %d",
                (frames - last_frames) / (now - last),
                len(self.hub.conns),
                self.hub.subscription_count(),
                sum(m.trades_generated for m in self._markets().values()),
            )
            last_frames, last = frames, now

    # ------------------------------------------------------------ stats
    def stats(self) -> dict[str, Any]:
        hub = self.hub
        engine = self.engine
        markets = {}
        for m in self._markets().values():
            live = m.trades[-1:]
            markets[m.code] = {
                "state": m.state,
                "trades_generated": m.trades_generated - m.trades_at_start,
                "trades_in_memory": len(m.trades),
                "trades_evicted": m.trades_evicted,
                "last_sequential_id": live[0].seq if live else None,
                "last_trade_timestamp": live[0].ts if live else None,
            }
        errors = {
            k.removeprefix("request_errors_"): v
            for k, v in hub.counters.items()
            if k.startswith("request_errors_")
        }
        return {
            "uptime_s": round(time.monotonic() - self._started, 3),
            "mode": "replay" if self.replay is not None else "generate",
            "connections": {
                "current": len(hub.conns),
                "total": hub.counters["connections_total"],
                "rejected_429": hub.counters["connections_rejected_429"],
                "rejected_418": hub.counters["connections_rejected_418"],
                "idle_closes": hub.counters["idle_closes"],
                "slow_consumer_closes": hub.counters["slow_consumer_closes"],
            },
            "subscriptions": {
                "current": hub.subscription_count(),
                "requests": hub.counters["subscribe_requests"],
                "rate_limited": hub.counters["subscribe_rate_limited"],
                "blocked_418": hub.counters["subscribe_blocked_418"],
                "errors": errors,
            },
            "frames_sent": dict(hub.sent),
            "bytes_sent": hub.bytes_total,
            "faults": {
                name: self.faults.counters[name]
                for name in (
                    "drop",
                    "drop_every",
                    "stall",
                    "malformed",
                    "duplicate",
                    "out_of_order",
                    "rest_error",
                    "rest_slow",
                )
            },
            "faults_active": self.faults.describe(),
            "rest": {
                "requests": {
                    k.removeprefix("group_"): v for k, v in self.rest_stats.items() if k.startswith("group_")
                },
                "status": {
                    k.removeprefix("status_"): v
                    for k, v in self.rest_stats.items()
                    if k.startswith("status_")
                },
                "rate_limited_429": self.rest_stats["rate_limited_429"],
                "blocked_418": self.rest_stats["blocked_418"],
            },
            "generator": None
            if engine is None
            else {
                "rate": engine.rate,
                "paused": engine.paused,
                "events": engine.events,
                "frames": engine.frames,
                "errors": engine.errors,
            },
            "replay": None
            if self.replay is None
            else {
                "lines": len(self.replay.lines),
                "position": self.replay.position,
                "done": self.replay.done,
            },
            "markets": markets,
            "markets_listed": hub.counters["markets_listed"],
            "markets_delisted": hub.counters["markets_delisted"],
        }


def _schedule_item(spec: str) -> tuple[float, str, str]:
    try:
        at, action, code = spec.split(":", 2)
        seconds = float(at)
    except ValueError:
        raise FaultError(f"schedule entry {spec!r} is not SECONDS:list|delist:CODE") from None
    if action not in ("list", "delist") or seconds < 0:
        raise FaultError(f"schedule entry {spec!r} is not SECONDS:list|delist:CODE")
    return seconds, action, code
