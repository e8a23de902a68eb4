"""Reads of the marts. Querysets stay lazy so views can filter, order and paginate them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from cryptoflow_service.marts.models import Candle1d, Candle1m, CandleBase, Indicator, Market, MarketStats24h

CandleModel = type[Candle1d] | type[Candle1m]
CANDLE_MODELS: dict[str, CandleModel] = {"1d": Candle1d, "1m": Candle1m}
CANDLE_LENGTH = {"1d": timedelta(days=1), "1m": timedelta(minutes=1)}


def latest_stats(*, as_of: datetime | None = None) -> QuerySet[MarketStats24h]:
    """Each market's newest snapshot at or before `as_of` (default: the newest there is)."""
    snapshots = MarketStats24h.objects.all()
    if as_of is not None:
        snapshots = snapshots.filter(snapshot_at__lte=as_of)
    newest = snapshots.order_by("market", "-snapshot_at").distinct("market").values("market", "snapshot_at")
    return MarketStats24h.objects.filter(pk__in=newest)


def stats_history(
    *, market: str, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[MarketStats24h]:
    rows = MarketStats24h.objects.filter(market=market)
    if start is not None:
        rows = rows.filter(snapshot_at__gte=start)
    if end is not None:
        rows = rows.filter(snapshot_at__lte=end)
    return rows.order_by("-snapshot_at")


def latest_stats_of(*, market: str) -> MarketStats24h | None:
    return MarketStats24h.objects.filter(market=market).order_by("-snapshot_at").first()


def candles(
    *, market: str, interval: str, start: datetime | None, end: datetime | None, limit: int
) -> list[CandleBase]:
    """Up to `limit` candles in time order: the first from `start` if given, else the newest up to `end`."""
    rows = CANDLE_MODELS[interval].objects.filter(market=market)
    if start is not None:
        rows = rows.filter(candle_start__gte=start)
    if end is not None:
        rows = rows.filter(candle_start__lte=end)
    if start is not None:
        return list(rows.order_by("candle_start")[:limit])
    return list(reversed(rows.order_by("-candle_start")[:limit]))


def recent_candles(
    *, interval: str, count: int, closed_before: datetime, markets: Iterable[str] | None = None
) -> dict[str, list[CandleBase]]:
    """The newest `count` closed candles of each market (or of `markets`), oldest first, in one query."""
    model = CANDLE_MODELS[interval]
    rows = model.objects.filter(candle_start__lte=closed_before - CANDLE_LENGTH[interval])
    if markets is not None:
        rows = rows.filter(market__in=list(markets))
    ranked = rows.annotate(
        newest_rank=Window(RowNumber(), partition_by=F("market"), order_by=F("candle_start").desc())
    ).filter(newest_rank__lte=count)
    grouped: dict[str, list[CandleBase]] = defaultdict(list)
    for candle in ranked.order_by("market", "candle_start"):
        grouped[candle.market].append(candle)
    return dict(grouped)


def indicators(*, market: str, start: datetime | None, end: datetime | None, limit: int) -> list[Indicator]:
    """Up to `limit` daily indicator rows in day order, the newest ones in the range."""
    rows = Indicator.objects.filter(market=market)
    if start is not None:
        rows = rows.filter(day__gte=start.date())
    if end is not None:
        rows = rows.filter(day__lte=end.date())
    return list(reversed(rows.order_by("-day")[:limit]))


def latest_indicator(*, market: str) -> Indicator | None:
    return Indicator.objects.filter(market=market).order_by("-day").first()


def mart_markets(*, markets: Iterable[str] | None = None) -> dict[str, Market]:
    rows = Market.objects.all()
    if markets is not None:
        rows = rows.filter(market__in=list(markets))
    return {row.market: row for row in rows}


def market_in_marts(*, market: str) -> bool:
    """Whether the cold path knows `market` (its market list, 24 h stats or daily candles)."""
    return bool(markets_in_marts(markets=[market]))


def markets_in_marts(*, markets: Iterable[str]) -> set[str]:
    """Those of `markets` the cold path knows (its market list, 24 h stats or daily candles)."""
    codes = list(dict.fromkeys(markets))
    if not codes:
        return set()
    known = set(Market.objects.filter(market__in=codes).values_list("market", flat=True))
    for model in (MarketStats24h, Candle1d):
        missing = [code for code in codes if code not in known]
        if not missing:
            break
        known |= set(model.objects.filter(market__in=missing).values_list("market", flat=True).distinct())
    return known
