"""Kafka records: built from frames and REST ticks, serialized and read back exactly, with their headers."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

import cryptoflow_contracts
from cryptoflow_contracts.errors import IncompatibleVersionError, RecordError
from cryptoflow_contracts.records import (
    DeadLetterRecord,
    OrderbookRecord,
    Record,
    RecordHeaders,
    TickerRecord,
    TradeRecord,
    deserialize_record,
    kafka_key,
    record_from_rest_trade,
    record_from_ws,
    serialize,
)
from cryptoflow_contracts.rest import RestTradeTick, parse_rest_list
from cryptoflow_contracts.topics import Topic
from cryptoflow_contracts.version import (
    CONTRACT_VERSION,
    is_compatible,
    major,
    parse_version,
    require_compatible,
)
from cryptoflow_contracts.ws import WsFrame, WsOrderbook, WsStatus, WsTicker, WsTrade


@pytest.fixture(scope="module")
def records(ws_frames: dict[str, list[WsFrame]], rest_bytes: dict[str, bytes]) -> list[Record]:
    out: list[Record] = []
    for frame in ws_frames["ws-trade.jsonl"] + ws_frames["ws-ticker.jsonl"] + ws_frames["ws-orderbook.jsonl"]:
        assert isinstance(frame, WsTrade | WsTicker | WsOrderbook)
        out.append(record_from_ws(frame, received_ms=frame.timestamp + 3))
    for tick in parse_rest_list(rest_bytes["rest-trades-ticks.json"], RestTradeTick):
        out.append(record_from_rest_trade(tick, received_ms=1773278200000))
    out.append(
        DeadLetterRecord.from_raw(
            b'{"type":"trade","trade_price":"x"}\xff',
            stage="ingest",
            reason="trade.trade_price: Input should be a JSON number",
            failed_ms=1773278200001,
        )
    )
    return out


def test_records_round_trip_exactly(records: list[Record]) -> None:
    assert len(records) == 12 + 12 + 9 + 7 + 1
    for record in records:
        value = serialize(record)
        back = deserialize_record(record.TOPIC, value)
        assert back == record
        assert type(back) is type(record)
        assert serialize(back) == value


def test_serialized_values_are_compact_json_with_decimal_strings(records: list[Record]) -> None:
    trade = next(r for r in records if isinstance(r, TradeRecord))
    value = serialize(trade)
    assert b" " not in value
    data = json.loads(value)
    assert data["kind"] == "trade"
    assert data["price"] == "104862000.0"
    assert data["volume"] == "0.00412"
    assert data["sequential_id"] == 17732781281500000
    assert (data["trade_timestamp"], data["timestamp"], data["received_ms"]) == (
        1773278128150,
        1773278128154,
        1773278128157,
    )
    assert (data["side"], data["stream_type"], data["source"]) == ("BID", "SNAPSHOT", "ws")
    book = next(r for r in records if isinstance(r, OrderbookRecord))
    units = json.loads(serialize(book))["units"]
    assert len(units) == 30
    assert units[0] == {
        "ask_price": "104862000.0",
        "ask_size": "0.02171756",
        "bid_price": "104861000.0",
        "bid_size": "0.14029487",
    }


def test_ticker_record_fields(records: list[Record]) -> None:
    ticker = next(r for r in records if isinstance(r, TickerRecord) and r.market == "KRW-XRP")
    assert (ticker.change, ticker.change_price, ticker.signed_change_price) == (
        "FALL",
        Decimal(16),
        Decimal(-16),
    )
    assert ticker.acc_ask_volume is not None
    assert ticker.acc_bid_volume is not None
    assert ticker.acc_ask_volume + ticker.acc_bid_volume == ticker.acc_trade_volume
    assert (ticker.highest_52_week_date, ticker.market_state, ticker.side) == ("2025-07-18", "ACTIVE", "ASK")


def test_rest_backfill_trade_record() -> None:
    tick = RestTradeTick(
        market="KRW-XRP",
        trade_date_utc="2026-03-12",
        trade_time_utc="01:15:31",
        timestamp=1773278131322,
        trade_price=Decimal("2071.0"),
        trade_volume=Decimal("48.28967742"),
        prev_closing_price=Decimal("2087.0"),
        change_price=Decimal("-16.0"),
        ask_bid="ASK",
        sequential_id=17732781313220000,
    )
    record = record_from_rest_trade(tick, received_ms=9)
    assert (record.change, record.change_price) == ("FALL", Decimal("16.0"))  # signed in REST, absolute here
    assert (record.trade_timestamp, record.timestamp, record.received_ms) == (1773278131322, None, 9)
    assert (record.source, record.stream_type, record.best_ask_price) == ("rest-backfill", None, None)
    even = record_from_rest_trade(tick.model_copy(update={"change_price": Decimal(0)}), received_ms=9)
    assert even.change == "EVEN"


def test_record_from_ws_refuses_control_frames() -> None:
    with pytest.raises(TypeError, match="no Kafka record for WsStatus"):
        record_from_ws(WsStatus(status="UP"), received_ms=0)  # type: ignore[call-overload]


def test_record_source_is_a_lowercase_name(ws_frames: dict[str, list[WsFrame]]) -> None:
    trade = ws_frames["ws-trade.jsonl"][0]
    assert isinstance(trade, WsTrade)
    assert record_from_ws(trade, received_ms=0, source="replay").source == "replay"
    with pytest.raises(ValueError, match="source"):
        record_from_ws(trade, received_ms=0, source="Not A Name")


def test_dead_letter_keeps_the_raw_bytes() -> None:
    raw = b'{"price": 1}\xff\xfe'
    dead = DeadLetterRecord.from_raw(
        raw,
        stage="stream-sink",
        reason="contract-version '2.0.0' is not readable",
        failed_ms=5,
        source_topic="upbit.trade",
        source_partition=3,
        source_offset=42,
        key=b"KRW-BTC",
    )
    assert dead.raw == raw
    assert dead.raw_text == '{"price": 1}\ufffd\ufffd'
    back = deserialize_record("upbit.dlq", serialize(dead))
    assert isinstance(back, DeadLetterRecord)
    assert (back.raw, back.source_topic, back.source_partition, back.source_offset, back.key) == (
        raw,
        "upbit.trade",
        3,
        42,
        "KRW-BTC",
    )
    broken = dead.model_copy(update={"raw_base64": "not base64!"})
    with pytest.raises(RecordError, match="not base64"):
        _ = broken.raw


def test_unknown_record_fields_are_tolerated(records: list[Record]) -> None:
    trade = next(r for r in records if isinstance(r, TradeRecord))
    data = json.loads(serialize(trade))
    data["added_in_a_later_minor"] = {"x": 1}
    assert deserialize_record("upbit.trade", json.dumps(data).encode()) == trade


@pytest.mark.parametrize(
    ("topic", "edit", "reason"),
    [
        ("upbit.nope", {}, "unknown topic 'upbit.nope'"),
        ("upbit.ticker", {}, "upbit.ticker.kind: Input should be 'ticker'"),
        (
            "upbit.trade",
            {"price": 104862000.5},
            "upbit.trade.price: Input should be a decimal written as a JSON string",
        ),
        ("upbit.trade", {"price": "1,000"}, "upbit.trade.price: Input should be a decimal"),
        (
            "upbit.trade",
            {"sequential_id": "17732781281500000"},
            "upbit.trade.sequential_id: Input should be a valid integer",
        ),
        ("upbit.trade", {"received_ms": None}, "upbit.trade.received_ms: Input should be a valid integer"),
        ("upbit.trade", {"side": "buy"}, "upbit.trade.side: Input should be 'ASK' or 'BID'"),
        ("upbit.trade", {"source": "WS"}, "upbit.trade.source: String should match pattern"),
    ],
)
def test_records_that_do_not_decode(
    records: list[Record], topic: str, edit: dict[str, object], reason: str
) -> None:
    trade = next(r for r in records if isinstance(r, TradeRecord))
    data = json.loads(serialize(trade))
    data.update(edit)
    with pytest.raises(RecordError) as caught:
        deserialize_record(topic, json.dumps(data).encode())
    assert caught.value.reason.startswith(reason), caught.value.reason


@pytest.mark.parametrize("value", [b"", b"{", b"[]", b"\xff"])
def test_values_that_are_not_json_objects(value: bytes) -> None:
    with pytest.raises(RecordError, match=r"upbit\.trade"):
        deserialize_record("upbit.trade", value)


def test_missing_field_names_the_field(records: list[Record]) -> None:
    trade = next(r for r in records if isinstance(r, TradeRecord))
    data = json.loads(serialize(trade))
    del data["volume"]
    with pytest.raises(RecordError, match=r"upbit\.trade\.volume: field required"):
        deserialize_record(Topic.TRADE, json.dumps(data).encode())


def test_headers_round_trip(records: list[Record]) -> None:
    backfill = next(r for r in records if isinstance(r, TradeRecord) and r.source == "rest-backfill")
    headers = RecordHeaders.for_record(backfill)
    assert headers == RecordHeaders(
        contract="upbit.trade", contract_version=CONTRACT_VERSION, source="rest-backfill"
    )
    kafka = headers.to_kafka()
    assert kafka == [
        ("contract", b"upbit.trade"),
        ("contract-version", CONTRACT_VERSION.encode()),
        ("source", b"rest-backfill"),
    ]
    assert RecordHeaders.from_kafka(kafka) == headers
    assert RecordHeaders.from_kafka(tuple(reversed([("trace-id", b"\xff"), *kafka]))) == headers
    assert headers.is_compatible
    book = next(r for r in records if isinstance(r, OrderbookRecord))
    assert RecordHeaders.for_record(book, source="replay") == RecordHeaders(
        "upbit.orderbook", CONTRACT_VERSION, "replay"
    )
    dead = next(r for r in records if isinstance(r, DeadLetterRecord))
    assert RecordHeaders.for_record(dead, source="ingest").contract == "upbit.dlq"


def test_first_repeated_header_wins() -> None:
    headers = [
        ("contract", b"upbit.trade"),
        ("contract-version", b"1.0.0"),
        ("source", b"ws"),
        ("source", b"x"),
    ]
    assert RecordHeaders.from_kafka(headers).source == "ws"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (None, "missing record header(s): contract, contract-version, source"),
        ([("contract", b"upbit.trade"), ("source", b"ws")], "missing record header(s): contract-version"),
        (
            [("contract", b"\xff"), ("contract-version", b"1.0.0"), ("source", b"ws")],
            "header 'contract' is not UTF-8",
        ),
    ],
)
def test_bad_headers(headers: list[tuple[str, bytes]] | None, reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        RecordHeaders.from_kafka(headers)
    assert caught.value.reason == reason or caught.value.reason.startswith(reason)


def test_kafka_key_is_the_market(records: list[Record]) -> None:
    book = next(r for r in records if isinstance(r, OrderbookRecord))
    assert kafka_key(book) == b"KRW-BTC"


def test_contract_version_is_the_package_version() -> None:
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    assert CONTRACT_VERSION == declared == cryptoflow_contracts.__version__


@pytest.mark.parametrize(
    ("version", "parsed"), [("1.0.0", (1, 0, 0)), ("12.3.45", (12, 3, 45)), ("2.0.0-rc.1+build.5", (2, 0, 0))]
)
def test_parse_version(version: str, parsed: tuple[int, int, int]) -> None:
    assert parse_version(version) == parsed
    assert major(version) == parsed[0]


@pytest.mark.parametrize("bad", ["1.0", "v1.0.0", "01.0.0", "1.0.0.0", "", "1.x.0"])
def test_parse_version_refuses_non_semver(bad: str) -> None:
    with pytest.raises(ValueError, match="not a semantic version"):
        parse_version(bad)


def test_same_major_is_compatible() -> None:
    assert is_compatible("1.0.0", ours="1.4.2")
    assert is_compatible("1.9.0", ours="1.0.0")  # a newer minor: readable, unknown fields ignored
    assert not is_compatible("2.0.0", ours="1.4.2")
    assert not is_compatible("0.9.0", ours="1.0.0")
    assert not is_compatible("garbage", ours="1.0.0")
    assert is_compatible(CONTRACT_VERSION)
    require_compatible("1.2.3", ours="1.0.0")
    with pytest.raises(
        IncompatibleVersionError, match=r"contract-version '2\.0\.0' is not readable by contracts 1\.0\.0"
    ):
        require_compatible("2.0.0", ours="1.0.0")
    assert not RecordHeaders("upbit.trade", "2.0.0", "ws").is_compatible
