"""Pure logic: indicator math, time parsing, rate parsing, market codes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer

from cryptoflow_service.analysis.scoring import trend_score
from cryptoflow_service.common.fields import fixed, significant
from cryptoflow_service.common.markets import normalize_market, quote_of
from cryptoflow_service.common.renderers import FastJSONRenderer
from cryptoflow_service.common.timeutils import iso, parse_time, to_ms
from cryptoflow_service.config import parse_rate

D = Decimal


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("104862345.678", "104862350"),
        ("104862349.999", "104862350"),
        ("99.123456789", "99.123457"),
        ("0.0000123456789", "0.000012345679"),
        ("-1234.56789012", "-1234.5679"),
        ("5", "5"),
        ("5.000000000000", "5"),
        ("0", "0"),
        ("0E-10", "0"),
        ("1E+12", "1000000000000"),
        ("12.5", "12.5"),
        ("0.125000005", "0.125"),  # half-even: the 8th digit (0) stays
    ],
)
def test_price_scale_values_keep_8_significant_digits(value: str, text: str) -> None:
    assert significant(D(value)) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [("65.0949", "65.09"), ("65.095", "65.10"), ("100", "100.00"), ("-1.234", "-1.23"), ("0E-10", "0.00")],
)
def test_ratios_keep_2_decimals(value: str, text: str) -> None:
    assert fixed(D(value)) == text


def test_trend_score() -> None:
    strong = trend_score(
        close=D(120), ma_5=D(118), ma_20=D(110), ma_60=D(100), rsi_14=D(62), change_percent_20d=D(25)
    )
    assert strong.trend == "up"
    assert strong.top_pick
    assert strong.score > D(95)
    weak = trend_score(
        close=D(80), ma_5=D(85), ma_20=D(90), ma_60=D(100), rsi_14=D(15), change_percent_20d=D(-20)
    )
    assert weak.trend == "down"
    assert not weak.top_pick
    assert weak.score == D(0)
    young = trend_score(close=D(10), ma_5=D(9), ma_20=D(8), ma_60=None, rsi_14=None, change_percent_20d=None)
    assert young.trend == "up"
    assert not young.top_pick


def test_time_parsing() -> None:
    moment = datetime(2026, 3, 12, 1, 15, 25, 123000, tzinfo=UTC)
    assert parse_time("1773278125123") == moment
    assert parse_time("2026-03-12T01:15:25.123Z") == moment
    assert parse_time("2026-03-12T10:15:25.123+09:00") == moment
    assert parse_time("2026-03-12") == datetime(2026, 3, 12, tzinfo=UTC)
    assert to_ms(moment) == 1773278125123
    assert iso(moment) == "2026-03-12T01:15:25.123Z"
    for bad in ("", "yesterday", "99999999999999999999", "-5", "2026-13-01", "0001-01-01T00:00:00+01:00"):
        with pytest.raises(ValueError, match=r"epoch milliseconds|out of range"):
            parse_time(bad)


def test_rates_and_market_codes() -> None:
    assert parse_rate("600/min") == (600, 60)
    assert parse_rate("off") is None
    for bad in ("600", "0/min", "x/min", "5/fortnight"):
        with pytest.raises(ValueError, match="not a rate"):
            parse_rate(bad)
    assert normalize_market(" krw-btc ") == "KRW-BTC"
    assert normalize_market("KRW_BTC") is None
    assert normalize_market("KRW-\x00") is None
    assert quote_of("USDT-ETH") == "USDT"


RENDER_CASES = [
    {"market": "KRW-BTC", "age_ms": 0, "max_age_ms": None, "big": 2**63 - 1, "ok": True, "results": [{}, []]},
    {
        "detail": ErrorDetail(
            'bad ünïcode 비트코인 \u2028 line \u2029 para " \\ \n \x00 </script>', code="invalid"
        )
    },
    [{"nested": {"deep": ["a", 1, None]}}],
    {"when": datetime(2026, 3, 12, 1, 15, 25, 123456, tzinfo=UTC), "huge": 2**70},  # DRF's encoder decides
    {},
]


@pytest.mark.parametrize("data", RENDER_CASES)
@pytest.mark.parametrize("accept", [None, "application/json", "application/json; indent=4"])
def test_fast_json_renderer_writes_the_same_bytes_as_drf(data: object, accept: str | None) -> None:
    expected = JSONRenderer().render(data, accept, {})
    assert FastJSONRenderer().render(data, accept, {}) == expected
