"""Microseconds per frame, on one core, of the two hot-path steps, through the pydantic models and through
`cryptoflow_contracts.hotpath` (which must give the same bytes), and the ratio of the two:

- ingest: WS frame bytes -> Kafka record bytes (`parse_ws_frame` + `record_from_ws` + `serialize`, against
  `hotpath.ws_record`);
- sink: Kafka record bytes -> Redis fields (`deserialize_record` + `hotpath.redis_fields`, against
  `hotpath.stored_record`).

    uv run --package cryptoflow-contracts python packages/contracts/bench/bench_parse.py [--rounds 5]

The frames are the recorded samples (`UPBIT_SAMPLES_DIR`, else the repository's `testdata/upbit-samples`,
found by `cryptoflow_localstack.samples`), in DEFAULT and in SIMPLE format. Each figure is the best of
`--rounds` timed rounds; model and hotpath rounds alternate, so load on the machine hits both alike.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import msgspec
import pydantic

from cryptoflow_contracts import hotpath
from cryptoflow_contracts.records import (
    OrderbookRecord,
    TickerRecord,
    TradeRecord,
    deserialize_record,
    record_from_ws,
    serialize,
)
from cryptoflow_contracts.topics import Topic
from cryptoflow_contracts.ws import WsOrderbook, WsTicker, WsTrade, encode_ws_frame, parse_ws_frame
from cryptoflow_localstack.samples import SamplesNotFoundError, upbit_samples_dir


def samples_dir() -> Path:
    try:
        return upbit_samples_dir(Path(__file__).parent)
    except SamplesNotFoundError as exc:
        raise SystemExit(str(exc)) from None


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
MarketFrameRecord = TradeRecord | TickerRecord | OrderbookRecord


def market_frame(raw: bytes) -> MarketFrame:
    frame = parse_ws_frame(raw)
    assert isinstance(frame, MarketFrame)
    return frame


def ingest_models(raw: bytes) -> bytes:
    return serialize(record_from_ws(market_frame(raw), received_ms=0))


def ingest_hotpath(raw: bytes) -> object:
    return hotpath.ws_record(raw, received_ms=0, source="ws")


def sink_models(topic_value: tuple[Topic, bytes]) -> object:
    record = deserialize_record(*topic_value)
    assert isinstance(record, MarketFrameRecord)
    return hotpath.redis_fields(record)


def sink_hotpath(topic_value: tuple[Topic, bytes]) -> object:
    return hotpath.stored_record(*topic_value)


def timed(pairs: Sequence[tuple[Sequence[T], Callable[[T], object]]], rounds: int) -> list[float]:
    """Microseconds per item of each (items, step), best of `rounds`, the pairs' rounds interleaved."""
    best = [float("inf")] * len(pairs)
    for _ in range(rounds):
        for i, (items, step) in enumerate(pairs):
            best[i] = min(best[i], 1e6 / per_second(items, step, 1))
    return best


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

    versions = f"pydantic {pydantic.VERSION}, msgspec {msgspec.__version__}"
    print(f"python {platform.python_version()}, {versions}, one core")
    print(f"{'':<24}{'':>6}{'ingest us per frame':^27}{'sink us per record':^27}")
    print(f"{'frames':<24}{'bytes':>6}" + f"{'models':>9}{'hotpath':>9}{'ratio':>9}" * 2)
    rows = [(f"{kind} DEFAULT", lines) for kind, lines in default.items()]
    rows += [(f"{kind} SIMPLE", lines) for kind, lines in simple.items()]
    rows.append(("mix of the samples", mixed))
    for name, lines in rows:
        size = sum(map(len, lines)) // len(lines)
        records = [record_from_ws(market_frame(raw), received_ms=0) for raw in lines]
        values = [(record.TOPIC, serialize(record)) for record in records]
        for raw, (topic, value) in zip(lines, values, strict=True):  # the same answers, or no figures
            fast = hotpath.ws_record(raw, received_ms=0, source="ws")
            assert isinstance(fast, hotpath.WsRecord), raw
            assert fast.value == value, raw
            assert hotpath.stored_record(topic, value).fields == sink_models((topic, value)), value
        ingest_m, ingest_h = timed([(lines, ingest_models), (lines, ingest_hotpath)], args.rounds)
        sink_m, sink_h = timed([(values, sink_models), (values, sink_hotpath)], args.rounds)
        print(
            f"{name:<24}{size:>6}{ingest_m:>9.1f}{ingest_h:>9.1f}{ingest_m / ingest_h:>8.1f}x"
            f"{sink_m:>9.1f}{sink_h:>9.1f}{sink_m / sink_h:>8.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
