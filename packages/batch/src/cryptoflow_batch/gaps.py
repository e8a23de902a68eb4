"""The archive's gap check: per market and closed minute, the archive's candle (built from lake.trades)
against the exchange's REST minute candle. A minute that differs is a gap: its trades are fetched from
`/v1/trades/ticks` (cursor paging, at most 7 days back), archived as `rest-repair`, the candle rebuilt and
the repair recorded in `cryptoflow_meta.trade_repairs`. A minute that still differs fails the run."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cryptoflow_batch.db import connect_async
from cryptoflow_batch.el import make_client
from cryptoflow_batch.lake import plain_utc
from cryptoflow_batch.settings import BatchSettings
from cryptoflow_batch.sql import load_sql
from cryptoflow_contracts.decimals import loads_exact
from cryptoflow_upbit_client import UpbitRestClient

log = logging.getLogger(__name__)

MINUTE = dt.timedelta(minutes=1)
DAY_MS = 86_400_000
MAX_DAYS_BACK = 7
Candle = tuple[Decimal, Decimal, Decimal, Decimal, Decimal]
"""open, high, low, close, volume: what the check compares (exact decimals)."""


class UnrepairedGapsError(RuntimeError):
    """Minutes that still differ from the exchange after their repair (named in the message)."""


@dataclass
class GapResult:
    markets: int = 0
    minutes_checked: int = 0
    gaps: list[tuple[str, str]] = field(default_factory=list)
    trades_added: int = 0
    requests: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "markets": self.markets,
            "minutes_checked": self.minutes_checked,
            "gaps": len(self.gaps),
            "gap_minutes": [f"{m} {t}" for m, t in self.gaps],
            "trades_added": self.trades_added,
            "requests": self.requests,
        }


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


async def _exchange_candles(
    client: UpbitRestClient, market: str, start: dt.datetime, end: dt.datetime
) -> dict[dt.datetime, Candle]:
    out: dict[dt.datetime, Candle] = {}
    async for page in client.iter_candles("minutes/1", market, since=start, until=end):
        for c in loads_exact(page.response.content):
            moment = dt.datetime.fromisoformat(c["candle_date_time_utc"]).replace(tzinfo=dt.UTC)
            if start <= moment < end:
                out[moment] = (
                    Decimal(c["opening_price"]), Decimal(c["high_price"]), Decimal(c["low_price"]),
                    Decimal(c["trade_price"]), Decimal(c["candle_acc_trade_volume"]),
                )  # fmt: skip
    return out


async def _archive_candles(
    conn: Any, market: str, start: dt.datetime, end: dt.datetime
) -> dict[dt.datetime, Candle]:
    cur = await conn.execute(
        "SELECT candle_start, opening_price, high_price, low_price, trade_price, volume FROM mart.candles_1m"
        " WHERE market = %s AND candle_start >= %s AND candle_start < %s",
        (market, start, end),
    )
    return {row[0]: tuple(row[1:]) for row in await cur.fetchall()}


async def _repair_minute(
    client: UpbitRestClient, conn: Any, market: str, minute: dt.datetime, now: dt.datetime
) -> tuple[int, int]:
    """Fetch and archive the trades of one minute; (trades added, requests)."""
    lo, hi = _ms(minute), _ms(minute + MINUTE)
    days_ago = (now.date() - minute.date()).days
    if days_ago > MAX_DAYS_BACK:
        raise UnrepairedGapsError(f"{market} {minute.isoformat()}: older than Upbit's {MAX_DAYS_BACK} days")
    end = minute + MINUTE
    to = None if end.date() != minute.date() else end.strftime("%H%M%S")
    added = requests = 0
    cursor: int | None = None
    statement = load_sql("gaps/insert_trades")
    async with conn.transaction():
        await conn.execute("SELECT lake.ensure_trade_partitions(%s, %s)", (lo, hi))
        while True:
            response = await client.trades_ticks(market, to=to, cursor=cursor, days_ago=days_ago or None)
            requests += 1
            rows = loads_exact(response.content)
            cur = await conn.execute(
                statement,
                {"market": market, "body": response.text, "lo_ms": lo, "hi_ms": hi,
                 "received_ms": response.received_at_ms},
            )  # fmt: skip
            added += cur.rowcount
            if not rows or len(rows) < 500 or min(int(r["timestamp"]) for r in rows) < lo:
                break
            cursor = int(rows[-1]["sequential_id"])
        await conn.execute("SELECT mart.refresh_candles(%s::text[], %s::bigint[])", ([market], [lo]))
        await conn.execute(
            "INSERT INTO cryptoflow_meta.trade_repairs (market, minute, trades_added, run_id)"
            " VALUES (%s, %s, %s, %s)",
            (market, minute, added, f"gaps {now.isoformat()}"),
        )
    return added, requests


async def check_and_repair(
    settings: BatchSettings, start: dt.datetime, end: dt.datetime, *, markets: list[str] | None = None
) -> GapResult:
    """Check every closed minute of [start, end) for every market; repair the gaps (see the module)."""
    now = dt.datetime.now(dt.UTC)
    end = min(plain_utc(end), now.replace(second=0, microsecond=0))
    start = plain_utc(start)
    result = GapResult()
    unrepaired: list[str] = []
    async with make_client(settings) as client, await connect_async(settings.dsn, autocommit=True) as conn:
        if markets is None:
            cur = await conn.execute(
                "SELECT market FROM mart.markets WHERE active UNION"
                " SELECT DISTINCT market FROM mart.candles_1m WHERE candle_start >= %s AND candle_start < %s"
                " ORDER BY 1",
                (start, end),
            )
            markets = [row[0] for row in await cur.fetchall()]
        result.markets = len(markets)
        started = time.monotonic()
        for market in markets:
            # The archive of a market begins at its first archived minute, which is partial by nature
            # (archiving started within it): only the minutes after it are checked.
            cur = await conn.execute(
                "SELECT min(candle_start) FROM mart.candles_1m WHERE market = %s", (market,)
            )
            first = (await cur.fetchone() or (None,))[0]
            if first is None:
                log.info("%s: nothing archived yet, not checked", market)
                continue
            market_start = max(start, first + MINUTE)
            if market_start >= end:
                continue
            theirs = await _exchange_candles(client, market, market_start, end)
            result.requests += 1 + len(theirs) // 200
            ours = await _archive_candles(conn, market, market_start, end)
            result.minutes_checked += int((end - market_start) / MINUTE)
            for minute in sorted(set(theirs) | set(ours)):
                if theirs.get(minute) == ours.get(minute):
                    continue
                result.gaps.append((market, minute.isoformat()))
                added, requests = await _repair_minute(client, conn, market, minute, now)
                result.trades_added += added
                result.requests += requests
                again = (await _archive_candles(conn, market, minute, minute + MINUTE)).get(minute)
                if again != theirs.get(minute):
                    unrepaired.append(
                        f"{market} {minute.isoformat()} (archive {again}, exchange {theirs.get(minute)})"
                    )
        log.info(
            "gap check [%s, %s): %d markets, %d minutes checked, %d gaps, %d trades added, %.1f s",
            start.isoformat(), end.isoformat(), result.markets, result.minutes_checked, len(result.gaps),
            result.trades_added, time.monotonic() - started,
        )  # fmt: skip
    if unrepaired:
        raise UnrepairedGapsError(
            f"{len(unrepaired)} minutes could not be repaired: " + "; ".join(unrepaired)
        )
    return result


def gap_job(start: dt.datetime, end: dt.datetime, settings: BatchSettings | None = None) -> dict[str, Any]:
    return asyncio.run(check_and_repair(settings or BatchSettings(), start, end)).summary()
