"""Price grids: Upbit's tick (order price unit) tables per quote currency, and moves along them.

KRW: the table in force since 2025-07-31. BTC: one satoshi everywhere. USDT: the table in force since
2024-08-19. Prices are normalized `Decimal`s (no trailing zeros), so products stay short.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

# (lower bound inclusive, tick), highest band first.
_KRW: tuple[tuple[Decimal, Decimal], ...] = tuple(
    (Decimal(lo), Decimal(tick))
    for lo, tick in (
        ("1000000", "1000"),  # also >= 2,000,000
        ("500000", "500"),
        ("100000", "100"),
        ("50000", "50"),
        ("10000", "10"),
        ("5000", "5"),
        ("100", "1"),  # 1,000-5,000 and 100-1,000 are both 1 KRW
        ("10", "0.1"),
        ("1", "0.01"),
        ("0.1", "0.001"),
        ("0.01", "0.0001"),
        ("0.001", "0.00001"),
        ("0.0001", "0.000001"),
        ("0.00001", "0.0000001"),
        ("0", "0.00000001"),
    )
)
_USDT: tuple[tuple[Decimal, Decimal], ...] = tuple(
    (Decimal(lo), Decimal(tick))
    for lo, tick in (
        ("10", "0.01"),
        ("1", "0.001"),
        ("0.1", "0.0001"),
        ("0.01", "0.00001"),
        ("0.001", "0.000001"),
        ("0.0001", "0.0000001"),
        ("0", "0.00000001"),
    )
)
_BTC: tuple[tuple[Decimal, Decimal], ...] = ((Decimal(0), Decimal("0.00000001")),)
_TABLES = {"KRW": _KRW, "BTC": _BTC, "USDT": _USDT}
SATOSHI = Decimal("0.00000001")


def tick_size(quote: str, price: Decimal) -> Decimal:
    """The tick of the band that `price` lies in (`price` itself may be off the grid)."""
    for lo, tick in _TABLES[quote]:
        if price >= lo:
            return tick
    return _TABLES[quote][-1][1]


def _tick_below(quote: str, price: Decimal) -> Decimal:
    """The tick just under `price` (a step down from a band's lower bound uses the band below)."""
    for lo, tick in _TABLES[quote]:
        if price > lo:
            return tick
    return _TABLES[quote][-1][1]


def round_to_tick(quote: str, price: Decimal, *, up: bool = False) -> Decimal:
    """Snap a price onto the grid (down by default), never below one minimal tick."""
    tick = tick_size(quote, price)
    steps = (price / tick).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    snapped = (steps * tick).normalize()
    return snapped if snapped > 0 else tick_size(quote, SATOSHI)


def step_up(quote: str, price: Decimal, n: int = 1) -> Decimal:
    """`n` ticks above an on-grid price, crossing band boundaries correctly."""
    for _ in range(n):
        price = (price + tick_size(quote, price)).normalize()
        # landing in a coarser band: snap up onto its grid
        price = round_to_tick(quote, price, up=True)
    return price


def step_down(quote: str, price: Decimal, n: int = 1) -> Decimal:
    """`n` ticks below an on-grid price; stops at the smallest positive grid price."""
    for _ in range(n):
        lower = (price - _tick_below(quote, price)).normalize()
        if lower <= 0:
            return price
        price = lower
    return price


def on_grid(quote: str, price: Decimal) -> bool:
    return price > 0 and price % tick_size(quote, price) == 0


def supported_levels(quote: str, price: Decimal) -> list[Decimal]:
    """Orderbook grouping units (`level`): KRW only, 0 and powers of ten of the tick (as Upbit lists them)."""
    if quote != "KRW":
        return [Decimal(0)]
    tick = tick_size(quote, price)
    return [Decimal(0)] + [(tick * Decimal(10) ** k).normalize() for k in range(1, 6)]
