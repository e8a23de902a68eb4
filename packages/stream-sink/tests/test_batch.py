"""Batch decoding and planning: pure logic, fed with fake messages."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from cryptoflow_contracts.records import RecordHeaders, RecordModel, serialize
from cryptoflow_contracts.topics import Topic
from cryptoflow_stream_sink.batch import build

TOPICS = {f"p.{t}": t for t in (Topic.TRADE, Topic.TICKER, Topic.ORDERBOOK)}


@dataclass
class FakeMessage:
    topic: str
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = field(default_factory=list)
    key: bytes | None = b"KRW-BTC"
    partition: int = 0
    offset: int = 0


def message(record: RecordModel, **header_overrides: bytes) -> FakeMessage:
    headers = [(k, header_overrides.get(k, v)) for k, v in RecordHeaders.for_record(record).to_kafka()]
    return FakeMessage(f"p.{record.TOPIC}", serialize(record), headers)


def planned_fields(record: RecordModel) -> tuple[str, ...]:
    """The Redis fields the sink plans to write for `record` alone."""
    plan = build([message(record)], TOPICS).plan
    (fields,) = [entry.fields for entries in plan.trades.values() for entry in entries] + [
        entry.fields for entry in (*plan.tickers.values(), *plan.orderbooks.values())
    ]
    return fields


def test_trade_fields_keep_exact_decimal_text_and_leave_out_nulls(make: Any) -> None:
    record = make.trade(
        "KRW-BTC", 17732781250000001, 1773278125000, price="0.12345678901234567", source="rest-backfill"
    )
    fields = dict(zip(planned_fields(record)[::2], planned_fields(record)[1::2], strict=True))
    assert fields["price"] == "0.12345678901234567"
    assert fields["volume"] == "0.00012345"
    assert fields["sequential_id"] == "17732781250000001"
    assert fields["trade_timestamp"] == "1773278125000"
    assert "timestamp" not in fields
    assert "best_ask_price" not in fields
    assert "kind" not in fields


def test_orderbook_units_are_json_of_decimal_strings(make: Any) -> None:
    fields = planned_fields(make.orderbook("KRW-BTC", 1, best_ask="104862000.0"))
    units = json.loads(dict(zip(fields[::2], fields[1::2], strict=True))["units"])
    assert units[0]["ask_price"] == "104862000.0"
    assert all(isinstance(v, str) for unit in units for v in unit.values())


def test_newest_ticker_of_a_batch_wins_and_the_rest_are_superseded(make: Any) -> None:
    batch = build(
        [
            message(make.ticker("KRW-BTC", 2000, price="2")),
            message(make.ticker("KRW-BTC", 1000, price="1")),
            message(make.ticker("KRW-BTC", 2000, price="2.5")),
            message(make.ticker("KRW-ETH", 500, price="9")),
        ],
        TOPICS,
    )
    latest = batch.plan.tickers["KRW-BTC"]
    assert latest.ts == 2000
    assert dict(zip(latest.fields[::2], latest.fields[1::2], strict=True))["trade_price"] == "2.5"
    assert batch.superseded["ticker"] == 2
    assert batch.plan.markets["KRW-BTC"].status == "ACTIVE"
    assert batch.plan.markets["KRW-BTC"].last_seen_ms == 2000
    assert batch.plan.markets["KRW-ETH"].quote_currency == "KRW"


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda m: setattr(m, "value", b"{not json"), "upbit.trade"),
        (lambda m: setattr(m, "value", b'{"market":"KRW-BTC"}'), "field required"),
        (lambda m: setattr(m, "value", None), "tombstone"),
        (lambda m: setattr(m, "headers", [("contract", b"upbit.trade")]), "missing record header"),
        (
            lambda m: setattr(m, "headers", [*m.headers[:1], ("contract-version", b"2.0.0"), *m.headers[2:]]),
            "major",
        ),
        (lambda m: setattr(m, "headers", [("contract", b"upbit.ticker"), *m.headers[1:]]), "contract="),
    ],
)
def test_records_that_do_not_fit_become_dead_letters(
    make: Any, mangle: Callable[[FakeMessage], None], reason: str
) -> None:
    good = message(make.trade("KRW-BTC", 1, 1000))
    bad = message(make.trade("KRW-BTC", 2, 1000))
    mangle(bad)
    batch = build([good, bad], TOPICS)
    assert [d.message for d in batch.dead] == [bad]
    assert reason in batch.dead[0].reason
    assert [t.sequential_id for t in batch.plan.trades["KRW-BTC"]] == [1]
    assert batch.records_in["trade"] == 2


def test_a_float_price_is_refused_rather_than_rounded(make: Any) -> None:
    value = json.loads(serialize(make.trade("KRW-BTC", 1, 1000)))
    value["price"] = 104862000.5
    headers = message(make.trade("KRW-BTC", 1, 1)).headers
    bad = FakeMessage("p.upbit.trade", json.dumps(value).encode(), headers)
    batch = build([bad], TOPICS)
    assert "price" in batch.dead[0].reason
