"""The event generator: trades and book updates at a target frame rate, fanned out to subscribers.

One `random.Random(seed)` drives every choice in a fixed order, so a seed gives the same sequence of
events whatever the timing; only the timestamps follow the clock. Each trade event yields a trade, a
ticker and an orderbook frame; each book event an orderbook frame. Candle frames follow at most once
per second per market.
"""

from __future__ import annotations

import asyncio
import bisect
import gc
import itertools
import logging
import math
import random
import time
from decimal import ROUND_DOWN, Decimal

from upbit_sim import wire
from upbit_sim.catalog import MarketInfo
from upbit_sim.config import SimConfig
from upbit_sim.history import _vol, build_past, daily_notional, initial_book, last_past_trade
from upbit_sim.hub import Hub
from upbit_sim.market import CANDLE_UNITS, DEPTH, Level, MarketState, Trade
from upbit_sim.numfmt import Clock
from upbit_sim.ticks import round_to_tick, step_down, step_up

VOL_Q = Decimal("1E-8")
# share of a level a trade takes (0.2 %-60 %), factor a book update applies to a level's size (0.6-1.6)
_TAKE = [Decimal(k) / 1000 for k in range(2, 601)]
_RESIZE = [Decimal(k) / 100 for k in range(60, 161)]
MAX_BATCH = 4000  # frames per loop turn, so REST and pings still get served at full speed
# frames/s assumed for `--rate 0` (as fast as possible) when sizing trades: about what one core reaches
UNPACED_RATE = 20_000.0
SEQ_PER_MS = 10_000  # sequential_id = ts * SEQ_PER_MS + n
log = logging.getLogger("upbit_sim")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Engine:
    def __init__(
        self, cfg: SimConfig, hub: Hub, infos: list[MarketInfo], start_ms: int | None = None
    ) -> None:
        self.cfg = cfg
        self.hub = hub
        self.clock = Clock()
        self.rng = random.Random(cfg.seed)
        self.rate = cfg.rate
        self._history_pace = False  # simulate(): events come at `history_rate`, not at `rate`
        self.paused = False
        self.markets: dict[str, MarketState] = {}
        self.active: list[MarketState] = []
        self._cum: list[float] = []
        self._seq_ms = 0
        self._seq_n = 0
        self._held: dict[str, Trade] = {}
        self._candle_dirty: set[MarketState] = set()
        self.events = 0
        self.frames = 0
        self.errors = 0  # exceptions the run loop logged and survived
        self._full_collections = gc.get_stats()[2]["collections"]
        self._next_day_end = 0  # earliest 00:00 UTC at which some market's day rolls
        self.start_ms = now_ms() if start_ms is None else start_ms
        fine_start = self.start_ms - cfg.history_minutes * 60_000
        for info in infos:
            self._add(info, fine_start, cfg.history_days)
        if cfg.history_minutes:
            self.simulate(fine_start, self.start_ms)

    # ------------------------------------------------------------ markets
    def _add(
        self, info: MarketInfo, fine_start: int, history_days: int, listed_now: bool = False
    ) -> MarketState:
        m = MarketState(info, len(self.markets), self.clock)
        price = build_past(m, self.cfg.seed, fine_start, history_days, listed_now)
        initial_book(m, price, random.Random(f"{self.cfg.seed}:{info.code}:book"), DEPTH)
        m.book_ts = fine_start
        m.fair = float(price)
        if not listed_now:
            m.seed_trade = last_past_trade(m, self.cfg.seed, price)
        self.markets[m.code] = m
        self.active.append(m)
        self._reweight()
        return m

    def _reweight(self) -> None:
        self._cum = list(itertools.accumulate(m.info.weight for m in self.active))

    def list_market(self, info: MarketInfo) -> MarketState:
        """A market listed during the run: no past, trading from now."""
        if info.code in self.markets and self.markets[info.code].state != "DELISTED":
            raise ValueError(f"{info.code} is already listed")
        self.markets.pop(info.code, None)
        ts = max(now_ms(), self._seq_ms)
        m = self._add(info, ts, 0, listed_now=True)
        self._trade(m, ts)  # listed with a first trade, so tickers and REST answers exist at once
        self.hub.flush()
        return m

    def delist_market(self, code: str) -> MarketState:
        m = self.markets.get(code)
        if m is None or m.state == "DELISTED":
            raise KeyError(code)
        m.set_state("DELISTED", m.clock.at(now_ms()).dash_date)
        self.active = [x for x in self.active if x is not m]
        self._held.pop(code, None)
        self._candle_dirty.discard(m)
        self._reweight()
        return m

    def move_price(self, code: str, price: Decimal) -> MarketState:
        """Admin: re-centre the book on `price` (snapped to the tick grid, best ask there) and trade once
        against it, so tickers, trades and books show the new price at once; the generator walks on from it.
        """
        m = self.markets.get(code)
        if m is None or m.state == "DELISTED":
            raise KeyError(code)
        ts = max(now_ms(), self._seq_ms)
        ask = round_to_tick(m.quote, price, up=True)
        initial_book(m, ask, random.Random(f"{self.cfg.seed}:{code}:move:{ts}"), DEPTH)
        m.fair = float(ask)
        self._trade(m, ts)
        self.hub.flush()
        return m

    # ------------------------------------------------------------ events
    def _seq(self, ts: int) -> int:
        """`ts * 10000 + n`; event times never go backwards, so ids are unique over the run."""
        if ts == self._seq_ms:
            self._seq_n += 1
        else:
            self._seq_ms, self._seq_n = ts, 0
        return ts * SEQ_PER_MS + self._seq_n

    def event(self, ts: int) -> int:
        """One event on a market chosen by activity weight; returns the frames it produced."""
        ts = max(ts, self._seq_ms)  # admin steps and listings use the clock; batches may lag it a bit
        if ts == self._seq_ms and self._seq_n >= SEQ_PER_MS - 1:
            ts += 1  # this millisecond's ids are used up: a later n would collide with the next ms
        rng = self.rng
        cum = self._cum
        # min(): random() * total can round up to total itself
        m = self.active[min(bisect.bisect_right(cum, rng.random() * cum[-1]), len(cum) - 1)]
        m.fair *= 1.0 + m.sigma * rng.gauss(0.0, 1.0)
        self.events += 1
        if rng.random() < self.cfg.trade_probability:
            self._trade(m, ts)
            return 3
        self._book(m, ts)
        return 1

    def _skew(self, m: MarketState) -> float:
        pa, pb = m.asks[0].pf, m.bids[0].pf
        mid = (pa + pb) / 2
        return max(-0.4, min(0.4, (m.fair - mid) / max(pa - pb, mid * 1e-6)))

    def _drop_best(self, m: MarketState, ask: bool) -> bool:
        """Take out the best level of one side and add one behind its last, so every side keeps its depth.
        At the bottom of the price grid no bid fits behind the last: nothing changes, returns False."""
        book = m.asks if ask else m.bids
        last = book[-1].price
        gap = self.rng.randint(1, 3)
        price = step_up(m.quote, last, gap) if ask else step_down(m.quote, last, gap)
        if price == last:
            return False
        book.pop(0)
        book.append(self._level(m, price))
        m.book_changed()
        return True

    def _level(self, m: MarketState, price: Decimal) -> Level:
        notional = daily_notional(m) / 2000
        return Level(price, _vol(notional / float(price) * self.rng.lognormvariate(0, 1)))

    def _trade(self, m: MarketState, ts: int) -> None:
        rng = self.rng
        bid = rng.random() < 0.5 + self._skew(m)
        book = m.asks if bid else m.bids
        if book[0].size <= VOL_Q * 2 and not self._drop_best(m, bid):
            # a level too thin to trade against is taken out first (prices move through book events);
            # where it cannot be (see _drop_best) it is replenished instead
            m.resize(bid, 0, self._level(m, book[0].price).size)
        lvl = book[0]
        price = lvl.price
        # sized so that the market trades its history's daily notional at the current event rate
        # (exponential around the mean); a trade never takes more than 60 % of its level, so it never
        # empties it: the frame's best ask (BID) or best bid (ASK) is its price
        size = self._mean_trade_notional(m) / float(price) * -math.log(1.0 - rng.random())
        vol = min(Decimal(repr(size)), lvl.size * _TAKE[-1]).quantize(VOL_Q, ROUND_DOWN)
        vol = max(vol, VOL_Q).normalize()
        m.resize(bid, 0, lvl.size - vol)
        m.book_ts = ts
        t = m.apply_trade(ts, self._seq(ts), price, vol, bid, price_s=lvl.ps)
        self._candle_dirty.add(m)
        self._publish_trade(m, t, ts)
        subs = self.hub.subs.get(("ticker", m.code))
        if subs:
            self.hub.deliver(
                subs, lambda s: wire.ticker_frame(m, s.conn.simple, "REALTIME", ts + 1), "ticker"
            )
        self._publish_book(m, ts)

    def _mean_trade_notional(self, m: MarketState) -> float:
        """A typical day's traded value (`history.daily_notional`, what the day candles show) over the
        trades this market gets in a day at the current pace: live volume matches the history's."""
        tp = self.cfg.trade_probability
        frames_per_s = self.cfg.history_rate * (3 * tp + 1 - tp) if self._history_pace else self.rate
        events_per_s = (frames_per_s or UNPACED_RATE) / (3 * tp + 1 - tp)
        trades_per_day = 86_400 * events_per_s * tp * m.info.weight / self._cum[-1]
        return daily_notional(m) / max(trades_per_day, 1.0)

    def _book(self, m: MarketState, ts: int) -> None:
        rng = self.rng
        u = rng.random()
        up = rng.random() < 0.5 + self._skew(m)
        quote = m.quote
        if u < 0.78:
            ask = rng.random() < 0.5
            i = min(DEPTH - 1, int(rng.expovariate(0.2)))
            lvl = (m.asks if ask else m.bids)[i]
            new = (lvl.size * _RESIZE[int(rng.random() * len(_RESIZE))]).quantize(VOL_Q, ROUND_DOWN)
            m.resize(ask, i, max(new, VOL_Q).normalize())
        elif u < 0.9:
            # a new best level inside the spread, on the side the fair price pulls toward
            a, b = m.asks[0].price, m.bids[0].price
            if up:
                price = step_up(quote, b)
                if price < a:
                    m.bids.insert(0, self._level(m, price))
                    m.bids.pop()
            else:
                price = step_down(quote, a)
                if price > b:
                    m.asks.insert(0, self._level(m, price))
                    m.asks.pop()
            m.book_changed()
        else:
            # the best level on the side the price moves away from is cancelled
            self._drop_best(m, up)
        m.book_ts = ts
        self._publish_book(m, ts)

    def _publish_trade(self, m: MarketState, t: Trade, ts: int) -> None:
        held = self._held.pop(m.code, None)
        # draw unconditionally: the random sequence must not depend on batch timing
        if self.rng.random() < self.cfg.out_of_order_rate and held is None:
            self._held[m.code] = t  # its frame goes out after the next trade's, as Upbit's sometimes do
            return
        self._deliver_trade(m, t, ts + 1)
        if held is not None:
            self._deliver_trade(m, held, ts + 2)

    def _publish_book(self, m: MarketState, ts: int) -> None:
        subs = self.hub.subs.get(("orderbook", m.code))
        if subs:
            self.hub.deliver(
                subs,
                lambda s: wire.orderbook_frame(m, s.conn.simple, s.depth, s.level, "REALTIME", now=ts),
                "orderbook",
            )

    def _deliver_trade(self, m: MarketState, t: Trade, ts: int) -> None:
        subs = self.hub.subs.get(("trade", m.code))
        if subs:
            self.hub.deliver(subs, lambda s: wire.trade_frame(m, t, s.conn.simple, "REALTIME", ts), "trade")

    def _deliver_candle(self, m: MarketState, unit: str, now: int) -> None:
        subs = self.hub.subs.get((f"candle.{unit}", m.code))
        if subs:
            self.hub.deliver(
                subs, lambda s: wire.candle_frame(m, unit, s.conn.simple, "REALTIME", now), "candle"
            )

    def release_held(self) -> None:
        """Trades held back for reordering go out at the end of a batch at the latest."""
        if not self._held:
            return
        held, self._held = self._held, {}
        ts = now_ms()
        for code, t in held.items():
            self._deliver_trade(self.markets[code], t, ts)

    def push_candles(self, now: int, force: bool = False) -> None:
        """Candle frames: the current bucket of each subscribed unit, at most once a second per market."""
        if not self._candle_dirty:
            return
        done = []
        for m in self._candle_dirty:
            if now < m.candle_next and not force:
                continue
            done.append(m)
            m.candle_next = now + 1000
            for unit in CANDLE_UNITS:
                self._deliver_candle(m, unit, now)
        for m in done:
            self._candle_dirty.discard(m)

    def roll_days(self, now: int) -> None:
        for m in self.active:
            if now >= m.day_end:
                m.roll_day(now)
        self._next_day_end = min((m.day_end for m in self.active), default=now + 86_400_000)

    # ------------------------------------------------------------ running
    def simulate(self, t0: int, t1: int) -> None:
        """Generate the fine window [t0, t1) at `history_rate` events/s, with nobody subscribed."""
        n = int((t1 - t0) / 1000 * self.cfg.history_rate)
        self._history_pace = True
        try:
            for i in range(n):
                self.event(t0 + (t1 - t0) * i // n)
        finally:
            self._history_pace = False
        self._held.clear()
        self._candle_dirty.clear()
        for m in self.markets.values():
            m.trades_at_start = m.trades_generated

    def step(self, events: int) -> int:
        """Generate `events` events now (admin `step`, tests); returns the frames produced."""
        frames = 0
        ts = now_ms()
        for _ in range(events):
            if not self.active:
                break
            frames += self.event(ts)
        self.frames += frames
        self.release_held()
        self.push_candles(ts, force=True)
        self.hub.flush()
        return frames

    def _backlogged(self) -> bool:
        limit = 4 << 20
        for conn in self.hub.conns.values():
            t = conn.transport
            if conn.subs and t is not None and not t.is_closing() and t.get_write_buffer_size() > limit:
                return True
        return False

    def batch(self, target: int, t0: int, t1: int) -> int:
        """Events worth `target` frames, their times spread over [t0, t1]; returns the frames produced.
        `run` calls it with the wall clock; tests drive simulated time through it directly."""
        span = max(0, t1 - t0)
        n_est = max(1, int(target / 2.2))
        frames = 0
        i = 0
        while frames < target and self.active:
            frames += self.event(t0 + min(span, span * (i + 1) // n_est))
            i += 1
        self.frames += frames
        self.release_held()
        self.push_candles(t1)
        if t1 >= self._next_day_end:
            self.roll_days(t1)
        self.hub.flush()
        return frames

    def _freeze_after_full_collection(self) -> None:
        """A full garbage collection walks every tracked object, and the trade history holds millions: it
        paused the generator for 100-200 ms, which shows as latency in whatever the simulator feeds. Right
        after one, nothing old is garbage, so it is safe to freeze it; later full collections then walk
        only the objects made since (history trimmed later is freed by reference counting as usual)."""
        full = gc.get_stats()[2]["collections"]
        if full != self._full_collections:
            gc.freeze()
            self._full_collections = full

    async def run(self) -> None:
        """Generate until cancelled. A batch that raises is logged and counted (`errors`) and generation
        goes on: a dead generator task would stop the data silently while the server looks healthy."""
        gc.collect()  # the history made at start, once, before anyone is subscribed
        gc.freeze()
        self._full_collections = gc.get_stats()[2]["collections"]
        budget = 0.0
        last = time.monotonic()
        last_ms = now_ms()
        while True:
            if self.paused or not self.active:
                await asyncio.sleep(0.02)
                last, last_ms, budget = time.monotonic(), now_ms(), 0.0
                continue
            now = time.monotonic()
            if self.rate > 0:
                budget = min(budget + (now - last) * self.rate, max(self.rate, 1.0))
                last = now
                if budget < 1.0:
                    await asyncio.sleep(min(0.05, max(0.001, (1.0 - budget) / self.rate)))
                    continue
                target = min(int(budget), MAX_BATCH)
            else:
                last = now
                if self._backlogged():
                    await asyncio.sleep(0.0005)
                    continue
                target = MAX_BATCH // 4
            ms = now_ms()
            try:
                budget -= self.batch(target, last_ms, ms)
            except Exception:
                self.errors += 1
                log.exception("generator batch failed (%d errors so far); generation goes on", self.errors)
                budget = 0.0
                await asyncio.sleep(0.1)  # a failure that repeats must not flood the log
            last_ms = ms
            self._freeze_after_full_collection()
            await asyncio.sleep(0)
