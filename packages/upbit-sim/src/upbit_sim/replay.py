"""`--replay FILE.jsonl`: recorded DEFAULT frames served to matching subscribers in file order.

Data frames go to the subscribers of their (type, code): byte for byte in DEFAULT, converted in SIMPLE.
Any other line (control frames, and lines that are not JSON at all) goes byte for byte to every
connection that has subscribed. The REST state follows the replayed frames.
"""

from __future__ import annotations

import asyncio
import bisect
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from upbit_sim.catalog import build_catalog
from upbit_sim.market import Candle, Level, MarketState, Trade
from upbit_sim.numfmt import DAY_MS, Clock, dumps
from upbit_sim.wire import SIMPLE_KEYS

if TYPE_CHECKING:
    from upbit_sim.server import Simulator


def to_simple(obj: Any, kind: str) -> Any:
    """DEFAULT keys -> SIMPLE keys (the ticker's `trade_date` is `tdt`, the trade's is `td`)."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            key = "tdt" if (k == "trade_date" and kind == "ticker") else SIMPLE_KEYS.get(k, k)
            out[key] = to_simple(v, kind)
        return out
    if isinstance(obj, list):
        return [to_simple(v, kind) for v in obj]
    return obj


class _Line:
    __slots__ = ("code", "default", "obj", "simple", "ts", "type")

    def __init__(self, raw: bytes) -> None:
        self.default = raw
        self.simple: bytes | None = None
        self.obj: dict[str, Any] | None = None
        self.type = self.code = ""
        self.ts: int | None = None
        try:
            obj = json.loads(raw, parse_float=Decimal)
        except ValueError:
            return
        if isinstance(obj, dict) and isinstance(obj.get("type"), str) and isinstance(obj.get("code"), str):
            self.obj, self.type, self.code = obj, obj["type"], obj["code"]
            ts = obj.get("timestamp")
            self.ts = ts if isinstance(ts, int) else None

    def encoded(self, simple: bool) -> bytes:
        if not simple:
            return self.default
        if self.simple is None:
            assert self.obj is not None
            self.simple = dumps(to_simple(self.obj, self.type)).encode()
        return self.simple


class Replayer:
    def __init__(
        self,
        sim: Simulator,
        path: Path,
        speed: str,
        start: str,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.sim = sim
        self._sleep = sleep  # paces `realtime` and factor speeds (tests pass a recording one)
        self.lines = [_Line(raw) for raw in path.read_bytes().splitlines() if raw.strip()]
        self.speed = speed
        self.started = asyncio.Event()
        if start == "immediate":
            self.started.set()
        self.position = 0
        self.done = False
        self.clock = Clock()
        # the replay's own clock (REST "now"): the newest timestamp replayed so far
        self.now = next((line.ts for line in self.lines if line.ts is not None), 0)
        codes = list(dict.fromkeys(line.code for line in self.lines if line.obj is not None))
        infos = build_catalog(len(codes), sim.cfg.seed, codes) if codes else []
        self.markets: dict[str, MarketState] = {}
        for i, info in enumerate(infos):
            m = MarketState(info, i, self.clock)
            m.asks, m.bids = [], []
            self.markets[info.code] = m

    def on_subscription(self) -> None:
        self.started.set()

    def restart(self) -> None:
        self.position = 0
        self.done = False

    async def run(self) -> None:
        await self.started.wait()
        while True:
            if self.done:
                await asyncio.sleep(0.05)
                continue
            await self.play()

    async def play(self) -> None:
        """Serve the lines from `position` to the end once. Pacing follows the newest timestamp seen so
        far: a re-sent or late frame (older than one already served) goes out at once and does not move
        the reference back, so the stretch after it is not slept through twice."""
        hub = self.sim.hub
        newest: int | None = None
        factor = None if self.speed == "max" else 1.0 if self.speed == "realtime" else float(self.speed)
        while self.position < len(self.lines):
            line = self.lines[self.position]
            self.position += 1
            if factor is not None and line.ts is not None:
                if newest is None:
                    newest = line.ts
                elif line.ts > newest:
                    hub.flush()
                    await self._sleep((line.ts - newest) / 1000 / factor)
                    newest = line.ts
            if line.obj is None:
                for conn in list(hub.conns.values()):
                    if conn.subs:
                        hub.control(conn, line.default, "replay_raw")
                continue
            if line.ts is not None and line.ts > self.now:
                self.now = line.ts
            self._apply(line)
            self._deliver(line)
            if self.position % 256 == 0:
                hub.flush()
                await asyncio.sleep(0)
        hub.flush()
        self.done = True

    def _deliver(self, line: _Line) -> None:
        subs = self.sim.hub.subs.get((line.type, line.code))
        if subs:
            self.sim.hub.deliver(subs, lambda s: line.encoded(s.conn.simple), line.type.split(".", 1)[0])

    # ------------------------------------------------------------ REST state
    def _apply(self, line: _Line) -> None:
        m = self.markets.get(line.code)
        obj = line.obj
        if m is None or obj is None:
            return
        try:
            if line.type == "trade":
                self._trade(m, obj)
            elif line.type == "ticker":
                self._ticker(m, obj)
            elif line.type == "orderbook":
                units = obj["orderbook_units"]
                m.asks = [Level(Decimal(str(u["ask_price"])), Decimal(str(u["ask_size"]))) for u in units]
                m.bids = [Level(Decimal(str(u["bid_price"])), Decimal(str(u["bid_size"]))) for u in units]
                m.book_changed()
                m.book_ts = obj["timestamp"]
        except (KeyError, TypeError, ValueError):
            self.sim.hub.counters["replay_unusable_frames"] += 1

    def _trade(self, m: MarketState, obj: dict[str, Any]) -> None:
        ts = obj["trade_timestamp"]
        pcp = _dec(obj["prev_closing_price"])
        if not m.day_end:
            m.start_day(ts - ts % DAY_MS, pcp)
        elif ts >= m.day_end:
            m.roll_day(ts)
        m.day.pcp = pcp
        if not m.asks or not m.bids:
            m.asks = [Level(_dec(obj["best_ask_price"]), _dec(obj["best_ask_size"]))]
            m.bids = [Level(_dec(obj["best_bid_price"]), _dec(obj["best_bid_size"]))]
        price, vol, seq = _dec(obj["trade_price"]), _dec(obj["trade_volume"]), obj["sequential_id"]
        late = m.trades and (m.trades[-1].ts, m.trades[-1].seq) > (ts, seq)
        if late:
            # an out-of-order frame: keep the list in (ts, sequential_id) order and put it in its candles
            bap, bas, bbp, bbs = (_dec(obj[k]) for k in _BEST)
            bid = obj["ask_bid"] == "BID"
            t = Trade(ts, seq, price, vol, bid=bid, pcp=pcp, bap=bap, bas=bas, bbp=bbp, bbs=bbs)
            bisect.insort(m.trades, t, key=lambda x: (x.ts, x.seq))
            m.trades_generated += 1
            value = price * vol
            for candles, unit in ((m.c1s, 1000), (m.c1m, 60_000)):
                start = ts - ts % unit
                i = bisect.bisect_left(candles, start, key=lambda c: c.start)
                if i < len(candles) and candles[i].start == start:
                    c = candles[i]
                    c.high, c.low = max(c.high, price), min(c.low, price)
                    c.vol += vol
                    c.val += value
                else:
                    c = Candle(start, price)
                    c.vol, c.val, c.last = vol, value, ts
                    candles.insert(i, c)
            m.day.vol += vol
            m.day.val += value
            return
        t = m.apply_trade(ts, seq, price, vol, obj["ask_bid"] == "BID")
        t.bap, t.bas, t.bbp, t.bbs = (_dec(obj[k]) for k in _BEST)
        t.strs = None  # the recorded top of book, not the one kept here

    def _ticker(self, m: MarketState, obj: dict[str, Any]) -> None:
        ts = obj["trade_timestamp"]
        if not m.day_end:
            m.start_day(ts - ts % DAY_MS, _dec(obj["prev_closing_price"]))
        day = m.day
        day.open, day.high, day.low, day.close = (
            _dec(obj[k]) for k in ("opening_price", "high_price", "low_price", "trade_price")
        )
        day.pcp = _dec(obj["prev_closing_price"])
        day.vol, day.val = _dec(obj["acc_trade_volume"]), _dec(obj["acc_trade_price"])
        day.ask, day.bid = _dec(obj["acc_ask_volume"]), _dec(obj["acc_bid_volume"])
        day.last = ts
        m.day_has_trade = True
        m.h52, m.h52_date = _dec(obj["highest_52_week_price"]), obj["highest_52_week_date"]
        m.l52, m.l52_date = _dec(obj["lowest_52_week_price"]), obj["lowest_52_week_date"]
        m.fixed_24h = (_dec(obj["acc_trade_volume_24h"]), _dec(obj["acc_trade_price_24h"]))
        t = m.last_trade
        if t is None or t.ts != ts:
            vol, bid, zero = _dec(obj["trade_volume"]), obj["ask_bid"] == "BID", Decimal(0)
            t = Trade(
                ts, 0, day.close, vol, bid=bid, pcp=day.pcp, bap=day.close, bas=zero, bbp=day.close, bbs=zero
            )
            m.last_trade = t


_BEST = ("best_ask_price", "best_ask_size", "best_bid_price", "best_bid_size")


def _dec(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError(f"not a number: {value!r}")
    return Decimal(value)
