"""`cryptoflow-ingest`: run the Upbit WebSocket → Kafka producer until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cryptoflow_ingest import __version__
from cryptoflow_ingest.app import IngestApp
from cryptoflow_ingest.rest import UpbitSource
from cryptoflow_ingest.settings import IngestSettings
from cryptoflow_upbit_client import UpbitRestClient

log = logging.getLogger("cryptoflow_ingest")

ENV_PREFIX = "CRYPTOFLOW_INGEST_"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cryptoflow-ingest",
        description=(
            "Stream every Upbit market (trades, tickers, orderbooks) into Kafka, backfilling gaps from REST. "
            f"Every option also reads {ENV_PREFIX}<NAME> (e.g. {ENV_PREFIX}KAFKA_BOOTSTRAP); options win."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--ws-url")
    parser.add_argument("--rest-url")
    parser.add_argument("--kafka-bootstrap")
    parser.add_argument("--quote-currencies", help="comma list, e.g. KRW,BTC (default: all)")
    parser.add_argument("--markets", help="comma list of market codes (default: every listed market)")
    parser.add_argument("--orderbook-depth", type=int, help="1, 5, 15 or 30")
    parser.add_argument("--ws-format", help="DEFAULT or SIMPLE")
    parser.add_argument("--codes-per-connection", type=int)
    parser.add_argument("--metrics-port", type=int)
    parser.add_argument("--state-file", type=Path)
    parser.add_argument("--log-level", default="INFO")
    return parser


def load_settings(args: argparse.Namespace) -> IngestSettings:
    overrides: dict[str, Any] = {
        name: value for name, value in vars(args).items() if name != "log_level" and value is not None
    }
    return IngestSettings(**overrides)


def describe_settings_error(exc: ValidationError) -> str:
    """One line naming every bad value's environment variable (and option), `; ` between them."""
    lines = []
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0]) if error["loc"] else "?"
        lines.append(
            f"{ENV_PREFIX}{name.upper()} (--{name.replace('_', '-')}): {error['msg']} "
            f"(got {error.get('input')!r})"
        )
    return "; ".join(lines)


class UsageError(Exception):
    """The command line or environment asks for something that cannot be (exit code 2)."""


async def _refuse_unlisted(source: UpbitSource, markets: Sequence[str], rest_url: str) -> None:
    """`--markets` naming a market the exchange does not list is the user's mistake: say so at start. If
    the exchange cannot be asked yet, the app's own discovery keeps trying (it cannot run without it)."""
    try:
        listed = {market.market for market in await source.market_all()}
    except Exception as exc:
        log.warning("cannot check --markets yet (%s: %s)", type(exc).__name__, exc)
        return
    unknown = [market for market in markets if market not in listed]
    if unknown:
        raise UsageError(f"unknown market(s) {', '.join(unknown)}: not listed by {rest_url}")


async def run(settings: IngestSettings) -> int:
    async with UpbitRestClient(settings.rest_url) as client:
        source = UpbitSource(client)
        if settings.markets:
            await _refuse_unlisted(source, settings.markets, settings.rest_url)
        app = IngestApp(settings, source)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, app.request_stop)
        try:
            return await app.run()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = load_settings(args)
    except ValidationError as exc:
        print(f"cryptoflow-ingest: invalid settings: {describe_settings_error(exc)}", file=sys.stderr)
        return 2
    log.info("cryptoflow-ingest %s: %s -> %s", __version__, settings.ws_url, settings.kafka_bootstrap)
    try:
        return asyncio.run(run(settings))
    except UsageError as exc:
        print(f"cryptoflow-ingest: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # e.g. Kafka unreachable at start: one clear line and a failing exit code
        log.error("cryptoflow-ingest failed: %s: %s", type(exc).__name__, exc)
        log.debug("traceback", exc_info=True)
        return 1
