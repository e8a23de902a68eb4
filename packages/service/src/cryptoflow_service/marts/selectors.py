"""Reads of the marts. Querysets stay lazy so views can filter, order and paginate them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Max, Q, QuerySet, Window
from django.db.models.functions import Lag, RowNumber

from cryptoflow_service.marts.models import (
    ArchivedTrade,
    Candle1d,
    Candle1h,
    Candle1m,
    CandleBase,
    Indicator,
    Indicator1m,
    IndicatorBase,
    Market,
    MarketStats24h,
)

CandleModel = type[Candle1d] | type[Candle1m] | type[Candle1h]
CANDLE_MODELS: dict[str, CandleModel] = {"1d": Candle1d, "1h": Candle1h, "1m": Candle1m}
IndicatorModel = type[Indicator] | type[Indicator1m]
INDICATOR_MODELS: dict[str, IndicatorModel] = {"1d": Indicator, "1m": Indicator1m}
INDICATOR_TIME = {"1d": "day", "1m": "candle_start"}
CANDLE_LENGTH = {"1d": timedelta(days=1), "1h": timedelta(hours=1), "1m": timedelta(minutes=1)}


def archived_trades(
    *,
    market: str,
    before: tuple[int, int] | None = None,
    after: tuple[int, int] | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    limit: int,
) -> list[ArchivedTrade]:
    """Up to `limit` archived trades of `market` in (trade_timestamp, sequential_id) order: newest first
    below the `before` cursor (default), or oldest first above the `after` cursor. A cursor is a trade's
    (trade_timestamp, sequential_id); one index range scan either way."""
    rows = ArchivedTrade.objects.filter(market=market)
    if start_ms is not None:
        rows = rows.filter(trade_timestamp__gte=start_ms)
    if end_ms is not None:
        rows = rows.filter(trade_timestamp__lte=end_ms)
    if after is not None:
        ts, sid = after
        rows = rows.filter(Q(trade_timestamp__gt=ts) | Q(trade_timestamp=ts, sequential_id__gt=sid))
        return list(rows.order_by("trade_timestamp", "sequential_id")[:limit])
    if before is not None:
        ts, sid = before
        rows = rows.filter(Q(trade_timestamp__lt=ts) | Q(trade_timestamp=ts, sequential_id__lt=sid))
    return list(rows.order_by("-trade_timestamp", "-sequential_id")[:limit])


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


def recent_indicators(
    *, interval: str, count: int, closed_before: datetime, markets: Iterable[str] | None = None
) -> dict[str, list[IndicatorBase]]:
    """The newest `count` indicator rows of each market (or of `markets`) on closed candles, oldest first,
    each annotated with `prev_close` (the close of the row before; None on a market's first) and
    `close_20_before` (the close 20 rows before), in one query."""
    model = INDICATOR_MODELS[interval]
    time_field = INDICATOR_TIME[interval]
    limit = closed_before.date() if interval == "1d" else closed_before - timedelta(minutes=1)
    rows = model.objects.filter(**{f"{time_field}__{'lt' if interval == '1d' else 'lte'}": limit})
    if markets is not None:
        rows = rows.filter(market__in=list(markets))
    ordered = F(time_field).asc()
    ranked = rows.annotate(
        newest_rank=Window(RowNumber(), partition_by=F("market"), order_by=F(time_field).desc()),
        prev_close=Window(Lag("close"), partition_by=F("market"), order_by=ordered),
        close_20_before=Window(Lag("close", 20), partition_by=F("market"), order_by=ordered),
    ).filter(newest_rank__lte=count)
    grouped: dict[str, list[IndicatorBase]] = defaultdict(list)
    for row in ranked.order_by("market", time_field):
        grouped[row.market].append(row)
    return dict(grouped)


def indicators_changed_at(*, interval: str) -> datetime | None:
    """`max(updated_at)` of the indicator table: it moves whenever the engine changes a row."""
    newest: datetime | None = INDICATOR_MODELS[interval].objects.aggregate(newest=Max("updated_at"))["newest"]
    return newest


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


SPARKLINE_SQL = """
SELECT DISTINCT ON (market, bucket) market, date_trunc('hour', candle_start) AS bucket, trade_price
FROM mart.candles_1m
WHERE candle_start >= %s {markets}
ORDER BY market, bucket, candle_start DESC
"""


def sparklines(
    *, since: datetime, markets: Iterable[str] | None = None
) -> dict[str, list[tuple[datetime, str]]]:
    """Each market's hourly closes (the last minute candle's close in each UTC hour) from `since`, oldest
    first: the board's 24 h sparklines."""
    from django.db import connection  # noqa: PLC0415

    params: list[Any] = [since]
    clause = ""
    if markets is not None:
        clause, params = "AND market = ANY(%s)", [since, list(markets)]
    out: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(SPARKLINE_SQL.format(markets=clause), params)
        for market, bucket, close in cursor.fetchall():
            out[market].append((bucket, close))
    return dict(out)
