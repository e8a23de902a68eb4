"""Pure logic: indicator math, time parsing, rate parsing, market codes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer

from cryptoflow_service.analysis import indicators
from cryptoflow_service.common.markets import normalize_market, quote_of
from cryptoflow_service.common.renderers import FastJSONRenderer
from cryptoflow_service.common.timeutils import iso, parse_time, to_ms
from cryptoflow_service.config import parse_rate

D = Decimal


def closes(*values: int | str) -> list[Decimal]:
    return [D(value) for value in values]


def test_golden_cross_is_found_on_the_candle_where_the_short_ma_moves_above() -> None:
    series = closes(10, 10, 10, 9, 8, 8, 9, 12, 14)
    found = indicators.crosses(series, 2, 4)
    assert [(c.index, c.kind) for c in found] == [(7, "golden_cross")]
    assert found[0].short_ma == D("10.5")
    assert found[0].long_ma == D("9.25")


def test_dead_cross_and_a_touch_that_is_not_a_cross() -> None:
    falling = closes(10, 11, 12, 13, 14, 12, 9, 7)
    assert [(c.index, c.kind) for c in indicators.crosses(falling, 2, 4)] == [(6, "dead_cross")]
    # The short MA touches the long one (equal) and goes back up: no cross either way.
    touch = closes(1, 2, 3, 4, 5, 6, "5.5", 8)
    sides = [c.kind for c in indicators.crosses(touch, 1, 3)]
    assert sides == []


def test_crossing_through_a_tie_counts_once() -> None:
    # short (window 1) vs long (window 3): above, below (a dead cross), equal, above (one golden cross).
    series = closes(6, 8, 12, 8, 10, 12)
    found = indicators.crosses(series, 1, 3)
    assert [(c.index, c.kind) for c in found] == [(3, "dead_cross"), (5, "golden_cross")]


def test_crosses_need_ordered_windows() -> None:
    with pytest.raises(ValueError, match="short < long"):
        indicators.crosses(closes(1, 2, 3), 3, 3)


def test_sma_rsi_atr() -> None:
    assert indicators.sma(closes(1, 2, 3, 4), 2) == D("3.5")
    assert indicators.sma(closes(1), 2) is None
    assert indicators.rsi(closes(*range(1, 16))) == D(100)
    assert indicators.rsi(closes(*([5] * 15))) == D(50)
    assert indicators.rsi(closes(*range(1, 10))) is None
    # Alternating +1/-1 changes: equal average gain and loss -> RSI 50 (Wilder smoothing keeps it close).
    value = indicators.rsi(closes(*[10 + (i % 2) for i in range(30)]))
    assert value is not None
    assert D(45) < value < D(55)
    highs, lows, cl = closes(*[12] * 16), closes(*[10] * 16), closes(*[11] * 16)
    assert indicators.atr(highs, lows, cl) == D(2)
    assert indicators.atr(highs[:5], lows[:5], cl[:5]) is None


def test_trend_score() -> None:
    strong = indicators.trend_score(
        close=D(120), ma_5=D(118), ma_20=D(110), ma_60=D(100), rsi_14=D(62), change_percent_20d=D(25)
    )
    assert strong.trend == "up"
    assert strong.top_pick
    assert strong.score > D(95)
    weak = indicators.trend_score(
        close=D(80), ma_5=D(85), ma_20=D(90), ma_60=D(100), rsi_14=D(15), change_percent_20d=D(-20)
    )
    assert weak.trend == "down"
    assert not weak.top_pick
    assert weak.score == D(0)
    young = indicators.trend_score(
        close=D(10), ma_5=D(9), ma_20=D(8), ma_60=None, rsi_14=None, change_percent_20d=None
    )
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
