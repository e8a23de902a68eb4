"""`cryptoflow-contracts`: decode Upbit frames, export the JSON Schemas, run the compatibility gate, create
the Kafka topics."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cryptoflow_contracts.compat import check_compat
from cryptoflow_contracts.errors import FrameError, ResponseError
from cryptoflow_contracts.records import record_from_ws, serialize
from cryptoflow_contracts.rest import RestModel, parse_rest_error, parse_rest_list, rest_model_for
from cryptoflow_contracts.schema import (
    build_document,
    dump_document,
    find_package_root,
    load_snapshots,
    snapshot_path,
)
from cryptoflow_contracts.version import CONTRACT_VERSION, parse_version
from cryptoflow_contracts.ws import WsCandle, WsFrame, WsOrderbook, WsTicker, WsTrade, parse_ws_frame


def normalize(frame: WsFrame) -> str:
    """One line of `decode` output. Data frames print their Kafka record; `received_ms` is the frame's own
    `timestamp` (a file has no receive time), so the output is deterministic."""
    if isinstance(frame, WsTrade | WsTicker | WsOrderbook):
        return serialize(record_from_ws(frame, received_ms=frame.timestamp)).decode()
    data: dict[str, Any] = {"kind": frame.KIND}
    if isinstance(frame, WsCandle):
        data["market"] = frame.market
    data.update(frame.model_dump(mode="json"))
    if "error" in data:  # flatten {"error": {"name", "message"}}
        data.update(data.pop("error"))
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _decode_lines(lines: Iterable[bytes]) -> int:
    failed = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            frame = parse_ws_frame(line)
        except FrameError as exc:
            print(f"line {number}: {exc.reason}", file=sys.stderr)
            failed += 1
            continue
        print(normalize(frame))
    return 1 if failed else 0


def _decode_rest(body: bytes, model: type[RestModel]) -> int:
    """One JSON line per item of a REST body (a JSON array of `model`); an error body is printed as such."""
    try:
        items = parse_rest_list(body, model)
    except ResponseError as exc:
        try:
            error = parse_rest_error(body).error
        except ResponseError:
            print(f"body: {exc.reason}", file=sys.stderr)
        else:
            print(f"body: an Upbit error answer: {error.name}: {error.message}", file=sys.stderr)
        return 1
    for item in items:
        data = {"kind": model.__name__, **item.model_dump(mode="json", exclude_none=True)}
        print(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return 0


def _decode(args: argparse.Namespace) -> int:
    model: type[RestModel] | None = None
    if args.rest is not None:
        try:
            model = rest_model_for(args.rest)
        except KeyError as exc:
            print(f"decode: {exc.args[0]}", file=sys.stderr)
            return 2
    if args.file == "-":
        return (
            _decode_lines(sys.stdin.buffer) if model is None else _decode_rest(sys.stdin.buffer.read(), model)
        )
    try:
        stream = Path(args.file).open("rb")  # noqa: SIM115 (closed below; only opening errors are caught)
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    with stream:
        return _decode_lines(stream) if model is None else _decode_rest(stream.read(), model)


def _schemas_dir(given: str | None) -> Path:
    return Path(given) if given else find_package_root() / "schemas"


def _schema_export(args: argparse.Namespace) -> int:
    text = dump_document(build_document())
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    try:
        out = Path(args.out) if args.out else snapshot_path(_schemas_dir(None), CONTRACT_VERSION)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:  # FileNotFoundError too: no source folder to write into
        print(f"schema export: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


def _check_compat(args: argparse.Namespace) -> int:
    version = args.version or CONTRACT_VERSION
    try:
        snapshots = load_snapshots(_schemas_dir(args.schemas_dir))
    except (OSError, ValueError) as exc:
        print(f"check-compat: {exc}", file=sys.stderr)
        return 2
    report = check_compat(build_document(version=version), version, snapshots)
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def _topics_apply(args: argparse.Namespace) -> int:
    from cryptoflow_contracts.topic_admin import TopicApplyError, apply_topics  # noqa: PLC0415 - needs the extra

    try:
        results = asyncio.run(
            apply_topics(
                args.bootstrap_servers,
                replication_factor=args.replication_factor,
                min_insync_replicas=args.min_insync_replicas,
                wait_s=args.timeout,
            )
        )
    except TopicApplyError as exc:
        print(f"topics apply: {exc}", file=sys.stderr)
        return 1
    for result in results:
        print(result.line())
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _semver(text: str) -> str:
    try:
        parse_version(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cryptoflow-contracts", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {CONTRACT_VERSION}")
    commands = parser.add_subparsers(dest="command", required=True)

    decode = commands.add_parser(
        "decode",
        help="decode Upbit WS frames (one per line, DEFAULT or SIMPLE), or a REST body with --rest, "
        "into normalized JSON lines",
        description="WebSocket frames: one JSON object per decoded line (the Kafka record of a data frame); "
        "`line N: <reason>` on stderr for a line that does not decode. With --rest ENDPOINT: the file is one "
        "REST response body (a JSON array) and each item prints as one JSON object. Exit 1 if anything "
        "failed to decode.",
    )
    decode.add_argument("file", help="a .jsonl file (a .json body with --rest), or - for standard input")
    decode.add_argument(
        "--rest",
        metavar="ENDPOINT",
        help="decode a REST body of this endpoint: market/all, ticker, ticker/all, candles/minutes/1, "
        "candles/days, trades/ticks, orderbook, orderbook/instruments, ... (with or without /v1/)",
    )
    decode.set_defaults(func=_decode)

    schema = commands.add_parser("schema", help="JSON Schema of every public model")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    export = schema_commands.add_parser("export", help="write the schema document (the release snapshot)")
    export.add_argument(
        "--out",
        help=f"output file, - for stdout (default: packages/contracts/schemas/{CONTRACT_VERSION}.json)",
    )
    export.set_defaults(func=_schema_export)

    compat = commands.add_parser(
        "check-compat",
        help="compare the models with the committed snapshots; fail if the version bump is too small",
    )
    compat.add_argument("--schemas-dir", help="snapshot folder (default: packages/contracts/schemas)")
    compat.add_argument(
        "--version",
        type=_semver,
        help=f"check as if the package were this version (default {CONTRACT_VERSION})",
    )
    compat.set_defaults(func=_check_compat)

    topics = commands.add_parser("topics", help="the Kafka topics of the contracts (TOPIC_SPECS)")
    topics_commands = topics.add_subparsers(dest="topics_command", required=True)
    apply = topics_commands.add_parser(
        "apply",
        help="create the missing contract topics (idempotent); needs the `kafka` extra",
        description="Creates every topic of TOPIC_SPECS that does not exist, with its partitions and "
        "retention, and waits until each partition has a leader. Existing topics are left as they are; "
        "one with fewer partitions than its spec fails the command. Exit 1 when the cluster does not answer.",
    )
    apply.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("CRYPTOFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        help="host:port[,...] (default: $CRYPTOFLOW_KAFKA_BOOTSTRAP or 127.0.0.1:9092)",
    )
    apply.add_argument(
        "--replication-factor", type=_positive, help="replicas per partition (default: brokers, at most 3)"
    )
    apply.add_argument("--min-insync-replicas", type=_positive, help="min.insync.replicas of new topics")
    apply.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for the cluster (default 120)"
    )
    apply.set_defaults(func=_topics_apply)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    result: int = args.func(args)
    return result
