"""Upbit KRW-market tick sizes (주문 가격 단위), per the table in force since 2025-07-31.

The table is the general rule; `GET /v1/orderbook/instruments` (`tick_size`) is authoritative per market
(Upbit has had per-market exceptions, e.g. USDT-KRW and USDC-KRW in the 1,000-10,000 KRW band).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["KRW_TICK_TABLE", "is_on_krw_tick", "krw_tick_size", "round_to_krw_tick"]

# (lowest price of the band, tick size), highest band first.
KRW_TICK_TABLE: tuple[tuple[Decimal, Decimal], ...] = tuple(
    (Decimal(low), Decimal(tick))
    for low, tick in (
        ("1000000", "1000"),  # 1,000,000-2,000,000 and >= 2,000,000 are both 1,000 since 2025-07-31
        ("500000", "500"),
        ("100000", "100"),
        ("50000", "50"),
        ("10000", "10"),
        ("5000", "5"),
        ("100", "1"),  # 100-1,000 and 1,000-5,000
        ("10", "0.1"),
        ("1", "0.01"),
        ("0.1", "0.001"),
        ("0.01", "0.0001"),
        ("0.001", "0.00001"),
        ("0.0001", "0.000001"),
        ("0.00001", "0.0000001"),
    )
)
_SMALLEST_TICK = Decimal("0.00000001")


def _as_decimal(price: Decimal | int | str) -> Decimal:
    if isinstance(price, float | bool):
        raise TypeError("price must be a Decimal, int or str, never a float")
    value = Decimal(price)
    if not value.is_finite() or value < 0:
        raise ValueError(f"price must be a finite, non-negative number, got {price!r}")
    return value


def krw_tick_size(price: Decimal | int | str) -> Decimal:
    """The tick size of a KRW-market price, e.g. `krw_tick_size(Decimal("104862000")) == Decimal("1000")`."""
    value = _as_decimal(price)
    for low, tick in KRW_TICK_TABLE:
        if value >= low:
            return tick
    return _SMALLEST_TICK


def is_on_krw_tick(price: Decimal | int | str) -> bool:
    """Whether `price` is a multiple of its band's tick size."""
    value = _as_decimal(price)
    return value % krw_tick_size(value) == 0


def round_to_krw_tick(price: Decimal | int | str, *, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """`price` rounded to a multiple of its band's tick size (`decimal` rounding mode, e.g. ROUND_DOWN)."""
    value = _as_decimal(price)
    tick = krw_tick_size(value)
    return (value / tick).to_integral_value(rounding=rounding) * tick
