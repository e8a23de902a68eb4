"""The KRW tick-size table in force since 2025-07-31."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Decimal

import pytest

from cryptoflow_contracts.ticks import is_on_krw_tick, krw_tick_size, round_to_krw_tick


@pytest.mark.parametrize(
    ("price", "tick"),
    [
        ("104862000", "1000"),  # KRW-BTC
        ("3151000", "1000"),  # KRW-ETH
        ("2000000", "1000"),
        ("1999999", "1000"),  # 500 before 2025-07-31
        ("1000000", "1000"),
        ("999999", "500"),
        ("500000", "500"),
        ("499999", "100"),
        ("100000", "100"),
        ("99999", "50"),
        ("50000", "50"),
        ("49999", "10"),
        ("10000", "10"),
        ("9999", "5"),
        ("5000", "5"),
        ("4999", "1"),
        ("2071", "1"),  # KRW-XRP
        ("1000", "1"),
        ("999.9", "1"),
        ("100", "1"),
        ("99.99", "0.1"),
        ("10", "0.1"),
        ("9.999", "0.01"),
        ("1", "0.01"),
        ("0.9999", "0.001"),
        ("0.1", "0.001"),
        ("0.09", "0.0001"),
        ("0.01", "0.0001"),
        ("0.009", "0.00001"),
        ("0.001", "0.00001"),
        ("0.0009", "0.000001"),
        ("0.0001", "0.000001"),
        ("0.00009", "0.0000001"),
        ("0.00001", "0.0000001"),
        ("0.000009", "0.00000001"),
        ("0", "0.00000001"),
    ],
)
def test_tick_size_by_band(price: str, tick: str) -> None:
    assert krw_tick_size(Decimal(price)) == Decimal(tick)
    assert krw_tick_size(price) == Decimal(tick)


def test_integers_are_accepted() -> None:
    assert krw_tick_size(104862000) == 1000


@pytest.mark.parametrize("bad", [1.5, True])
def test_floats_are_refused(bad: object) -> None:
    with pytest.raises(TypeError, match="never a float"):
        krw_tick_size(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["-1", Decimal("NaN"), "Infinity"])
def test_negative_and_non_finite_prices_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="finite, non-negative"):
        krw_tick_size(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("price", "on_grid"),
    [
        ("104862000", True),
        ("104862500", False),
        ("7005", True),
        ("7003", False),
        ("2071", True),
        ("2071.5", False),
        ("12.3", True),
        ("12.34", False),
    ],
)
def test_is_on_krw_tick(price: str, on_grid: bool) -> None:
    assert is_on_krw_tick(price) is on_grid


def test_round_to_krw_tick() -> None:
    assert round_to_krw_tick("104862499") == Decimal("104862000")
    assert round_to_krw_tick("104862501") == Decimal("104863000")
    assert round_to_krw_tick("7003", rounding=ROUND_UP) == Decimal("7005")
    assert round_to_krw_tick("12.39", rounding=ROUND_DOWN) == Decimal("12.3")
    assert round_to_krw_tick("9999.9", rounding=ROUND_UP) == Decimal(
        "10000"
    )  # into the next band, still on grid
    assert is_on_krw_tick(round_to_krw_tick("9999.9", rounding=ROUND_UP))
