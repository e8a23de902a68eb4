"""``cryptoflow-batch``: schema migrations, one-off EL/transform runs, backfills and the local Airflow.

    cryptoflow-batch db upgrade [--dsn DSN] [--create]
    cryptoflow-batch el ticker [--end 2026-03-01T00:10Z]          # one 10-minute interval, then its marts
    cryptoflow-batch el candles --unit days [--end 2026-03-02]
    cryptoflow-batch transform [NAME ...]                        # default: all, in dependency order
    cryptoflow-batch backfill --markets KRW-BTC,KRW-ETH --from 2025-01-01 --to 2026-01-01 --unit days
    cryptoflow-batch train [--interval 1d|1m]                    # train, validate, register, score
    cryptoflow-batch score [--interval 1d|1m]                    # the current model's predictions
    cryptoflow-batch airflow env [--format sh|json]              # the local Airflow's environment
    cryptoflow-batch airflow run                                 # api-server, scheduler, dag-processor

Settings come from ``CRYPTOFLOW_BATCH_*`` environment variables; ``--dsn`` and ``--rest-url`` override them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import sys
from collections.abc import Sequence

import psycopg

from cryptoflow_batch import __version__
from cryptoflow_batch.backfill import BackfillRequest, BackfillResult, MarketProgress, backfill, parse_time
from cryptoflow_batch.settings import BatchSettings, SettingsError, load_settings
from cryptoflow_upbit_client import CandleUnit, UpbitError, UpbitHTTPError

log = logging.getLogger("cryptoflow_batch")
UTC = dt.UTC
TRANSFORM_ORDER = ("markets", "market_stats_24h", "candles_1d", "indicators", "indicators_1m")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cryptoflow-batch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--dsn", help="CryptoFlow database URL (default: $CRYPTOFLOW_BATCH_DSN)")
    parser.add_argument("--rest-url", help="Upbit REST base URL (default: $CRYPTOFLOW_BATCH_UPBIT_REST_URL)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="schema migrations of the lake and mart schemas")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply the migrations the database lacks (idempotent)")
    upgrade.add_argument("--create", action="store_true", help="create the database first when it is missing")

    el = commands.add_parser("el", help="run one extract-load for one interval, then its transforms")
    el.add_argument("what", choices=["ticker", "candles"])
    el.add_argument("--end", help="interval end (default: the last closed interval)")
    el.add_argument("--unit", default="days", help="candles: days or minutes/1 (default: days)")
    el.add_argument("--no-transform", action="store_true", help="load the lake only")

    transform = commands.add_parser("transform", help="fold new lake rows into the marts")
    transform.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(TRANSFORM_ORDER)}")

    bf = commands.add_parser("backfill", help="page candles backwards into the lake (resumable)")
    bf.add_argument("--markets", required=True, help="comma-separated market codes")
    bf.add_argument("--from", dest="start", required=True, help="oldest bucket start (date or ISO 8601, UTC)")
    bf.add_argument("--to", dest="end", required=True, help="exclusive end (date or ISO 8601, UTC)")
    bf.add_argument("--unit", default="days", help="days, minutes/N, weeks, months, seconds (default: days)")
    bf.add_argument("--no-progress", action="store_true", help="log lines instead of a progress bar")
    bf.add_argument("--no-transform", action="store_true", help="do not update the candle marts afterwards")

    train = commands.add_parser("train", help="train, validate walk-forward, register and score the ML model")
    train.add_argument("--interval", choices=["1d", "1m"], default="1d", help="candle interval (default 1d)")
    train.add_argument("--no-progress", action="store_true", help="log lines instead of a progress bar")
    score = commands.add_parser("score", help="the current ML model's predictions for every market")
    score.add_argument("--interval", choices=["1d", "1m"], default="1d", help="candle interval (default 1d)")

    airflow = commands.add_parser("airflow", help="the local Airflow of `make up`")
    airflow_commands = airflow.add_subparsers(dest="airflow_command", required=True)
    env = airflow_commands.add_parser("env", help="print the environment Airflow runs with")
    env.add_argument("--format", choices=["sh", "json"], default="sh")
    run = airflow_commands.add_parser("run", help="migrate, then run api-server, scheduler and dag-processor")
    run.add_argument("--port", type=int, default=None, help="api-server port (default 8081)")
    return parser


def _last_closed(end: str | None, step: dt.timedelta) -> dt.datetime:
    if end is not None:
        return parse_time(end)
    now = dt.datetime.now(UTC)
    epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((now - epoch) // step) * step


def _print(value: object) -> None:
    print(json.dumps(value, default=str, indent=2))


def _cmd_db(args: argparse.Namespace, settings: BatchSettings) -> int:
    from cryptoflow_batch.db import create_database, upgrade  # noqa: PLC0415  # keeps --help fast

    if args.create:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo  # noqa: PLC0415

        params = conninfo_to_dict(settings.dsn)
        name = str(params.get("dbname", "postgres"))
        if create_database(make_conninfo(settings.dsn, dbname="postgres"), name):
            print(f"created database {name}")
    applied = upgrade(settings.dsn)
    print(f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "schema is up to date")
    return 0


def _cmd_el(args: argparse.Namespace, settings: BatchSettings) -> int:
    from cryptoflow_batch import jobs  # noqa: PLC0415

    run_id = f"cli__{dt.datetime.now(UTC).isoformat()}"
    if args.what == "ticker":
        end = _last_closed(args.end, dt.timedelta(minutes=10))
        _print(jobs.ticker_el_job(end - dt.timedelta(minutes=10), end, run_id, settings))
        names = ["markets", "market_stats_24h"]
    else:
        unit = CandleUnit.parse(args.unit)
        step = dt.timedelta(days=1) if unit == jobs.DAILY else dt.timedelta(minutes=10)
        end = _last_closed(args.end, step)
        _print(jobs.candles_el_job(unit.name, end - step, end, run_id, settings))
        # Minute candles stay in the lake as the reference: mart.candles_1m is built from archived trades.
        names = ["candles_1d", "indicators"] if unit == jobs.DAILY else []
    if not args.no_transform:
        for name in names:
            _print(jobs.transform_job(name, settings))
    return 0


def _cmd_transform(args: argparse.Namespace, settings: BatchSettings) -> int:
    from cryptoflow_batch import jobs  # noqa: PLC0415

    unknown = sorted(set(args.names) - set(TRANSFORM_ORDER))
    if unknown:
        raise ValueError(f"unknown transform(s) {unknown}; choose from {', '.join(TRANSFORM_ORDER)}")
    for name in [n for n in TRANSFORM_ORDER if n in args.names] or TRANSFORM_ORDER:
        _print(jobs.transform_job(name, settings))
    return 0


def _cmd_backfill(args: argparse.Namespace, settings: BatchSettings) -> int:
    from cryptoflow_batch import jobs  # noqa: PLC0415

    request = BackfillRequest.build(unit=args.unit, markets=args.markets, start=args.start, end=args.end)
    asyncio.run(_refuse_unlisted(settings, request.markets))
    run_id = f"cli__backfill__{dt.datetime.now(UTC).isoformat()}"
    if args.no_progress:
        result = asyncio.run(backfill(settings, request, run_id=run_id, on_progress=_log_progress))
    else:
        result = asyncio.run(_backfill_with_bar(settings, request, run_id))
    print(
        f"backfill {result.endpoint}: {len(result.markets)} markets, {result.pages} pages, "
        f"{result.candles} candles stored, {result.requests} requests in {result.seconds:.1f}s"
    )
    if not args.no_transform:
        for name in ("candles_1d", "indicators", "indicators_1m"):
            _print(jobs.transform_job(name, settings))
    return 0


async def _refuse_unlisted(settings: BatchSettings, markets: Sequence[str]) -> None:
    """A market the exchange does not list is the user's mistake: say so before any work starts."""
    from cryptoflow_batch.el import make_client  # noqa: PLC0415

    async with make_client(settings) as upbit:
        listed = {row["market"] for row in (await upbit.market_all(is_details=False)).json()}
    unknown = [market for market in markets if market not in listed]
    if unknown:
        raise ValueError(f"unknown market(s) {', '.join(unknown)}: not listed by {settings.upbit_rest_url}")


def _leaves(exc: BaseException) -> list[BaseException]:
    """The errors inside (nested) exception groups: a backfill's task group wraps its workers' errors."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _log_progress(progress: MarketProgress) -> None:
    log.info(
        "%s %s: %d pages, %d candles, back to %s (%.0f%%)",
        progress.endpoint,
        progress.market,
        progress.pages,
        progress.candles,
        progress.next_to.isoformat(),
        100 * progress.fraction,
    )


async def _backfill_with_bar(
    settings: BatchSettings, request: BackfillRequest, run_id: str
) -> BackfillResult:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[candles]} candles"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        overall = bar.add_task(f"{request.unit.name} x {len(request.markets)} markets", total=1.0, candles=0)
        shares: dict[str, float] = {}
        counts: dict[str, int] = {}

        def update(progress: MarketProgress) -> None:
            shares[progress.market] = progress.fraction
            counts[progress.market] = progress.candles
            bar.update(
                overall,
                completed=sum(shares.values()) / len(request.markets),
                candles=sum(counts.values()),
                description=f"{request.unit.name} {progress.market} {progress.next_to:%Y-%m-%d %H:%M}",
            )

        return await backfill(settings, request, run_id=run_id, on_progress=update)


def _cmd_train(args: argparse.Namespace, settings: BatchSettings) -> int:
    from cryptoflow_batch import ml  # noqa: PLC0415  # numpy, scikit-learn, LightGBM
    from cryptoflow_ml.training import walk_forward_table  # noqa: PLC0415
    from cryptoflow_ml.validation import NotEnoughData  # noqa: PLC0415

    steps = ("read", "walk-forward logistic_regression", "walk-forward lightgbm", "fit", "register")
    try:
        if args.no_progress:
            result, summary = ml.train_and_register(settings.dsn, args.interval, on_step=log.info)
        else:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

            with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()) as bar:
                task = bar.add_task(f"train {args.interval}", total=len(steps))

                def advance(step: str) -> None:
                    done = next((i for i, s in enumerate(steps) if step.startswith(s)), 0)
                    bar.update(task, completed=done, description=f"train {args.interval}: {step}")

                result, summary = ml.train_and_register(settings.dsn, args.interval, on_step=advance)
                bar.update(task, completed=len(steps), description=f"train {args.interval}: done")
    except NotEnoughData as exc:
        print(f"cryptoflow-batch: not enough {args.interval} history to train: {exc}", file=sys.stderr)
        return 2
    print(walk_forward_table(result))
    _print(summary)
    return 0


def _cmd_score(args: argparse.Namespace, settings: BatchSettings) -> int:
    from cryptoflow_batch import ml  # noqa: PLC0415

    try:
        _print(ml.score(settings.dsn, args.interval))
    except ml.NoModel as exc:
        print(f"cryptoflow-batch: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_airflow(args: argparse.Namespace, settings: BatchSettings) -> int:
    from cryptoflow_batch import airflow_local  # noqa: PLC0415

    if args.airflow_command == "env":
        environment = airflow_local.airflow_env(settings)
        if args.format == "json":
            _print(environment)
        else:
            sys.stdout.write(airflow_local.as_shell(environment))
        return 0
    return airflow_local.run(settings, port=args.port)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise here
    try:
        settings = load_settings(dsn=args.dsn, upbit_rest_url=args.rest_url)
    except SettingsError as exc:
        print(f"cryptoflow-batch: {exc}", file=sys.stderr)
        return 2
    handlers = {
        "db": _cmd_db,
        "el": _cmd_el,
        "transform": _cmd_transform,
        "backfill": _cmd_backfill,
        "train": _cmd_train,
        "score": _cmd_score,
        "airflow": _cmd_airflow,
    }
    try:
        return handlers[args.command](args, settings)
    except (ValueError, OSError, psycopg.Error, UpbitError, ExceptionGroup) as exc:
        leaves = _leaves(exc)
        if not all(isinstance(leaf, ValueError | OSError | psycopg.Error | UpbitError) for leaf in leaves):
            raise  # a bug, not a user or environment error: keep its traceback
        print(f"cryptoflow-batch: {leaves[0]}", file=sys.stderr)
        # the user's mistake (a bad date, unit or market: ValueError, or Upbit refusing the request) is 2;
        # an unreachable database or exchange is 1
        user = isinstance(leaves[0], ValueError | UpbitHTTPError)
        return 2 if user else 1
    except KeyboardInterrupt:
        print("cryptoflow-batch: interrupted (a backfill resumes where it stopped)", file=sys.stderr)
        return 130
