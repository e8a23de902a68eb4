"""`upbit-sim serve`: run the simulator; the first stdout line gives its URLs."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from upbit_sim import __version__
from upbit_sim.config import SimConfig
from upbit_sim.faults import FaultError
from upbit_sim.server import Simulator

EPILOG = """\
The first line on stdout is
  upbit-sim ws=ws://HOST:PORT/websocket/v1 rest=http://HOST:PORT admin=http://HOST:PORT/admin
Logs go to stderr. SIGINT/SIGTERM stop the server cleanly.

Every option can also come from the environment: UPBIT_SIM_<OPTION> (e.g. UPBIT_SIM_RATE=1000,
UPBIT_SIM_CODES='["KRW-BTC","KRW-ETH"]', UPBIT_SIM_FAULTS='["malformed:rate=0.01"]'); options win.

Admin API (loopback only; JSON bodies or query parameters):
  GET  /admin/stats                      counters: frames per type, faults, connections, REST, markets
  GET  /admin/trades?market=M[&order=asc|desc][&history=true][&after=ID][&limit=N]
                                         every trade generated for a market
  GET  /admin/connections | /admin/markets | /admin/faults
  POST /admin/faults/NAME                start a fault (same NAME and keys as --fault):
       drop {conn_id?}                   cut connections now (no close frame)
       drop_every {n}                    cut each connection after n frames (0: off)
       stall {conn_id?, seconds?}        stop sending (and answering pings) without closing
       unstall {conn_id?}
       malformed | duplicate | out_of_order {count | rate, seconds?}   extra/duplicated/swapped frames
       rest_error {status, count | seconds}   REST answers 429/418/5xx
       rest_slow {delay_ms, count | seconds}  REST answers late
       clear                             end every fault
  POST /admin/markets {market, korean_name?, english_name?, price?}   list a market now
  POST /admin/markets/CODE/delist        delist a market now
  POST /admin/markets/CODE/price {price | change_percent}   move a market's price now
  POST /admin/generator/pause | resume | step {events} | rate {rate}
  POST /admin/replay/restart             replay the file again from the top
  POST /admin/limits/reset               forget rate-limit windows and 418 blocks

Examples:
  upbit-sim serve --port 0 --markets 20 --rate 200 --seed 7
  upbit-sim serve --no-limits --rate 0            (as fast as the clients read: benchmarks)
  upbit-sim serve --fault malformed:rate=0.001 --fault rest_error:status=503,count=3
  upbit-sim serve --replay ws-trade.jsonl --replay-speed realtime
  upbit-sim serve --schedule 30:delist:KRW-XRP --schedule 60:list:KRW-NEWCOIN
"""
_SINGULAR = {"faults": "fault", "schedule": "schedule"}
_LIMITS = ("rest_rate_limit", "ws_connect_rate_limit", "ws_subscribe_per_sec", "ws_subscribe_per_min")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="upbit-sim",
        description="An Upbit-compatible exchange simulator (WebSocket + REST) for tests and benchmarks.",
    )
    parser.add_argument("--version", action="version", version=f"upbit-sim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve", help="run the simulator", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name, field in SimConfig.model_fields.items():
        default = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
        help_text = f"{field.description or name} (default: {default!r}; env UPBIT_SIM_{name.upper()})"
        annotation = field.annotation
        if annotation is bool:
            serve.add_argument(
                f"--{name.replace('_', '-')}",
                dest=name,
                action=argparse.BooleanOptionalAction,
                help=help_text,
            )
        elif name in _SINGULAR:
            serve.add_argument(
                f"--{_SINGULAR[name]}", dest=name, action="append", metavar="SPEC", help=help_text
            )
        elif name == "codes":
            serve.add_argument("--codes", dest=name, metavar="CODE,CODE", help=help_text)
        else:
            choices = typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else None
            serve.add_argument(
                f"--{name.replace('_', '-')}",
                dest=name,
                choices=choices,
                metavar="FILE" if name == "replay" else None,
                help=help_text,
            )
    serve.add_argument(
        "--no-limits", action="store_true", help="turn every rate limit off (tests, benchmarks)"
    )
    return parser


def config_from_args(args: argparse.Namespace) -> SimConfig:
    values: dict[str, Any] = {}
    for name in SimConfig.model_fields:
        value = getattr(args, name, None)
        if value is None:
            continue
        if name == "codes":
            value = [c.strip() for c in value.split(",") if c.strip()]
        elif name == "replay":
            value = Path(value)
        values[name] = value
    if args.no_limits:  # limits given explicitly still win
        for name in _LIMITS:
            values.setdefault(name, 0)
        values.setdefault("origin_rate_limit", False)
    return SimConfig(**values)


async def serve(cfg: SimConfig) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sim = Simulator(cfg)
    try:
        await sim.start()  # a start that fails half way (the port is taken) still releases what it took
        print(sim.banner(), flush=True)
        logging.getLogger("upbit_sim").info(
            "serving %d markets, rate %s frames/s%s",
            len(sim.all_markets()),
            cfg.rate or "max",
            f", replaying {cfg.replay}" if cfg.replay else "",
        )
        await stop.wait()
    finally:
        await sim.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s upbit-sim %(message)s")
    try:
        cfg = config_from_args(args)
    except ValidationError as exc:  # every bad value, on one line
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            where = f"--{field.replace('_', '-')} / UPBIT_SIM_{field.upper()}"
            problems.append(f"invalid setting {field} ({where}): {err['msg']}")
        print(f"upbit-sim: {'; '.join(problems)}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(serve(cfg))
    except (FaultError, FileNotFoundError, ValueError) as exc:
        print(f"upbit-sim: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the port is taken: the machine's state, not the command line
        print(f"upbit-sim: cannot serve on {cfg.host}:{cfg.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
