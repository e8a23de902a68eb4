"""WebSocket connections, the subscription index and frame delivery.

The engine publishes an event to the subscribers of `(type, code)`; each payload is encoded once per
format and framed once, then appended to every subscriber's buffer. `flush()` writes each buffer to its
transport in one `write` (server frames are unmasked, so framing is just a header).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aiohttp import WSCloseCode, web

from upbit_sim.faults import STREAM_FAULTS, FaultError, Faults, Injector, RestFault, number

LIST_BATCH = 200  # most objects in one JSON_LIST / SIMPLE_LIST frame
FORMATS = ("DEFAULT", "SIMPLE", "JSON_LIST", "SIMPLE_LIST")


def ws_frame(payload: bytes) -> bytes:
    """One unmasked, final, binary WebSocket frame."""
    n = len(payload)
    if n < 126:
        return bytes((0x82, n)) + payload
    if n < 65536:
        return b"\x82\x7e" + n.to_bytes(2, "big") + payload
    return b"\x82\x7f" + n.to_bytes(8, "big") + payload


def _is_trade(frame: bytes) -> bool:
    head = frame[:24]
    return b'"type":"trade"' in head or b'"ty":"trade"' in head


class Sub:
    """One (type, code) a connection receives in realtime."""

    __slots__ = ("ckey", "code", "conn", "depth", "level", "raw_code", "type")

    def __init__(
        self, conn: Conn, type_: str, code: str, *, raw_code: str, depth: int, level: Decimal
    ) -> None:
        self.conn, self.type, self.code, self.raw_code, self.depth, self.level = (
            conn,
            type_,
            code,
            raw_code,
            depth,
            level,
        )
        self.ckey: tuple[bool, int, Decimal] = (conn.simple, depth, level)


class Conn:
    """One WebSocket client."""

    __slots__ = (
        "buf",
        "bytes_out",
        "closed",
        "created",
        "dirty",
        "format",
        "frames_out",
        "held",
        "id",
        "last_activity",
        "listmode",
        "next_status",
        "peer",
        "req_times",
        "simple",
        "stall_until",
        "stalled",
        "status_up",
        "strikes",
        "subs",
        "ticket",
        "transport",
        "ws",
    )

    def __init__(self, conn_id: int, ws: web.WebSocketResponse, transport: Any, peer: str) -> None:
        self.id = conn_id
        self.ws = ws
        self.transport = transport
        self.peer = peer
        self.buf: list[bytes] = []
        self.dirty = False
        self.format = "DEFAULT"
        self.simple = False
        self.listmode = False
        self.subs: list[Sub] = []
        self.ticket: Any = None
        self.status_up = False
        self.next_status = 0.0
        self.created = self.last_activity = time.monotonic()
        self.stalled = False
        self.stall_until: float | None = None
        self.frames_out = 0
        self.held: tuple[bytes, float] | None = None  # a trade frame the out_of_order fault holds back
        self.bytes_out = 0
        self.closed = False
        self.req_times: deque[float] = deque()
        self.strikes = 0

    def set_format(self, fmt: str) -> None:
        self.format = fmt
        self.simple = fmt.startswith("SIMPLE")
        self.listmode = fmt.endswith("_LIST")
        for sub in self.subs:
            sub.ckey = (self.simple, sub.depth, sub.level)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "peer": self.peer,
            "format": self.format,
            "subscriptions": len(self.subs),
            "frames_out": self.frames_out,
            "bytes_out": self.bytes_out,
            "stalled": self.stalled,
            "age_s": round(time.monotonic() - self.created, 3),
        }


class Hub:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.conns: dict[int, Conn] = {}
        self.subs: dict[tuple[str, str], list[Sub]] = {}
        self.dirty: list[Conn] = []
        self.sent: Counter[str] = Counter()
        self.counters: Counter[str] = Counter()
        self._next_id = 1
        self.write_limit = 64 << 20
        self.bytes_total = 0
        self._tasks: set[asyncio.Future[Any]] = set()

    # ------------------------------------------------------------ connections
    def open(self, ws: web.WebSocketResponse, transport: Any, peer: str) -> Conn:
        conn = Conn(self._next_id, ws, transport, peer)
        self._next_id += 1
        self.conns[conn.id] = conn
        self.counters["connections_total"] += 1
        if self.faults.stall_all_until is not None:
            conn.stalled = True
            conn.stall_until = self.faults.stall_all_until
        return conn

    def close(self, conn: Conn) -> None:
        conn.closed = True
        self.set_subs(conn, [])
        self.conns.pop(conn.id, None)

    def set_subs(self, conn: Conn, subs: list[Sub]) -> None:
        """Replace a connection's realtime subscriptions."""
        for sub in conn.subs:
            lst = self.subs.get((sub.type, sub.code))
            if lst is not None:
                lst[:] = [s for s in lst if s is not sub]
                if not lst:
                    del self.subs[(sub.type, sub.code)]
        conn.subs = subs
        for sub in subs:
            self.subs.setdefault((sub.type, sub.code), []).append(sub)

    def subscription_count(self) -> int:
        return sum(len(v) for v in self.subs.values())

    # ------------------------------------------------------------ delivery
    def deliver(self, subs: list[Sub], enc: Callable[[Sub], bytes | None], kind: str) -> None:
        """Queue one event for every subscriber, encoding once per (format, depth, level)."""
        if len(subs) == 1:
            self._deliver_one(subs[0], enc, kind)
            return
        # per cache key: [payload, framed payload (made on first use)], or None when there is nothing to send
        cache: dict[tuple[bool, int, Decimal], list[bytes] | None] = {}
        dirty = self.dirty
        n = 0
        for sub in subs:
            conn = sub.conn
            if conn.stalled:
                continue
            k = sub.ckey
            if k in cache:
                entry = cache[k]
            else:
                p = enc(sub)
                entry = cache[k] = None if p is None else [p]
            if entry is None:
                continue
            if conn.listmode:
                conn.buf.append(entry[0])
            else:
                if len(entry) == 1:
                    entry.append(ws_frame(entry[0]))
                conn.buf.append(entry[1])
            n += 1
            if not conn.dirty:
                conn.dirty = True
                dirty.append(conn)
        self.sent[kind] += n

    def _deliver_one(self, sub: Sub, enc: Callable[[Sub], bytes | None], kind: str) -> None:
        conn = sub.conn
        if conn.stalled:
            return
        payload = enc(sub)
        if payload is None:
            return
        conn.buf.append(payload if conn.listmode else ws_frame(payload))
        if not conn.dirty:
            conn.dirty = True
            self.dirty.append(conn)
        self.sent[kind] += 1

    def queue(self, conn: Conn, payload: bytes, kind: str) -> None:
        """Queue one data payload (a snapshot) for a connection; `flush_conn` sends it."""
        if conn.closed or conn.stalled:
            return
        conn.buf.append(payload if conn.listmode else ws_frame(payload))
        self.sent[kind] += 1

    def control(self, conn: Conn, payload: bytes, kind: str) -> None:
        """A control frame (status, error, list reply): after what is queued, written now, never batched."""
        if conn.closed or conn.stalled:
            return
        self.flush_conn(conn)
        conn.buf.append(ws_frame(payload))
        self._flush(conn, raw=True)
        self.sent[kind] += 1

    def flush_conn(self, conn: Conn) -> None:
        self._flush(conn)

    def flush(self) -> None:
        dirty = self.dirty
        if not dirty:
            return
        self.dirty = []
        for conn in dirty:
            self._flush(conn)

    def _flush(self, conn: Conn, raw: bool = False) -> None:
        conn.dirty = False
        buf = conn.buf
        if not buf:
            return
        conn.buf = []
        transport = conn.transport
        if conn.closed or conn.stalled or transport is None or transport.is_closing():
            return
        if conn.listmode and not raw:
            frames = [
                ws_frame(b"[" + b",".join(buf[i : i + LIST_BATCH]) + b"]")
                for i in range(0, len(buf), LIST_BATCH)
            ]
        else:
            frames = buf
        faults = self.faults
        drop_after = -1
        if faults.stream_active or conn.held is not None:
            frames = self._mangle(conn, frames)
            if faults.drop_every and conn.frames_out + len(frames) >= faults.drop_every:
                # A connection already past n frames is cut before it is sent anything more: frames are
                # never dropped from an open connection (no client could tell).
                drop_after = max(0, faults.drop_every - conn.frames_out)
                frames = frames[:drop_after]
        data = b"".join(frames)
        transport.write(data)
        conn.frames_out += len(frames)
        conn.bytes_out += len(data)
        self.bytes_total += len(data)
        conn.last_activity = time.monotonic()
        if drop_after >= 0:
            faults.counters["drop_every"] += 1
            self.abort(conn)
        elif transport.get_write_buffer_size() > self.write_limit:
            # a consumer this slow would be cut off by a real exchange too
            self.counters["slow_consumer_closes"] += 1
            self.abort(conn)

    def _mangle(self, conn: Conn, frames: list[bytes]) -> list[bytes]:
        faults = self.faults
        if not faults.stream and conn.held is None:
            return frames
        out: list[bytes] = []
        for f in frames:
            if faults.fire("malformed"):
                out.append(ws_frame(faults.malformed_frame()))
            trade = _is_trade(f)
            if (
                trade
                and conn.held is None
                and "out_of_order" in faults.stream
                and faults.fire("out_of_order")
            ):
                conn.held = (f, time.monotonic())  # goes out after the next trade frame
                continue
            out.append(f)
            if trade and conn.held is not None:
                out.append(conn.held[0])
                conn.held = None
            if faults.fire("duplicate"):
                out.append(f)
        if conn.held is not None and time.monotonic() - conn.held[1] > 0.5:
            out.append(conn.held[0])  # no later trade came: late, but not lost
            conn.held = None
        return out

    def abort(self, conn: Conn) -> None:
        """Cut the TCP connection without a close frame (what a network failure looks like)."""
        conn.closed = True
        if conn.transport is not None:
            conn.transport.abort()

    # ------------------------------------------------------------ faults
    def apply_fault(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        """Start (or clear) a fault; returns what was done. Raises `FaultError` for a bad command."""
        now = time.monotonic()
        seconds = number(params, "seconds")
        until = None if seconds is None else now + seconds
        target = number(params, "conn_id", minimum=1, integer=True)
        targets = [c for c in self.conns.values() if target is None or c.id == target]
        if target is not None and not targets:
            raise FaultError(f"no connection {int(target)}")
        if name in STREAM_FAULTS:
            return self._stream_fault(name, params, until)
        if name in ("rest_error", "rest_slow"):
            return self._rest_fault(name, params, until)
        handler = {
            "drop": self._drop,
            "drop_every": self._drop_every,
            "stall": self._stall,
            "unstall": self._unstall,
            "clear": self._clear,
        }.get(name)
        if handler is None:
            raise FaultError(f"unknown fault {name!r}")
        return handler(params, targets, target is None, until)

    def _drop(self, _: dict[str, Any], targets: list[Conn], __: bool, ___: float | None) -> dict[str, Any]:
        for conn in targets:
            self.abort(conn)
        self.faults.counters["drop"] += len(targets)
        return {"dropped": [c.id for c in targets]}

    def _drop_every(
        self, params: dict[str, Any], _: list[Conn], __: bool, ___: float | None
    ) -> dict[str, Any]:
        n = number(params, "n", minimum=0, integer=True)
        if n is None:
            raise FaultError("drop_every needs n (frames per connection; 0 turns it off)")
        self.faults.drop_every = int(n)
        return {"drop_every": self.faults.drop_every}

    def _stall(
        self, params: dict[str, Any], targets: list[Conn], everyone: bool, until: float | None
    ) -> dict[str, Any]:
        for conn in targets:
            conn.stalled = True
            conn.stall_until = until
            conn.buf.clear()
        if everyone and params.get("new_connections", True) is not False:
            self.faults.stall_all_until = until if until is not None else float("inf")
        self.faults.counters["stall"] += len(targets)
        return {"stalled": [c.id for c in targets], "seconds": params.get("seconds")}

    def _unstall(self, _: dict[str, Any], targets: list[Conn], __: bool, ___: float | None) -> dict[str, Any]:
        for conn in targets:
            conn.stalled = False
            conn.stall_until = None
        self.faults.stall_all_until = None
        return {"unstalled": [c.id for c in targets]}

    def _clear(self, _: dict[str, Any], __: list[Conn], ___: bool, ____: float | None) -> dict[str, Any]:
        faults = self.faults
        faults.drop_every = 0
        faults.stream.clear()
        faults.rest_error = faults.rest_slow = None
        faults.stall_all_until = None
        for conn in self.conns.values():
            conn.stalled = False
            conn.stall_until = None
        return {"cleared": True}

    def _stream_fault(self, name: str, params: dict[str, Any], until: float | None) -> dict[str, Any]:
        count = number(params, "count", minimum=0, integer=True)
        rate = number(params, "rate")
        if (count is None) == (rate is None):
            raise FaultError(f"{name} needs exactly one of count or rate")
        if rate is not None and rate > 1:
            raise FaultError("rate is a probability per frame (0..1)")
        if count == 0 or rate == 0:
            self.faults.stream.pop(name, None)
        else:
            self.faults.stream[name] = Injector(None if count is None else int(count), rate, until)
        return {name: params}

    def _rest_fault(self, name: str, params: dict[str, Any], until: float | None) -> dict[str, Any]:
        count = number(params, "count", minimum=1, integer=True)
        if count is None and until is None:
            raise FaultError(f"{name} needs count (requests) or seconds")
        n = None if count is None else int(count)
        if name == "rest_error":
            status = number(params, "status", minimum=400, integer=True) or 503
            if not 400 <= status <= 599:
                raise FaultError("status must be an HTTP error status (400-599)")
            self.faults.rest_error = RestFault(int(status), 0, n, until)
        else:
            delay = number(params, "delay_ms", minimum=1, integer=True)
            if delay is None:
                raise FaultError("rest_slow needs delay_ms")
            self.faults.rest_slow = RestFault(200, int(delay), n, until)
        return {name: params}

    def housekeeping(
        self, now: float, idle_timeout: float, status_interval: float, status_frame: bytes
    ) -> None:
        """Idle close, the periodic `{"status":"UP"}`, stalls that end."""
        self.faults.expire(now)
        if self.faults.stall_all_until is not None and now >= self.faults.stall_all_until:
            self.faults.stall_all_until = None
        for conn in list(self.conns.values()):
            if conn.stalled and conn.stall_until is not None and now >= conn.stall_until:
                conn.stalled = False
                conn.stall_until = None
            if now - conn.last_activity > idle_timeout:
                self.counters["idle_closes"] += 1
                self.close_gracefully(conn, "idle timeout")
                continue
            if conn.status_up and not conn.stalled and now >= conn.next_status:
                conn.next_status = now + status_interval
                self.control(conn, status_frame, "status")

    def close_gracefully(self, conn: Conn, reason: str) -> None:
        """Close with a close frame (the handler's receive loop then ends)."""
        if conn.closed:
            return
        conn.closed = True
        task = asyncio.ensure_future(conn.ws.close(code=WSCloseCode.OK, message=reason.encode()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
