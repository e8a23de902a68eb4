"""How many Upbit frames per second `parse_ws_frame` decodes, and the whole ingest step per frame
(parse -> record -> serialize), on one core.

    uv run --package cryptoflow-contracts python packages/contracts/bench/bench_parse.py [--rounds 5]

The frames are the recorded samples (`UPBIT_SAMPLES_DIR`, or `shared/upbit-samples` next to the repository),
in DEFAULT and in SIMPLE format. Each figure is the best of `--rounds` timed rounds.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pydantic

from cryptoflow_contracts.records import record_from_ws, serialize
from cryptoflow_contracts.ws import WsOrderbook, WsTicker, WsTrade, encode_ws_frame, parse_ws_frame


def samples_dir() -> Path:
    configured = os.environ.get("UPBIT_SAMPLES_DIR")
    if configured:
        return Path(configured)
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "upbit-samples").is_dir():
            return parent / "shared" / "upbit-samples"
    raise SystemExit("Upbit samples not found: set UPBIT_SAMPLES_DIR")


def frames_per_second(frames: Sequence[bytes], step: Callable[[bytes], object], rounds: int) -> float:
    batch = list(frames) * max(1, 2000 // len(frames))
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for raw in batch:
            step(raw)
        best = min(best, time.perf_counter() - start)
    return len(batch) / best


def ingest_step(raw: bytes) -> bytes:
    frame = parse_ws_frame(raw)
    assert isinstance(frame, WsTrade | WsTicker | WsOrderbook)
    return serialize(record_from_ws(frame, received_ms=0))


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
    print(f"{'frames':<24}{'bytes/frame':>12}{'parse frames/s':>18}{'parse+record+serialize/s':>28}")
    rows = [(f"{kind} DEFAULT", lines) for kind, lines in default.items()]
    rows += [(f"{kind} SIMPLE", lines) for kind, lines in simple.items()]
    rows.append(("mix of the samples", mixed))
    for name, lines in rows:
        size = sum(map(len, lines)) // len(lines)
        parse = frames_per_second(lines, parse_ws_frame, args.rounds)
        ingest = frames_per_second(lines, ingest_step, args.rounds)
        print(f"{name:<24}{size:>12}{parse:>18,.0f}{ingest:>28,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
