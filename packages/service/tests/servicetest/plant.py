"""Plant data the way the other stages write it: Redis as `cryptoflow-stream-sink` does (record fields from
`cryptoflow_contracts.records`, null fields left out, lists as JSON), marts as the batch transforms do."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import redis

from cryptoflow_contracts import redis_keys
from cryptoflow_contracts.records import OrderbookRecord, TickerRecord, TradeRecord
from cryptoflow_service.marts.models import Candle1d, Candle1m, Indicator, Market, MarketStats24h

NOW_MS = 1_773_278_125_000  # 2026-03-12T01:15:25Z, the samples' time


def _fields(record: TickerRecord | TradeRecord | OrderbookRecord) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in record.model_dump(mode="json", exclude={"kind"}, exclude_none=True).items():
        out[name] = json.dumps(value, separators=(",", ":")) if isinstance(value, list | dict) else str(value)
    return out


def ticker(client: redis.Redis, market: str, *, received_ms: int, **overrides: Any) -> TickerRecord:
    values: dict[str, Any] = {
        "market": market,
        "trade_timestamp": received_ms - 40,
        "timestamp": received_ms - 20,
        "received_ms": received_ms,
        "opening_price": Decimal("104000000"),
        "high_price": Decimal("105000000"),
        "low_price": Decimal("103500000"),
        "trade_price": Decimal("104862000.0"),
        "prev_closing_price": Decimal("104100000"),
        "change": "RISE",
        "change_price": Decimal("762000"),
        "signed_change_price": Decimal("762000"),
        "change_rate": Decimal("0.0073198847"),
        "signed_change_rate": Decimal("0.0073198847"),
        "trade_volume": Decimal("0.00000001"),
        "acc_trade_volume": Decimal("1234.5678"),
        "acc_trade_price": Decimal("129468000000.123"),
        "acc_trade_volume_24h": Decimal("2345.6789"),
        "acc_trade_price_24h": Decimal("245000000000.5"),
        "acc_ask_volume": Decimal("600.5678"),
        "acc_bid_volume": Decimal("634"),
        "side": "BID",
        "highest_52_week_price": Decimal("163325000"),
        "highest_52_week_date": "2025-10-06",
        "lowest_52_week_price": Decimal("72100000"),
        "lowest_52_week_date": "2025-04-07",
        "market_state": "ACTIVE",
        "stream_type": "REALTIME",
        "source": "ws",
    }
    record = TickerRecord.model_validate({**values, **overrides})
    client.delete(redis_keys.ticker_key(market))
    client.hset(redis_keys.ticker_key(market), mapping=_fields(record))
    registry(client, market, last_seen_ms=record.timestamp, status=record.market_state or "")
    return record


def registry(client: redis.Redis, market: str, *, last_seen_ms: int, status: str = "ACTIVE") -> None:
    entry = {"quote_currency": market.split("-", maxsplit=1)[0], "last_seen_ms": str(last_seen_ms)}
    if status:
        entry |= {"status": status, "status_ms": str(last_seen_ms)}
    client.hset(redis_keys.MARKETS_KEY, market, json.dumps(entry))


def trade(
    client: redis.Redis,
    market: str,
    *,
    sequential_id: int,
    trade_timestamp: int,
    price: str,
    volume: str,
    side: str = "BID",
) -> TradeRecord:
    record = TradeRecord(
        market=market,
        sequential_id=sequential_id,
        trade_timestamp=trade_timestamp,
        timestamp=trade_timestamp + 5,
        received_ms=trade_timestamp + 30,
        price=Decimal(price),
        volume=Decimal(volume),
        side=side,  # type: ignore[arg-type]
        prev_closing_price=Decimal("104100000"),
        change="RISE",
        change_price=Decimal("1000"),
        stream_type="REALTIME",
        source="ws",
    )
    client.xadd(redis_keys.trades_key(market), _fields(record))  # type: ignore[arg-type]
    return record


def orderbook(
    client: redis.Redis, market: str, *, received_ms: int, levels: Sequence[tuple[str, str, str, str]]
) -> None:
    """`levels`: (ask_price, ask_size, bid_price, bid_size), best first."""
    units = [
        {"ask_price": Decimal(a), "ask_size": Decimal(asz), "bid_price": Decimal(b), "bid_size": Decimal(bsz)}
        for a, asz, b, bsz in levels
    ]
    record = OrderbookRecord.model_validate(
        {
            "market": market,
            "timestamp": received_ms - 10,
            "received_ms": received_ms,
            "total_ask_size": sum((u["ask_size"] for u in units), Decimal(0)),
            "total_bid_size": sum((u["bid_size"] for u in units), Decimal(0)),
            "units": units,
            "level": Decimal(0),
            "stream_type": "REALTIME",
            "source": "ws",
        }
    )
    client.hset(redis_keys.orderbook_key(market), mapping=_fields(record))


def utc_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def daily_candles(
    market: str, closes: Sequence[Decimal | int | str], *, last_day: date, volume: Decimal | int = 100
) -> list[Candle1d]:
    """Closed daily candles ending on `last_day`, one per close (oldest first)."""
    first = last_day - timedelta(days=len(closes) - 1)
    rows = []
    for offset, close in enumerate(closes):
        start = utc_day(first + timedelta(days=offset))
        price = Decimal(close)
        rows.append(
            Candle1d(
                market=market,
                candle_start=start,
                opening_price=price,
                high_price=price + 2,
                low_price=price - 2,
                trade_price=price,
                volume=Decimal(volume),
                value=price * Decimal(volume),
                last_trade_at=start + timedelta(hours=23),
                updated_at=start + timedelta(days=1, minutes=5),
            )
        )
    return Candle1d.objects.bulk_create(rows)


def minute_candles(
    market: str, closes: Sequence[Decimal | int | str], *, last_start: datetime
) -> list[Candle1m]:
    first = last_start - timedelta(minutes=len(closes) - 1)
    rows = []
    for offset, close in enumerate(closes):
        start = first + timedelta(minutes=offset)
        price = Decimal(close)
        rows.append(
            Candle1m(
                market=market,
                candle_start=start,
                opening_price=price,
                high_price=price,
                low_price=price,
                trade_price=price,
                volume=Decimal(1),
                value=price,
                last_trade_at=start,
                updated_at=start,
            )
        )
    return Candle1m.objects.bulk_create(rows)


def stats(
    market: str, *, snapshot_at: datetime, price: str, change_rate: str, volume: str, value: str = "1000"
) -> MarketStats24h:
    return MarketStats24h.objects.create(
        market=market,
        quote=market.split("-", maxsplit=1)[0],
        snapshot_at=snapshot_at,
        trade_price=Decimal(price),
        opening_price=Decimal(price),
        high_price=Decimal(price),
        low_price=Decimal(price),
        prev_closing_price=Decimal(price),
        change="RISE" if Decimal(change_rate) > 0 else "FALL" if Decimal(change_rate) < 0 else "EVEN",
        signed_change_price=Decimal(0),
        signed_change_rate=Decimal(change_rate),
        acc_trade_volume_24h=Decimal(volume),
        acc_trade_price_24h=Decimal(value),
        trade_timestamp=snapshot_at,
    )


def market(code: str, *, korean: str = "비트코인", english: str = "Bitcoin", warning: bool = False) -> Market:
    now = datetime.now(UTC)
    return Market.objects.create(
        market=code,
        quote=code.split("-", maxsplit=1)[0],
        base=code.split("-")[1],
        korean_name=korean,
        english_name=english,
        warning=warning,
        caution=False,
        active=True,
        updated_at=now,
        listing_interval_start=now,
    )


def indicator(code: str, day: date, close: str, **values: Any) -> Indicator:
    values.setdefault("updated_at", datetime.now(UTC))
    return Indicator.objects.create(market=code, day=day, close=Decimal(close), **values)
