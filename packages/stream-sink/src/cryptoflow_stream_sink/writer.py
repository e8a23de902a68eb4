"""Writes one batch to Redis in one round trip of per-market function calls (see `sink.lua`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from cryptoflow_contracts import redis_keys

LIBRARY = "cryptoflow_sink_1"
_FN_TRADES = f"{LIBRARY}_trades"
_FN_LATEST = f"{LIBRARY}_latest"
_FN_MARKETS = f"{LIBRARY}_markets"
_LIBRARY_CODE = files("cryptoflow_stream_sink").joinpath("sink.lua").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class TradeEntry:
    sequential_id: int
    trade_timestamp: int
    fields: tuple[str, ...]
    """The stream entry: field, value, field, value, …"""


@dataclass(frozen=True, slots=True)
class LatestEntry:
    ts_field: str
    """The field that holds the exchange time; the hash is replaced only by a record at least as new."""
    ts: int
    fields: tuple[str, ...]


@dataclass(slots=True)
class MarketSeen:
    quote_currency: str
    last_seen_ms: int
    status: str = ""
    status_ms: int = 0


@dataclass(slots=True)
class Plan:
    """What one batch writes, grouped by market."""

    trades: dict[str, list[TradeEntry]] = field(default_factory=dict)
    tickers: dict[str, LatestEntry] = field(default_factory=dict)
    orderbooks: dict[str, LatestEntry] = field(default_factory=dict)
    markets: dict[str, MarketSeen] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.trades or self.tickers or self.orderbooks or self.markets)


@dataclass(slots=True)
class WriteResult:
    trades_written: int = 0
    trades_duplicate: int = 0
    trades_expired: int = 0
    tickers_written: int = 0
    tickers_stale: int = 0
    orderbooks_written: int = 0
    orderbooks_stale: int = 0


class RedisWriter:
    def __init__(
        self, client: Redis, *, stream_maxlen: int, dedup_max_ids: int, dedup_horizon_ms: int
    ) -> None:
        self.client = client
        self._trade_args = (str(stream_maxlen), str(dedup_max_ids), str(dedup_horizon_ms))

    async def load_functions(self) -> None:
        """Loads (or replaces with the same code) the library; idempotent, any number of sinks may call it."""
        await self.client.function_load(_LIBRARY_CODE, replace=True)

    async def write(self, plan: Plan) -> WriteResult:
        """One round trip. Every call is idempotent, so a failed pipeline is simply sent again."""
        try:
            return await self._write(plan)
        except ResponseError as exc:
            # A Redis restarted without persistence (or FUNCTION FLUSH) forgot the library.
            if "function not found" not in str(exc).lower():
                raise
        await self.load_functions()
        return await self._write(plan)

    async def _write(self, plan: Plan) -> WriteResult:
        commands: list[tuple[Any, ...]] = []
        for market, trades in plan.trades.items():
            args: list[str | int] = [*self._trade_args]
            for trade in trades:
                args += (trade.sequential_id, trade.trade_timestamp, len(trade.fields) // 2, *trade.fields)
            commands.append(
                (
                    "FCALL",
                    _FN_TRADES,
                    2,
                    redis_keys.trade_ids_key(market),
                    redis_keys.trades_key(market),
                    *args,
                )
            )
        for market, entry in plan.tickers.items():
            commands.append(
                (
                    "FCALL",
                    _FN_LATEST,
                    1,
                    redis_keys.ticker_key(market),
                    entry.ts_field,
                    entry.ts,
                    *entry.fields,
                )
            )
        for market, entry in plan.orderbooks.items():
            key = redis_keys.orderbook_key(market)
            commands.append(("FCALL", _FN_LATEST, 1, key, entry.ts_field, entry.ts, *entry.fields))
        if plan.markets:
            touches: list[str | int] = []
            for market, seen in plan.markets.items():
                touches += (market, seen.quote_currency, seen.last_seen_ms, seen.status, seen.status_ms)
            commands.append(("FCALL", _FN_MARKETS, 1, redis_keys.MARKETS_KEY, *touches))
        replies = iter(await round_trip(self.client, commands))

        result = WriteResult()
        for _ in plan.trades:
            written, duplicate, expired = next(replies)
            result.trades_written += written
            result.trades_duplicate += duplicate
            result.trades_expired += expired
        result.tickers_written = sum(next(replies) for _ in plan.tickers)
        result.tickers_stale = len(plan.tickers) - result.tickers_written
        result.orderbooks_written = sum(next(replies) for _ in plan.orderbooks)
        result.orderbooks_stale = len(plan.orderbooks) - result.orderbooks_written
        return result


async def round_trip(client: Redis, commands: list[tuple[Any, ...]]) -> list[Any]:
    """Sends every command, then reads every reply: a pipeline, packed by hiredis in C. redis-py's asyncio
    pipeline packs in Python, copying the growing buffer once per argument, and a batch of trades has
    thousands of arguments: that was a third of the sink's CPU. An error reply raises, after every reply
    has been read."""
    pool = client.connection_pool
    connection = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        await connection.send_packed_command(b"".join(map(hiredis.pack_command, commands)))
        replies = []
        for _ in commands:
            try:
                replies.append(await connection.read_response())
            except ResponseError as exc:
                replies.append(exc)  # read the rest: the connection stays in step
        for reply in replies:
            if isinstance(reply, ResponseError):
                raise reply
        return replies
    except BaseException:
        await connection.disconnect()  # unread replies would answer the next batch's commands
        raise
    finally:
        await pool.release(connection)
