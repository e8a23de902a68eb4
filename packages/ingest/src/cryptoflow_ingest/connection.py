"""One Upbit WebSocket connection for a shard of markets: connect, subscribe, read, keep alive, reconnect.

cryptofeed's connection handler is the model, minus its flaws: the queue it feeds is bounded (a slow Kafka
stalls the socket reader instead of growing memory), every task is owned and cancelled, the backoff is
jittered and resets only once a subscription is live, and a silent connection is closed by a watchdog.

The client is aiohttp's: its frame reader is compiled, and it read a frame for 5.1-5.5 us of CPU where
`websockets` took 8.9-9.5 us (same simulator, 10,000 frames/s). Its reader queue is bounded in bytes, so
back-pressure still reaches the socket. Dead peers are found by the watchdog (the text PING keeps even a
quiet shard's frames coming), so aiohttp's own heartbeat is off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence

import aiohttp
from aiohttp import ClientWebSocketResponse, WSMsgType

from cryptoflow_contracts.backoff import Backoff
from cryptoflow_ingest.settings import IngestSettings
from cryptoflow_ingest.subscriptions import subscribe_request
from cryptoflow_upbit_client import GroupLimiter

log = logging.getLogger(__name__)


class Watermark:
    """How far one subscription's stream is known to have been delivered, in exchange time.

    The publisher raises `exchange_ms` to the newest exchange `timestamp` among the frames of the
    subscription it has processed; it starts at the (local) time of the subscribe. Every frame the server
    sent before that one was received too (one TCP stream, in order), so after a drop only trades from about
    `exchange_ms` on can be missing. The receive time is no bound: while Kafka pushes back, the socket is
    read late and the frames lost with it can be much older than the last one read.
    """

    __slots__ = ("exchange_ms",)

    def __init__(self, exchange_ms: int) -> None:
        self.exchange_ms = exchange_ms


Frame = tuple[bytes, int, Watermark]
"""A raw frame, the epoch ms it was received at, and the watermark of its subscription."""

# Called with the connection's markets: `on_down(markets, delivered_ms)` when a live connection is lost
# or about to be resubscribed (trades from about `delivered_ms` on may be missing), `on_live(markets)` at
# the first frame after a subscribe.
OnDown = Callable[[Sequence[str], int], None]
OnLive = Callable[[Sequence[str]], None]


class IdleTimeoutError(Exception):
    """No frame arrived within the idle timeout."""


class ConnectionLostError(Exception):
    """The server closed the connection, or it broke."""


_MAX_FRAME_BYTES = 1 << 20
_CLOSED = frozenset({WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED})


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class WsConnection:
    def __init__(
        self,
        name: str,
        codes: Sequence[str],
        *,
        settings: IngestSettings,
        queue: asyncio.Queue[Frame],
        connect_limits: GroupLimiter,
        on_down: OnDown,
        on_live: OnLive,
        on_reconnect: Callable[[], None],
    ) -> None:
        self.name = name
        self._codes = tuple(codes)
        self._settings = settings
        self._queue = queue
        self._connect_limits = connect_limits
        # Upbit counts data requests per connection: 5/s and 100/min.
        slack = settings.rate_limit_slack_s
        self._subscribe_limits = GroupLimiter(
            settings.subscribes_per_s, 1.0 + slack, also=[(settings.subscribes_per_min, 60.0 + slack)]
        )
        self._on_down = on_down
        self._on_live = on_live
        self._on_reconnect = on_reconnect
        self._backoff = Backoff(initial_s=settings.backoff_initial_s, max_s=settings.backoff_max_s)
        self._stopping = asyncio.Event()
        self._resubscribe = asyncio.Event()
        self._ws: ClientWebSocketResponse | None = None
        self._awaiting_first = False
        self._subscribed: tuple[str, ...] = ()
        self._frames = 0
        self._backpressured = False  # the reader waits for room in the queue (Kafka is slow)
        self._idle_close = False  # the watchdog is closing this session's socket
        self._mark = Watermark(0)
        self.connected = False

    @property
    def codes(self) -> tuple[str, ...]:
        return self._codes

    def set_codes(self, codes: Sequence[str]) -> None:
        """Replace the markets; a live connection resubscribes with the full new list."""
        self._codes = tuple(codes)
        self._resubscribe.set()

    def stop(self) -> None:
        self._stopping.set()
        self._resubscribe.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            await self._connect_limits.acquire()
            if self._stopping.is_set():
                break
            try:
                await self._session()
            except (OSError, TimeoutError, aiohttp.ClientError, ConnectionLostError, IdleTimeoutError) as exc:
                log.warning("%s: connection lost: %s: %s", self.name, type(exc).__name__, exc)
            except Exception:
                # Whatever else went wrong, this shard must not go silent: log it and reconnect.
                log.exception("%s: unexpected error; reconnecting", self.name)
            finally:
                self.connected = False
                self._ws = None
            if self._stopping.is_set():
                break
            if self._subscribed:
                self._on_down(self._subscribed, self._mark.exchange_ms)
                self._subscribed = ()
            self._on_reconnect()
            delay = self._backoff.next_delay()
            log.info("%s: reconnecting in %.2f s (attempt %d)", self.name, delay, self._backoff.attempt)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _session(self) -> None:
        settings = self._settings
        # The handshake may take 10 s; once upgraded, reads have no timeout (the watchdog's job).
        handshake = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=10)
        async with (
            aiohttp.ClientSession(timeout=handshake) as http,
            http.ws_connect(
                settings.ws_url,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=2),
                compress=15 if settings.ws_deflate else 0,
                max_msg_size=_MAX_FRAME_BYTES,
            ) as ws,
        ):
            self._ws = ws
            self._idle_close = False
            self.connected = True
            log.info("%s: connected to %s", self.name, settings.ws_url)
            helpers = [
                asyncio.create_task(self._subscriber(ws), name=f"{self.name}-subscriber"),
                asyncio.create_task(self._pinger(ws), name=f"{self.name}-pinger"),
            ]
            watchdog = asyncio.create_task(self._watchdog(ws), name=f"{self.name}-watchdog")
            try:
                await self._read(ws)
            finally:
                for task in (*helpers, watchdog):
                    task.cancel()
                results = await asyncio.gather(*helpers, watchdog, return_exceptions=True)
            # A helper's failure (a send on a closed socket, the watchdog) is why reading stopped.
            for result in results:
                if isinstance(result, Exception):
                    raise result

    async def _read(self, ws: ClientWebSocketResponse) -> None:
        put, put_nowait = self._queue.put, self._queue.put_nowait
        receive = ws.receive
        while True:
            message = await receive()
            kind = message.type
            if kind is WSMsgType.BINARY:
                raw: bytes = message.data
            elif kind is WSMsgType.TEXT:
                raw = message.data.encode()
            elif kind in _CLOSED or kind is WSMsgType.ERROR:
                if self._stopping.is_set():
                    return
                if self._idle_close:
                    raise IdleTimeoutError(f"no frame for {self._settings.idle_timeout_s} s")
                reason = ws.exception() or f"closed with code {ws.close_code}"
                raise ConnectionLostError(str(reason))
            else:  # control frames aiohttp already answered
                continue
            self._frames += 1
            received = now_ms()
            if self._awaiting_first:
                # The server has the subscription: everything from here on comes live.
                self._awaiting_first = False
                self._backoff.reset()
                self._on_live(self._subscribed)
            frame = (raw, received, self._mark)
            try:
                put_nowait(frame)
            except asyncio.QueueFull:
                # Back-pressure, not silence: the watchdog must not close a healthy socket meanwhile.
                self._backpressured = True
                try:
                    await put(frame)
                finally:
                    self._backpressured = False

    async def _subscriber(self, ws: ClientWebSocketResponse) -> None:
        while True:
            if self._stopping.is_set():
                await ws.close()
                return
            codes = self._codes
            if self._subscribed and self._subscribed != codes:
                # A replacing subscription may skip frames while the server switches over.
                self._on_down(self._subscribed, self._mark.exchange_ms)
            await self._subscribe_limits.acquire()
            self._resubscribe.clear()
            await ws.send_str(
                subscribe_request(
                    codes,
                    orderbook_depth=self._settings.orderbook_depth,
                    ws_format=self._settings.ws_format,
                ).decode()
            )
            self._subscribed = codes
            self._mark = Watermark(now_ms())
            self._awaiting_first = True
            log.info("%s: subscribed %d markets", self.name, len(codes))
            await self._resubscribe.wait()

    async def _pinger(self, ws: ClientWebSocketResponse) -> None:
        # The text PING makes Upbit answer {"status":"UP"}, which feeds the watchdog on quiet shards.
        while True:
            await asyncio.sleep(self._settings.ping_interval_s)
            await ws.send_str("PING")

    async def _watchdog(self, ws: ClientWebSocketResponse) -> None:
        # Polls a frame counter rather than timing every recv(): nothing is added to the hot loop. Time the
        # reader spends waiting for room in the queue is not idle time: the socket is unread, not silent.
        timeout = self._settings.idle_timeout_s
        loop = asyncio.get_running_loop()
        seen, since = self._frames, loop.time()
        while True:
            await asyncio.sleep(timeout / 4)
            if self._frames != seen or self._backpressured:
                seen, since = self._frames, loop.time()
            elif loop.time() - since >= timeout:
                log.warning("%s: no frame for %.1f s: closing", self.name, timeout)
                self._idle_close = True  # the reader, woken by the close, raises IdleTimeoutError
                await ws.close(code=4000, message=b"idle")
                return
