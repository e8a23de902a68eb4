"""`cryptoflow-archive`: `run` one member of the Kafka → PostgreSQL consumer group until SIGINT/SIGTERM;
`export` one market-day of archived trades to Parquet or CSV."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError
from pydantic import ValidationError

from cryptoflow_archive import __version__
from cryptoflow_archive.settings import ENV_PREFIX, ArchiveSettings

log = logging.getLogger("cryptoflow_archive")

_RUN_OPTIONS = (
    ("--kafka-bootstrap", str, "host:port[,host:port…]"),
    ("--group-id", str, None),
    ("--topic-prefix", str, "prepended to every topic name, the DLQ's included"),
    ("--dsn", str, "postgresql://user@host:port/database"),
    ("--batch-size", int, "records per batch (one transaction, one commit)"),
    ("--poll-timeout-ms", int, None),
    ("--session-timeout-ms", int, None),
    ("--shutdown-grace-s", float, None),
    ("--partitions-ahead-days", int, "daily partitions created ahead of today"),
    ("--retention-days", str, "drop partitions older than this many days (off = keep forever)"),
    ("--maintenance-interval-s", float, "seconds between closing ended minute candles"),
    ("--metrics-port", int, "Prometheus endpoint port (0 = any free port)"),
    ("--metrics-host", str, None),
    ("--log-interval-s", float, "seconds between throughput lines"),
    ("--log-level", str, None),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cryptoflow-archive",
        description="The permanent record: every trade from Kafka archived once in PostgreSQL.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="archive upbit.trade as one member of a consumer group",
        description=(
            "Consume upbit.trade as one member of a consumer group and archive every trade once in "
            f"lake.trades. Every option also reads {ENV_PREFIX}<NAME> (e.g. {ENV_PREFIX}DSN); options win."
        ),
    )
    for flag, kind, text in _RUN_OPTIONS:
        run.add_argument(flag, type=kind, help=text)
    run.add_argument("--no-metrics", action="store_true", help="serve no metrics endpoint")
    export = commands.add_parser("export", help="write one market-day of archived trades to a file")
    export.add_argument("--market", required=True, help="e.g. KRW-BTC")
    export.add_argument("--date", required=True, help="UTC day, YYYY-MM-DD")
    export.add_argument("--format", default="parquet", help="parquet (default) or csv")
    export.add_argument("--output", type=Path, help="default: <market>_<date>.<format>")
    export.add_argument("--dsn", help=f"default: {ENV_PREFIX}DSN")
    export.add_argument("--no-progress", action="store_true")
    return parser


def settings_from(args: argparse.Namespace) -> ArchiveSettings:
    """The settings: environment, then the arguments on top. Raises pydantic's `ValidationError`."""
    skip = {"command", "no_metrics", "market", "date", "format", "output", "no_progress"}
    overrides: dict[str, Any] = {
        name: value for name, value in vars(args).items() if name not in skip and value is not None
    }
    if getattr(args, "no_metrics", False):
        overrides["metrics_port"] = None
    return ArchiveSettings(**overrides)


def parse_settings(argv: Sequence[str]) -> ArchiveSettings:
    return settings_from(_parser().parse_args(argv))


def describe_settings_error(exc: ValidationError) -> str:
    """One line per bad value, naming the environment variable (and option) that carries it."""
    lines = []
    for error in exc.errors(include_url=False):
        if error["loc"]:
            name = str(error["loc"][0])
            where = f"{ENV_PREFIX}{name.upper()} (--{name.replace('_', '-')}): "
            got = f" (got {error.get('input')!r})"
        else:
            where, got = "", ""
        lines.append(f"{where}{error['msg']}{got}")
    return "\n".join(lines)


async def run(settings: ArchiveSettings) -> int:
    from cryptoflow_archive.archiver import Archiver  # noqa: PLC0415

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await Archiver(settings).run(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 0


def _export(args: argparse.Namespace, settings: ArchiveSettings) -> int:
    import psycopg  # noqa: PLC0415

    from cryptoflow_archive.export import ExportError, export_day  # noqa: PLC0415

    try:
        day = dt.date.fromisoformat(args.date)
    except ValueError:
        print(f"cryptoflow-archive: --date must be YYYY-MM-DD, got {args.date!r}", file=sys.stderr)
        return 2
    market = args.market.strip().upper()
    out = args.output or Path(f"{market}_{day.isoformat()}.{args.format}")
    try:
        count = export_day(
            settings.dsn, market=market, day=day, fmt=args.format, out=out, progress=not args.no_progress
        )
    except ExportError as exc:
        print(f"cryptoflow-archive: {exc}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"cryptoflow-archive: cannot reach the database: {first}", file=sys.stderr)
        return 2
    print(f"{out}: {count} trades")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = settings_from(args)
    except ValidationError as exc:
        print(f"cryptoflow-archive: invalid settings:\n{describe_settings_error(exc)}", file=sys.stderr)
        return 2
    if args.command == "export":
        return _export(args, settings)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    log.info(
        "cryptoflow-archive %s: %s -> %s (group %s)",
        __version__,
        settings.kafka_bootstrap,
        _redacted(settings.dsn),
        settings.group_id,
    )
    from cryptoflow_archive.store import SchemaMissingError  # noqa: PLC0415

    try:
        return asyncio.run(run(settings))
    except SchemaMissingError as exc:
        log.error("cannot start: %s", exc)
        return 2
    except (KafkaError, OSError) as exc:
        # Kafka unreachable at start, or the metrics port taken: say so in one line, let a supervisor retry.
        log.error("cannot start: %s: %s", type(exc).__name__, exc)
        return 1


def _redacted(dsn: str) -> str:
    """The DSN without its password, for logs."""
    from psycopg.conninfo import conninfo_to_dict  # noqa: PLC0415

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # a malformed DSN fails at connect, with psycopg's message
        return "<dsn>"
    parts.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in parts.items())
