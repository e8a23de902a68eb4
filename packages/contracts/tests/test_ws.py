"""WebSocket frame models: both formats, tolerance of extra keys, precise refusal of wrong types."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from cryptoflow_contracts.decimals import loads_exact
from cryptoflow_contracts.errors import FrameError
from cryptoflow_contracts.records import record_from_ws
from cryptoflow_contracts.ws import (
    WsCandle,
    WsError,
    WsFrame,
    WsListSubscriptions,
    WsOrderbook,
    WsStatus,
    WsTicker,
    WsTrade,
    encode_ws_frame,
    parse_ws_frame,
)

TRADE = (
    '{"type":"trade","code":"KRW-BTC","timestamp":1773278128154,"trade_date":"2026-03-12",'
    '"trade_time":"01:15:28","trade_timestamp":1773278128150,"trade_price":104862000.0,'
    '"trade_volume":0.00412,"ask_bid":"BID","prev_closing_price":104215000.0,"change":"RISE",'
    '"change_price":647000.0,"sequential_id":17732781281500000,"best_ask_price":104862000.0,'
    '"best_ask_size":0.02171756,"best_bid_price":104861000.0,"best_bid_size":0.14029487,"stream_type":"SNAPSHOT"}'
)
TRADE_SIMPLE = (
    '{"ty":"trade","cd":"KRW-BTC","tms":1773278128154,"td":"2026-03-12","ttm":"01:15:28",'
    '"ttms":1773278128150,"tp":104862000.0,"tv":0.00412,"ab":"BID","pcp":104215000.0,"c":"RISE",'
    '"cp":647000.0,"sid":17732781281500000,"bap":104862000.0,"bas":0.02171756,"bbp":104861000.0,'
    '"bbs":0.14029487,"st":"SNAPSHOT"}'
)
BOOK_SIMPLE = (
    '{"ty":"orderbook","cd":"KRW-BTC.1","tms":1773278130046,"tas":0.5,"tbs":0.25,'
    '"obu":[{"ap":104862000.0,"bp":104861000.0,"as":0.5,"bs":0.25}],"lv":0,"st":"REALTIME"}'
)


def _edit(raw: str, **changes: Any) -> str:
    data = json.loads(raw)  # floats are fine here: these tests are about types, not digits
    data.update(changes)
    return json.dumps(data)


def test_default_and_simple_decode_to_the_same_model() -> None:
    assert parse_ws_frame(TRADE) == parse_ws_frame(TRADE_SIMPLE)
    assert parse_ws_frame(TRADE.encode()) == parse_ws_frame(TRADE_SIMPLE.encode())


def test_simple_ticker_file_matches_the_default_one(ws_frames: dict[str, list[WsFrame]]) -> None:
    simple = ws_frames["ws-ticker-simple.jsonl"]
    default = [f for f in ws_frames["ws-ticker.jsonl"] if isinstance(f, WsTicker) and f.code != "KRW-XRP"]
    assert len(simple) == len(default) == 9
    assert simple == default
    assert [record_from_ws(f, received_ms=1) for f in simple if isinstance(f, WsTicker)] == [
        record_from_ws(f, received_ms=1) for f in default
    ]


def test_unknown_extra_fields_are_tolerated() -> None:
    extra = _edit(TRADE, trade_status="ACTIVE", new_field={"nested": [1, 2]})
    assert parse_ws_frame(extra) == parse_ws_frame(TRADE)
    book = json.loads(BOOK_SIMPLE)
    book["obu"][0]["extra"] = 1
    book["new"] = None
    assert parse_ws_frame(json.dumps(book)) == parse_ws_frame(BOOK_SIMPLE)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (_edit(TRADE, trade_price="104862000"), "trade.trade_price: Input should be a JSON number"),
        (_edit(TRADE, trade_volume=True), "trade.trade_volume: Input should be a JSON number"),
        (
            _edit(TRADE, sequential_id="17732781281500000"),
            "trade.sequential_id: Input should be a valid integer",
        ),
        (_edit(TRADE, sequential_id=1.5), "trade.sequential_id: Input should be a valid integer"),
        (_edit(TRADE, timestamp=-1), "trade.timestamp: Input should be greater than or equal to 0"),
        (_edit(TRADE, ask_bid="SELL"), "trade.ask_bid: Input should be 'ASK' or 'BID'"),
        (_edit(TRADE, trade_date="20260312"), "trade.trade_date: String should match pattern"),
        (_edit(TRADE, trade_time="011528"), "trade.trade_time: String should match pattern"),
        (_edit(TRADE, code=7), "trade.code: Input should be a valid string"),
        (_edit(TRADE_SIMPLE, tp="1"), "trade.tp: Input should be a JSON number"),
        (TRADE.replace('"sequential_id":17732781281500000,', ""), "trade.sequential_id: field required"),
        (
            BOOK_SIMPLE.replace('"ap":104862000.0', '"ap":"104862000.0"'),
            "orderbook.obu.0.ap: Input should be a JSON",
        ),
        (BOOK_SIMPLE.replace('"obu":[', '"obu":[1,'), "orderbook.obu.0: Input should be a valid dictionary"),
    ],
)
def test_wrong_types_are_refused_naming_the_field(raw: str, reason: str) -> None:
    with pytest.raises(FrameError) as caught:
        parse_ws_frame(raw)
    assert caught.value.reason.startswith(reason), caught.value.reason
    assert isinstance(caught.value, ValueError)


def test_ticker_and_trade_date_formats_differ(ws_lines: dict[str, list[bytes]]) -> None:
    ticker = ws_lines["ws-ticker.jsonl"][0].decode()
    assert isinstance(parse_ws_frame(ticker), WsTicker)  # yyyyMMdd / HHmmss (pitfall 1)
    with pytest.raises(FrameError, match=r"ticker\.trade_date: String should match pattern"):
        parse_ws_frame(_edit(ticker, trade_date="2026-03-12"))
    with pytest.raises(FrameError, match=r"ticker\.trade_time: String should match pattern"):
        parse_ws_frame(_edit(ticker, trade_time="01:15:28"))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"type":"trade"', "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b'{"type":"trade","trade_price":NaN}', "not valid JSON: NaN is not a JSON number"),
        (b"[1, 2]", "frame is a JSON array (JSON_LIST/SIMPLE_LIST formats are not supported)"),
        (b"42", "frame is a JSON scalar"),
        (b'{"type":"pong"}', "unknown frame type 'pong'"),
        (b'{"type":7}', "unknown frame type 7"),
        (b'{"hello":"world"}', "not an Upbit frame"),
        (b"", "not valid JSON"),
    ],
)
def test_frames_that_are_not_upbit_frames(raw: bytes, reason: str) -> None:
    with pytest.raises(FrameError) as caught:
        parse_ws_frame(raw)
    assert caught.value.reason.startswith(reason), caught.value.reason


def test_orderbook_depth_suffix_is_split_from_the_market() -> None:
    book = parse_ws_frame(BOOK_SIMPLE)
    assert isinstance(book, WsOrderbook)
    assert (book.code, book.market, book.depth) == ("KRW-BTC.1", "KRW-BTC", 1)
    assert record_from_ws(book, received_ms=5).market == "KRW-BTC"
    plain = parse_ws_frame(BOOK_SIMPLE.replace("KRW-BTC.1", "KRW-BTC"))
    assert isinstance(plain, WsOrderbook)
    assert (plain.market, plain.depth) == ("KRW-BTC", None)


def test_orderbook_level_defaults_to_the_native_tick() -> None:
    book = parse_ws_frame(BOOK_SIMPLE.replace(',"lv":0', ""))
    assert isinstance(book, WsOrderbook)
    assert book.level == 0


def test_control_frames(ws_frames: dict[str, list[WsFrame]]) -> None:
    status, subscriptions, invalid, no_codes = ws_frames["ws-control.jsonl"]
    assert status == WsStatus(status="UP")
    assert isinstance(subscriptions, WsListSubscriptions)
    assert [s.type for s in subscriptions.result] == ["ticker", "trade", "orderbook"]
    assert subscriptions.result[2].level == 0
    assert subscriptions.ticket == "6c1d0f7e-2b0a-4b8e-9a57-1f3c2b9e4d10"
    assert isinstance(invalid, WsError)
    assert (invalid.error.name, no_codes.error.name) == ("INVALID_PARAM", "NO_CODES")  # type: ignore[union-attr]
    with pytest.raises(FrameError, match=r"error\.error\.message: field required"):
        parse_ws_frame(b'{"error":{"name":"NO_TYPE"}}')


def test_candle_frames(ws_frames: dict[str, list[WsFrame]]) -> None:
    candles = ws_frames["ws-candle.jsonl"]
    assert all(isinstance(c, WsCandle) and c.market == "KRW-BTC" for c in candles)
    last = candles[-1]
    assert isinstance(last, WsCandle)
    assert last.candle_acc_trade_volume == Decimal("0.0004769")
    with pytest.raises(FrameError, match=r"candle\.type: String should match pattern"):
        parse_ws_frame(b'{"type":"candle.week","code":"KRW-BTC"}')


def test_encode_round_trips_every_sample_in_both_formats(ws_frames: dict[str, list[WsFrame]]) -> None:
    count = 0
    for frames in ws_frames.values():
        for frame in frames:
            assert parse_ws_frame(encode_ws_frame(frame)) == frame
            assert parse_ws_frame(encode_ws_frame(frame, simple=True)) == frame
            count += 1
    assert count == 50


def test_encoded_frames_are_the_wire_text(ws_lines: dict[str, list[bytes]]) -> None:
    for line in [*ws_lines["ws-trade.jsonl"], *ws_lines["ws-ticker.jsonl"], *ws_lines["ws-orderbook.jsonl"]]:
        assert loads_exact(encode_ws_frame(parse_ws_frame(line))) == loads_exact(line)
    for default, simple in zip(
        [line for line in ws_lines["ws-ticker.jsonl"] if b"KRW-XRP" not in line],
        ws_lines["ws-ticker-simple.jsonl"],
        strict=True,
    ):
        assert loads_exact(encode_ws_frame(parse_ws_frame(default), simple=True)) == loads_exact(simple)
    encoded = encode_ws_frame(parse_ws_frame(TRADE))  # numbers keep their exact text
    assert b'"trade_price":104862000.0,' in encoded
    assert b'"sequential_id":17732781281500000,' in encoded
    assert b'"best_bid_size":0.14029487,' in encoded


def test_validating_raw_json_with_pydantic_fails_loudly_instead_of_rounding() -> None:
    # pydantic's JSON parser would read 0.00412 as a float; the models refuse rather than round.
    with pytest.raises(
        ValidationError, match=r"must be parsed with cryptoflow_contracts\.decimals\.loads_exact"
    ):
        WsTrade.model_validate_json(TRADE)


def test_frames_are_immutable() -> None:
    trade = parse_ws_frame(TRADE)
    assert isinstance(trade, WsTrade)
    with pytest.raises(ValidationError, match="Instance is frozen"):
        trade.code = "KRW-ETH"  # type: ignore[misc]
