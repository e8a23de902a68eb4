"""`cryptoflow-stream-sink`: run one member of the Kafka → Redis consumer group until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from aiokafka.errors import KafkaError
from pydantic import ValidationError

from cryptoflow_stream_sink import __version__
from cryptoflow_stream_sink.settings import ENV_PREFIX, SinkSettings
from cryptoflow_stream_sink.sink import StreamSink

log = logging.getLogger("cryptoflow_stream_sink")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cryptoflow-stream-sink",
        description=(
            "Consume upbit.trade, upbit.ticker and upbit.orderbook as one member of a consumer group and "
            "write them to Redis, each trade exactly once. Every option also reads "
            f"{ENV_PREFIX}<NAME> (e.g. {ENV_PREFIX}KAFKA_BOOTSTRAP); options win."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--kafka-bootstrap", help="host:port[,host:port…]")
    parser.add_argument("--group-id")
    parser.add_argument("--topic-prefix", help="prepended to every topic name, the DLQ's included")
    parser.add_argument("--redis-url", help="redis://host:port/db")
    parser.add_argument("--stream-maxlen", type=int, help="entries kept per trades stream (MAXLEN ~)")
    parser.add_argument(
        "--dedup-max-ids", type=int, help="trade ids remembered per market (>= stream maxlen)"
    )
    parser.add_argument("--dedup-horizon-ms", type=int, help="how far behind the newest trade ids are kept")
    parser.add_argument("--batch-size", type=int, help="records per batch (one Redis pipeline, one commit)")
    parser.add_argument("--poll-timeout-ms", type=int)
    parser.add_argument("--session-timeout-ms", type=int)
    parser.add_argument("--shutdown-grace-s", type=float)
    parser.add_argument("--metrics-port", type=int, help="Prometheus endpoint port (0 = any free port)")
    parser.add_argument("--metrics-host")
    parser.add_argument("--no-metrics", action="store_true", help="serve no metrics endpoint")
    parser.add_argument("--log-interval-s", type=float, help="seconds between throughput lines")
    parser.add_argument("--log-level")
    return parser


def parse_settings(argv: Sequence[str] | None = None) -> SinkSettings:
    """The settings: environment, then the arguments on top. Raises pydantic's `ValidationError`."""
    args = _parser().parse_args(argv)
    overrides: dict[str, Any] = {
        name: value for name, value in vars(args).items() if name != "no_metrics" and value is not None
    }
    if args.no_metrics:
        overrides["metrics_port"] = None
    return SinkSettings(**overrides)


def describe_settings_error(exc: ValidationError) -> str:
    """One line naming every bad value's environment variable (and option), `; ` between them."""
    lines = []
    for error in exc.errors(include_url=False):
        if error["loc"]:
            name = str(error["loc"][0])
            where = f"{ENV_PREFIX}{name.upper()} (--{name.replace('_', '-')}): "
            got = f" (got {error.get('input')!r})"
        else:
            where, got = "", ""
        lines.append(f"{where}{error['msg']}{got}")
    return "; ".join(lines)


async def run(settings: SinkSettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await StreamSink(settings).run(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = parse_settings(argv)
    except ValidationError as exc:
        print(f"cryptoflow-stream-sink: invalid settings: {describe_settings_error(exc)}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    log.info(
        "cryptoflow-stream-sink %s: %s -> %s (group %s)",
        __version__,
        settings.kafka_bootstrap,
        settings.redis_url,
        settings.group_id,
    )
    try:
        return asyncio.run(run(settings))
    except (KafkaError, OSError) as exc:
        # Kafka unreachable at start, or the metrics port taken: say so in one line, let a supervisor retry.
        log.error("cannot start: %s: %s", type(exc).__name__, exc)
        return 1
