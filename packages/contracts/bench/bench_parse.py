"""Microseconds per frame, on one core, of the contracts' hot paths: `parse_ws_frame`, `record_from_ws` +
`serialize` (from a parsed frame), the whole ingest step (parse -> record -> serialize), and the sink's
`deserialize_record` (from the serialized record); plus ingest frames per second.

    uv run --package cryptoflow-contracts python packages/contracts/bench/bench_parse.py [--rounds 5]

The frames are the recorded samples (`UPBIT_SAMPLES_DIR`, else `testdata/upbit-samples` or
`shared/upbit-samples` above this file), in DEFAULT and in SIMPLE format. Each figure is the best of
`--rounds` timed rounds.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pydantic

from cryptoflow_contracts.records import deserialize_record, record_from_ws, serialize
from cryptoflow_contracts.ws import WsOrderbook, WsTicker, WsTrade, encode_ws_frame, parse_ws_frame


def samples_dir() -> Path:
    configured = os.environ.get("UPBIT_SAMPLES_DIR")
    if configured:
        return Path(configured)
    for parent in Path(__file__).resolve().parents:
        for candidate in (parent / "testdata" / "upbit-samples", parent / "shared" / "upbit-samples"):
            if candidate.is_dir():
                return candidate
    raise SystemExit("Upbit samples not found: set UPBIT_SAMPLES_DIR")


T = TypeVar("T")


def per_second(items: Sequence[T], step: Callable[[T], object], rounds: int) -> float:
    batch = list(items) * max(1, 2000 // len(items))
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for item in batch:
            step(item)
        best = min(best, time.perf_counter() - start)
    return len(batch) / best


MarketFrame = WsTrade | WsTicker | WsOrderbook


def market_frame(raw: bytes) -> MarketFrame:
    frame = parse_ws_frame(raw)
    assert isinstance(frame, MarketFrame)
    return frame


def record_step(frame: MarketFrame) -> bytes:
    return serialize(record_from_ws(frame, received_ms=0))


def ingest_step(raw: bytes) -> bytes:
    return record_step(market_frame(raw))


def deserialize_step(topic_value: tuple[str, bytes]) -> object:
    return deserialize_record(*topic_value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    folder = samples_dir()
    default = {
        kind: [line for line in (folder / f"ws-{kind}.jsonl").read_bytes().splitlines() if line.strip()]
        for kind in ("trade", "ticker", "orderbook")
    }
    simple = {
        kind: [encode_ws_frame(parse_ws_frame(raw), simple=True) for raw in lines]
        for kind, lines in default.items()
    }
    mixed = default["trade"] + default["ticker"] + default["orderbook"]

    print(f"python {platform.python_version()}, pydantic {pydantic.VERSION}, {platform.machine()}, one core")
    print(
        f"{'frames':<24}{'bytes':>6}{'parse us':>10}{'record+ser us':>15}{'ingest us':>11}"
        f"{'deserialize us':>16}{'ingest/s':>10}"
    )
    rows = [(f"{kind} DEFAULT", lines) for kind, lines in default.items()]
    rows += [(f"{kind} SIMPLE", lines) for kind, lines in simple.items()]
    rows.append(("mix of the samples", mixed))
    for name, lines in rows:
        size = sum(map(len, lines)) // len(lines)
        frames = [market_frame(raw) for raw in lines]
        records = [record_from_ws(frame, received_ms=0) for frame in frames]
        values = [(str(record.TOPIC), serialize(record)) for record in records]
        parse = per_second(lines, parse_ws_frame, args.rounds)
        record = per_second(frames, record_step, args.rounds)
        ingest = per_second(lines, ingest_step, args.rounds)
        deserialize = per_second(values, deserialize_step, args.rounds)
        print(
            f"{name:<24}{size:>6}{1e6 / parse:>10.1f}{1e6 / record:>15.1f}{1e6 / ingest:>11.1f}"
            f"{1e6 / deserialize:>16.1f}{ingest:>10,.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
