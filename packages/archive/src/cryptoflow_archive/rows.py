"""One batch of Kafka records -> rows of `lake.trades` and dead letters (pure logic)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from cryptoflow_contracts.errors import DecodeError, IncompatibleVersionError
from cryptoflow_contracts.hotpath import stored_record
from cryptoflow_contracts.records import RecordHeaders
from cryptoflow_contracts.topics import Topic
from cryptoflow_contracts.version import is_compatible, require_compatible

COLUMNS = (
    "market",
    "trade_timestamp",
    "sequential_id",
    "price",
    "volume",
    "side",
    "received_ms",
    "source",
)
"""The columns of `lake.trades`, in the order of a row."""

Row = tuple[str, int, int, str, str, str, int, str]
"""Prices and volumes stay the exact text of the record: PostgreSQL reads it into numeric unchanged."""


class Message(Protocol):
    """What the archiver reads of an aiokafka `ConsumerRecord`."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message: Message
    reason: str


@dataclass(slots=True)
class DecodedBatch:
    rows: list[Row] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    """The message of each row (same index), to dead-letter a row PostgreSQL refuses."""
    dead: list[DeadLetter] = field(default_factory=list)
    read: int = 0
    repeated: int = 0
    """Trades that an earlier record of the same batch already carries (the first copy is archived)."""


def decode(message: Message) -> Row:
    """The `lake.trades` row of a trade record; `ValueError` says why it is refused."""
    headers = RecordHeaders.from_kafka(message.headers)
    if not _compatible(headers.contract_version):
        require_compatible(headers.contract_version)  # raises, with the reason
    if headers.contract != Topic.TRADE:
        raise DecodeError(f"header contract={headers.contract!r} on topic {Topic.TRADE}")
    if message.value is None:
        raise DecodeError("empty record value (tombstone)")
    record = stored_record(Topic.TRADE, message.value)
    f = dict(zip(record.fields[::2], record.fields[1::2], strict=True))
    assert record.sequential_id is not None  # a trade always has one
    return (
        record.market,
        record.time_ms,
        record.sequential_id,
        f["price"],
        f["volume"],
        f["side"],
        int(f["received_ms"]),
        f["source"],
    )


@lru_cache(maxsize=64)
def _compatible(version: str) -> bool:
    # Every record carries the header; the answer depends only on its text.
    return is_compatible(version)


def build(messages: Iterable[Message]) -> DecodedBatch:
    out = DecodedBatch()
    seen: set[tuple[str, int]] = set()
    for message in messages:
        out.read += 1
        try:
            row = decode(message)
        except (DecodeError, IncompatibleVersionError) as exc:
            out.dead.append(DeadLetter(message, str(exc)))
            continue
        key = (row[0], row[2])
        if key in seen:
            out.repeated += 1
            continue
        seen.add(key)
        out.rows.append(row)
        out.messages.append(message)
    return out
