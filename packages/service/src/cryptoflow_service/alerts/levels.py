"""Level rules: a market's price, 24 h change or RSI crossing a level fires the rule once per crossing.

Each rule keeps whether it is `armed` (see `AlertRule.armed`). An evaluation observes every watched
market once, then per rule: condition false -> armed; condition true while armed -> fire and disarm, in
one conditional UPDATE, so of two evaluators racing exactly one fires (and the alert's unique
`(rule, crossing)` backs that up); condition true while disarmed -> nothing (it fired already, or it was
true when the rule was made: a crossing needs the condition to have been false first).

Price rules read the live Redis tickers (Beat runs `evaluate_live` every couple of seconds); 24 h change
and RSI rules read the marts (`mart.market_stats_24h`, `mart.indicators`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F

from cryptoflow_service.alerts.models import (
    LIVE_LEVEL_KINDS,
    MART_LEVEL_KINDS,
    Alert,
    AlertRule,
    Delivery,
    DeliveryStatus,
    RuleKind,
)
from cryptoflow_service.common.fields import decimal_string
from cryptoflow_service.common.timeutils import from_ms, iso
from cryptoflow_service.live import selectors as live
from cryptoflow_service.marts import selectors as marts

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Observation:
    value: Decimal
    at: datetime


Observer = Callable[[list[str]], dict[str, Observation]]


def _decimal(text: object) -> Decimal | None:
    try:
        number = Decimal(str(text))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def live_prices(markets: list[str]) -> dict[str, Observation]:
    """The last trade price of each market's live ticker (Redis)."""
    found: dict[str, Observation] = {}
    for ticker in live.tickers(markets=markets):
        price = _decimal(ticker.get("trade_price"))
        stamp = ticker.get("trade_timestamp") or ticker.get("timestamp")
        if price is not None:
            found[ticker["market"]] = Observation(price, from_ms(stamp) if stamp else datetime.now(UTC))
    return found


def changes_24h(markets: list[str]) -> dict[str, Observation]:
    """Each market's 24 h change in % from its newest mart.market_stats_24h snapshot."""
    found: dict[str, Observation] = {}
    for row in marts.latest_stats().filter(market__in=markets):
        if row.signed_change_rate is not None:
            found[row.market] = Observation((row.signed_change_rate * 100).normalize(), row.snapshot_at)
    return found


def daily_rsi(markets: list[str]) -> dict[str, Observation]:
    """Each market's RSI 14 on its newest closed day of mart.indicators."""
    latest = marts.recent_indicators(interval="1d", count=1, closed_before=datetime.now(UTC), markets=markets)
    found: dict[str, Observation] = {}
    for market, (row,) in latest.items():
        if row.rsi_14 is not None:
            day = row.day  # type: ignore[attr-defined]  # a daily row
            found[market] = Observation(row.rsi_14, datetime(day.year, day.month, day.day, tzinfo=UTC))
    return found


OBSERVERS: Mapping[str, Observer] = {
    RuleKind.PRICE_CROSSES_ABOVE: live_prices,
    RuleKind.PRICE_CROSSES_BELOW: live_prices,
    RuleKind.CHANGE_24H_BEYOND: changes_24h,
    RuleKind.RSI_ABOVE: daily_rsi,
    RuleKind.RSI_BELOW: daily_rsi,
}


def holds(kind: str, value: Decimal, level: Decimal) -> bool:
    """Whether a level rule's condition is true for `value`."""
    if kind in (RuleKind.PRICE_CROSSES_ABOVE, RuleKind.RSI_ABOVE):
        return value > level
    if kind in (RuleKind.PRICE_CROSSES_BELOW, RuleKind.RSI_BELOW):
        return value < level
    if kind == RuleKind.CHANGE_24H_BEYOND:
        return abs(value) >= level
    raise ValueError(f"not a level kind: {kind}")


def observe(kind: str, market: str) -> Observation | None:
    """The value a new rule of `kind` on `market` sees now (to arm it at once), or None."""
    return OBSERVERS[kind]([market]).get(market)


def initial_armed(kind: str, market: str, level: Decimal) -> tuple[bool | None, Decimal | None]:
    """`armed` and `last_value` for a rule made now: armed if its condition is false now, disarmed if it
    is already true (it fires on the next crossing), None if nothing is known yet."""
    seen = observe(kind, market)
    if seen is None:
        return None, None
    return not holds(kind, seen.value, level), seen.value


def evaluate_live() -> list[int]:
    return evaluate(kinds=LIVE_LEVEL_KINDS)


def evaluate_marts() -> list[int]:
    return evaluate(kinds=MART_LEVEL_KINDS)


def evaluate(*, kinds: Iterable[str]) -> list[int]:
    """Evaluate every enabled level rule of `kinds`; returns the ids of the alerts fired."""
    rules = list(AlertRule.objects.filter(enabled=True, kind__in=list(kinds)).exclude(market=None))
    if not rules:
        return []
    observed: dict[Observer, dict[str, Observation]] = {}
    for rule in rules:
        observer = OBSERVERS[rule.kind]
        observed.setdefault(observer, {})
    for observer in observed:
        markets = sorted({r.market for r in rules if OBSERVERS[r.kind] is observer and r.market})
        observed[observer] = observer(markets)
    fired: list[int] = []
    now = datetime.now(UTC)
    for rule in rules:
        seen = observed[OBSERVERS[rule.kind]].get(rule.market or "")
        if seen is None or rule.level is None:
            continue
        true = holds(rule.kind, seen.value, rule.level)
        if not true:
            if rule.armed is not True:
                AlertRule.objects.filter(pk=rule.pk).update(
                    armed=True, last_value=seen.value, last_checked_at=now
                )
            continue
        if rule.armed is None:  # first seen already true: wait for it to be false first
            AlertRule.objects.filter(pk=rule.pk, armed=None).update(
                armed=False, last_value=seen.value, last_checked_at=now
            )
        elif rule.armed:
            alert_id = _fire(rule, seen, now)
            if alert_id is not None:
                fired.append(alert_id)
    return fired


def _fire(rule: AlertRule, seen: Observation, now: datetime) -> int | None:
    """Disarm and record the alert and its deliveries in one transaction; None if another evaluator won."""
    from cryptoflow_service.alerts.services import enqueue_deliveries  # noqa: PLC0415 - it imports us

    with transaction.atomic():
        won = AlertRule.objects.filter(pk=rule.pk, armed=True, enabled=True).update(
            armed=False, crossings=F("crossings") + 1, last_value=seen.value, last_checked_at=now
        )
        if not won:
            return None
        crossing = AlertRule.objects.values_list("crossings", flat=True).get(pk=rule.pk)
        subject, text = describe(rule, seen)
        alert = Alert.objects.create(
            rule=rule,
            crossing=crossing,
            market=rule.market or "",
            value=seen.value,
            message=f"{subject}\n{text}",
        )
        ids = [
            Delivery.objects.create(alert=alert, channel=channel, status=DeliveryStatus.PENDING).pk
            for channel in rule.channels
        ]
        transaction.on_commit(lambda: enqueue_deliveries(ids))
    logger.info("rule %d (%s %s) fired: %s", rule.pk, rule.kind, rule.market, subject)
    alert_id: int = alert.pk
    return alert_id


WHAT = {
    RuleKind.PRICE_CROSSES_ABOVE: ("price", "crossed above"),
    RuleKind.PRICE_CROSSES_BELOW: ("price", "crossed below"),
    RuleKind.CHANGE_24H_BEYOND: ("24 h change", "went beyond +/-"),
    RuleKind.RSI_ABOVE: ("RSI 14", "crossed above"),
    RuleKind.RSI_BELOW: ("RSI 14", "crossed below"),
}


def describe(rule: AlertRule, seen: Observation) -> tuple[str, str]:
    """Subject and text of a level rule's alert."""
    what, verb = WHAT[RuleKind(rule.kind)]
    unit = "%" if rule.kind == RuleKind.CHANGE_24H_BEYOND else ""
    level = f"{decimal_string(rule.level or Decimal(0))}{unit}"
    value = decimal_string(seen.value.quantize(Decimal("0.01")) if unit else seen.value)
    subject = f"[CryptoFlow] {rule.market} {what} {verb} {level}"
    text = f"{rule.market} {what} {value}{unit} at {iso(seen.at)} ({verb} {level}; rule '{rule.name}')."
    return subject, text


def reset_fields(rule: AlertRule, fields: Mapping[str, Any]) -> dict[str, Any]:
    """After a change of kind, market or level the rule starts over: armed from what it sees now."""
    if not ({"kind", "market", "level"} & set(fields)) or rule.kind not in (
        LIVE_LEVEL_KINDS | MART_LEVEL_KINDS
    ):
        return {}
    if rule.market is None or rule.level is None:
        return {"armed": None, "last_value": None}
    armed, value = initial_armed(rule.kind, rule.market, rule.level)
    return {"armed": armed, "last_value": value}
