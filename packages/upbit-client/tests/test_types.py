"""Pure logic: candle units, time formats, exact decimals from raw bodies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from cryptoflow_contracts.rest import RemainingReq, RestTicker
from cryptoflow_upbit_client import CandlePage, CandleUnit, RestResponse, format_to, parse_utc


@pytest.mark.parametrize(
    ("text", "name", "step"),
    [
        ("days", "candles/days", dt.timedelta(days=1)),
        ("1d", "candles/days", dt.timedelta(days=1)),
        ("candles/days", "candles/days", dt.timedelta(days=1)),
        ("minutes/1", "candles/minutes/1", dt.timedelta(minutes=1)),
        ("1m", "candles/minutes/1", dt.timedelta(minutes=1)),
        ("candles/minutes/240", "candles/minutes/240", dt.timedelta(hours=4)),
        ("seconds", "candles/seconds", dt.timedelta(seconds=1)),
        ("weeks", "candles/weeks", dt.timedelta(weeks=1)),
        ("months", "candles/months", None),
    ],
)
def test_candle_units_parse(text: str, name: str, step: dt.timedelta | None) -> None:
    unit = CandleUnit.parse(text)
    assert unit.name == name
    assert unit.path == f"/v1/{name}"
    assert unit.step == step


@pytest.mark.parametrize("text", ["minutes", "minutes/2", "7m", "hours", ""])
def test_candle_units_refuse_unknown(text: str) -> None:
    with pytest.raises(ValueError, match=r"unit|minutes"):
        CandleUnit.parse(text)


def test_to_is_utc_without_offset() -> None:
    kst = dt.timezone(dt.timedelta(hours=9))
    assert format_to(dt.datetime(2026, 3, 12, 9, 0, tzinfo=kst)) == "2026-03-12T00:00:00"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_to(dt.datetime(2026, 3, 12))  # the point of the test
    assert parse_utc("2026-03-12T01:15:00") == dt.datetime(2026, 3, 12, 1, 15, tzinfo=dt.UTC)


def _response(body: bytes) -> RestResponse:
    return RestResponse(
        path="/v1/ticker", params={}, status=200, content=body, remaining=None, received_at_ms=0
    )


def test_json_keeps_every_digit_as_decimal(upbit_samples: Path) -> None:
    raw = (upbit_samples / "rest-ticker.json").read_bytes()
    response = _response(raw)
    assert response.text == raw.decode()
    first = response.json()[0]
    assert isinstance(first["trade_price"], Decimal)
    assert not any(isinstance(v, float) for row in response.json() for v in row.values())
    # digits beyond a float's precision survive
    exact = _response(b'[{"p": 0.12345678901234567, "q": 123.00000000}]').json()[0]
    assert str(exact["p"]) == "0.12345678901234567"
    assert str(exact["q"]) == "123.00000000"


def test_models_decode_with_contracts(upbit_samples: Path) -> None:
    tickers = _response((upbit_samples / "rest-ticker.json").read_bytes()).models(RestTicker)
    assert [t.market for t in tickers] == ["KRW-BTC", "KRW-ETH", "KRW-XRP"]
    assert all(isinstance(t.trade_price, Decimal) for t in tickers)


def test_candle_page_bounds() -> None:
    starts = (dt.datetime(2026, 3, 2, tzinfo=dt.UTC), dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    page = CandlePage(_response(b"[]"), starts)
    assert page.oldest == starts[1]
    assert page.newest == starts[0]
    assert CandlePage(_response(b"[]")).oldest is None


def test_remaining_req_comes_from_contracts() -> None:
    parsed = RemainingReq.parse("group=candles; min=600; sec=9")
    assert (parsed.group, parsed.sec) == ("candles", 9)
