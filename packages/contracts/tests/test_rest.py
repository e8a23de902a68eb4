"""REST response models, the error body and the Remaining-Req header."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cryptoflow_contracts.errors import ResponseError
from cryptoflow_contracts.rest import (
    RemainingReq,
    RestCandleDay,
    RestCandleMinute,
    RestCandleMonth,
    RestCandleSecond,
    RestCandleWeek,
    RestCandleYear,
    RestMarket,
    RestOrderbook,
    RestOrderbookInstrument,
    RestTicker,
    RestTradeTick,
    parse_rest_error,
    parse_rest_list,
)

CANDLE = (
    '"market":"KRW-BTC","candle_date_time_utc":"2026-03-09T00:00:00","candle_date_time_kst":"2026-03-09T09:00:00",'
    '"opening_price":101907000.0,"high_price":104100000.0,"low_price":101350000.0,"trade_price":103388000.0,'
    '"timestamp":1773187199412,"candle_acc_trade_price":341207554973.80414,"candle_acc_trade_volume":3315.82716055'
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("group=ticker; min=1800; sec=29", RemainingReq(group="ticker", sec=29, min=1800)),
        ("group=crix-trades; min=599; sec=9", RemainingReq(group="crix-trades", sec=9, min=599)),
        ("group=candles;sec=0", RemainingReq(group="candles", sec=0)),
        ("  group = market ;  sec = 7 ; ", RemainingReq(group="market", sec=7)),
        ("sec=3; group=orderbook; min=1; extra=ignored", RemainingReq(group="orderbook", sec=3, min=1)),
    ],
)
def test_remaining_req_parses(header: str, expected: RemainingReq) -> None:
    assert RemainingReq.parse(header) == expected


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "no group"),
        ("min=1; sec=2", "no group"),
        ("group=ticker; min=1", "no sec"),
        ("group=ticker; sec=-1", "sec='-1' is not a non-negative integer"),
        ("group=ticker; sec=²", "is not a non-negative integer"),
        ("group=ticker; sec=1; min=x", "min='x' is not a non-negative integer"),
        ("group=ticker; garbage", "'garbage' is not key=value"),
    ],
)
def test_remaining_req_refuses_malformed_headers(header: str, reason: str) -> None:
    with pytest.raises(ResponseError, match=reason):
        RemainingReq.parse(header)


def test_market_all_with_market_event(rest_bytes: dict[str, bytes]) -> None:
    markets = {m.market: m for m in parse_rest_list(rest_bytes["rest-market-all.json"], RestMarket)}
    fake = markets["KRW-FAKE"]
    assert fake.is_warning
    assert fake.market_event is not None
    assert fake.market_event.caution.trading_volume_soaring
    assert fake.market_event.caution.concentration_of_small_accounts
    assert fake.market_event.caution.flagged
    assert not markets["KRW-BTC"].is_warning
    assert markets["KRW-BTC"].korean_name == "비트코인"
    assert {m.quote_currency for m in markets.values()} == {"KRW", "BTC", "USDT"}


def test_market_all_before_market_event_still_decodes() -> None:
    old = parse_rest_list(
        '[{"market":"KRW-ADA","korean_name":"에이다","english_name":"Ada","market_warning":"CAUTION"},'
        '{"market":"KRW-BTC","korean_name":"비트코인","english_name":"Bitcoin","market_warning":"NONE"},'
        '{"market":"KRW-ETH","korean_name":"이더리움","english_name":"Ethereum"}]',
        RestMarket,
    )
    assert [m.is_warning for m in old] == [True, False, False]
    assert old[0].market_event is None


def test_rest_ticker_has_no_ws_only_fields(rest_bytes: dict[str, bytes]) -> None:
    tickers = parse_rest_list(rest_bytes["rest-ticker.json"], RestTicker)
    xrp = tickers[2]
    assert (xrp.change, xrp.change_price, xrp.signed_change_price) == ("FALL", Decimal(16), Decimal(-16))
    assert xrp.trade_date_kst == "20260312"
    assert xrp.trade_time_kst == "101531"


def test_trade_ticks_change_price_is_signed() -> None:
    tick = parse_rest_list(
        '[{"market":"KRW-XRP","trade_date_utc":"2026-03-12","trade_time_utc":"01:15:31","timestamp":1773278131322,'
        '"trade_price":2071.0,"trade_volume":48.28967742,"prev_closing_price":2087.0,"change_price":-16.0,'
        '"ask_bid":"ASK","sequential_id":17732781313220000}]',
        RestTradeTick,
    )[0]
    assert tick.change_price == Decimal("-16.0")


def test_candle_variants() -> None:
    second = parse_rest_list(f"[{{{CANDLE}}}]", RestCandleSecond)[0]
    assert second.trade_price == Decimal("103388000.0")
    minute = parse_rest_list(f'[{{{CANDLE},"unit":240}}]', RestCandleMinute)[0]
    assert minute.unit == 240
    with pytest.raises(ResponseError, match=r"RestCandleMinute\[0\]\.unit: field required"):
        parse_rest_list(f"[{{{CANDLE}}}]", RestCandleMinute)
    day = parse_rest_list(f"[{{{CANDLE}}}]", RestCandleDay)[0]  # the day extras are optional
    assert (day.prev_closing_price, day.change_price, day.change_rate, day.converted_trade_price) == (
        None,
    ) * 4
    converted = parse_rest_list(f'[{{{CANDLE},"converted_trade_price":103388000.0}}]', RestCandleDay)[0]
    assert converted.converted_trade_price == Decimal("103388000.0")
    models: tuple[type[RestCandleWeek | RestCandleMonth | RestCandleYear], ...] = (
        RestCandleWeek,
        RestCandleMonth,
        RestCandleYear,
    )
    for model in models:
        candle = parse_rest_list(f'[{{{CANDLE},"first_day_of_period":"2026-03-09"}}]', model)[0]
        assert candle.first_day_of_period == "2026-03-09"
        with pytest.raises(ResponseError, match="first_day_of_period: field required"):
            parse_rest_list(f"[{{{CANDLE}}}]", model)


def test_orderbook_instruments_sends_decimals_as_strings() -> None:
    instrument = parse_rest_list(
        '[{"market":"KRW-BTC","quote_currency":"KRW","tick_size":"1000",'
        '"supported_levels":["0","10000","100000","1000000","10000000"]}]',
        RestOrderbookInstrument,
    )[0]
    assert instrument.tick_size == Decimal(1000)
    assert instrument.supported_levels[1] == Decimal(10000)
    with pytest.raises(ResponseError, match=r"tick_size: Input should be a decimal"):
        parse_rest_list(
            '[{"market":"KRW-BTC","tick_size":"abc","supported_levels":[]}]', RestOrderbookInstrument
        )


def test_orderbook_integers_and_floats_are_the_same_decimals(rest_bytes: dict[str, bytes]) -> None:
    book = parse_rest_list(rest_bytes["rest-orderbook.json"], RestOrderbook)[0]
    assert str(book.orderbook_units[0].ask_price) == "104862000"  # integer-looking in REST (pitfall 3)
    assert book.orderbook_units[0].ask_price == Decimal("104862000.0")


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ('{"error":{"name":404,"message":"Code not found"}}', 404),
        ('{"error":{"name":"invalid_query_payload","message":"bad"}}', "invalid_query_payload"),
    ],
)
def test_error_body(body: str, name: int | str) -> None:
    error = parse_rest_error(body)
    assert error.error.name == name


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>502</html>", "not valid JSON"),
        (b'{"error":{"message":"x"}}', "RestError.error.name: field required"),
        (b'{"error":{"name":1.5,"message":"x"}}', "RestError.error.name"),
    ],
)
def test_error_body_that_does_not_decode(body: bytes, reason: str) -> None:
    with pytest.raises(ResponseError, match=reason):
        parse_rest_error(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"market":"KRW-BTC"}', "expected a JSON array of RestTicker, got dict"),
        (b"[1]", r"RestTicker\[0\]: Input should be a valid dictionary"),
        (b'[{"market":"KRW-BTC"}]', r"RestTicker\[0\]\.trade_date: field required"),
    ],
)
def test_lists_that_do_not_decode(body: bytes, reason: str) -> None:
    with pytest.raises(ResponseError, match=reason):
        parse_rest_list(body, RestTicker)
