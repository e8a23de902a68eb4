"""`/websocket/v1`: request parsing and validation, snapshots, LIST_SUBSCRIPTIONS, PING, rate limits."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, WSMsgType, web

from upbit_sim import wire
from upbit_sim.appkey import SIM
from upbit_sim.hub import FORMATS, Conn, Sub
from upbit_sim.market import CANDLE_UNITS, DEPTH
from upbit_sim.numfmt import dumps
from upbit_sim.ratelimit import allow_window
from upbit_sim.ticks import supported_levels

if TYPE_CHECKING:
    from upbit_sim.server import Simulator

TYPES = ("ticker", "trade", "orderbook", *(f"candle.{u}" for u in CANDLE_UNITS))
DEPTHS = (1, 5, 15, 30)
STATUS_UP = b'{"status":"UP"}'
ERROR_TEXT = {
    "WRONG_FORMAT": "The request format is wrong.",
    "NO_TICKET": "The ticket field is missing.",
    "NO_TYPE": "The type field is missing.",
    "NO_CODES": "The codes field is missing.",
    "INVALID_PARAM": "Invalid parameter.",
    "TOO_MANY_REQUESTS": "Too many requests: 5 per second and 100 per minute per connection.",
}


class RequestError(Exception):
    def __init__(self, name: str, detail: str = "") -> None:
        super().__init__(name)
        self.name = name
        self.detail = detail


def error_frame(name: str, detail: str = "") -> bytes:
    message = ERROR_TEXT.get(name, name) + (f" ({detail})" if detail else "")
    return json.dumps({"error": {"name": name, "message": message}}, ensure_ascii=False).encode()


@dataclass(slots=True)
class TypeRequest:
    type: str
    codes: list[tuple[str, str, int]]  # (code, as sent, depth)
    level: Decimal
    snapshot: bool
    realtime: bool


@dataclass(slots=True)
class Request:
    ticket: Any
    types: list[TypeRequest]
    fmt: str
    list_subscriptions: bool


def _flag(obj: dict[str, Any], snake: str, camel: str) -> bool:
    value = obj.get(snake, obj.get(camel, False))
    if not isinstance(value, bool):
        raise RequestError("INVALID_PARAM", f"{snake} must be true or false")
    return value


def _codes(type_: str, raw: list[str]) -> Iterator[tuple[str, str, int]]:
    for item in raw:
        code, depth = item, DEPTH
        if type_ == "orderbook" and "." in item:
            code, _, suffix = item.partition(".")
            if not suffix.isdigit():
                raise RequestError("INVALID_PARAM", f"bad orderbook depth in {item!r}")
            depth = (
                int(suffix) if int(suffix) in DEPTHS else DEPTH
            )  # since 2025-07-02 other N fall back to 30
        yield code, item, depth


def _type_request(item: dict[str, Any]) -> TypeRequest:
    type_ = item["type"]
    if type_ not in TYPES:
        raise RequestError("INVALID_PARAM", f"unknown type {type_!r}")
    if "codes" not in item or item["codes"] in (None, []):
        raise RequestError("NO_CODES")
    raw = item["codes"]
    if not isinstance(raw, list) or not all(isinstance(c, str) and c for c in raw):
        raise RequestError("INVALID_PARAM", "codes must be a list of market codes")
    level = Decimal(0)
    if "level" in item:
        try:
            level = Decimal(str(item["level"]))
        except InvalidOperation:
            raise RequestError("INVALID_PARAM", "level must be a number") from None
        if type_ != "orderbook" or isinstance(item["level"], bool) or level < 0:
            raise RequestError("INVALID_PARAM", "level is a non-negative number, orderbook only")
    snapshot_only = _flag(item, "is_only_snapshot", "isOnlySnapshot")
    realtime_only = _flag(item, "is_only_realtime", "isOnlyRealtime")
    return TypeRequest(type_, list(_codes(type_, raw)), level, not realtime_only, not snapshot_only)


def parse_request(text: str) -> Request:
    """Validate one request array; raises `RequestError` with Upbit's error name."""
    try:
        items = json.loads(text, parse_float=Decimal)
    except ValueError:
        raise RequestError("WRONG_FORMAT", "not JSON") from None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise RequestError("WRONG_FORMAT", "expected [{ticket}, {type, codes}, ..., {format}]")
    tickets = [i["ticket"] for i in items if "ticket" in i]
    if not tickets or tickets[0] in (None, ""):
        raise RequestError("NO_TICKET")
    fmt = "DEFAULT"
    for item in items:
        if "format" in item:
            fmt = item["format"]
            if fmt not in FORMATS:
                raise RequestError("INVALID_PARAM", f"format must be one of {', '.join(FORMATS)}")
    listing = False
    types: list[TypeRequest] = []
    for item in items:
        if "method" in item:
            if item["method"] != "LIST_SUBSCRIPTIONS":
                raise RequestError("INVALID_PARAM", "method must be LIST_SUBSCRIPTIONS")
            listing = True
        if "type" not in item:
            continue
        types.append(_type_request(item))
    if not types and not listing:
        raise RequestError("NO_TYPE")
    return Request(tickets[0], types, fmt, listing)


async def websocket_handler(request: web.Request) -> web.StreamResponse:
    sim: Simulator = request.app[SIM]
    peer = request.remote or "?"
    verdict = sim.ws_connect_limiter.check(peer, ("ws-connect", peer), time.monotonic())
    if verdict.status != 200:
        sim.hub.counters[f"connections_rejected_{verdict.status}"] += 1
        return sim.rest_error_response(verdict.status, verdict.block_seconds)
    ws = web.WebSocketResponse(autoping=False, compress=False, max_msg_size=1 << 20)
    await ws.prepare(request)
    conn = sim.hub.open(ws, request.transport, peer)
    try:
        async for msg in ws:
            conn.last_activity = time.monotonic()
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                data = msg.data if isinstance(msg.data, str) else msg.data.decode("utf-8", "replace")
                if data.strip() == "PING":
                    conn.status_up = True
                    conn.next_status = time.monotonic() + sim.cfg.status_interval
                    sim.hub.control(conn, STATUS_UP, "status")
                else:
                    await handle_request(sim, conn, data)
            elif msg.type == WSMsgType.PING and not conn.stalled:
                with contextlib.suppress(ConnectionError):
                    await ws.pong(msg.data)
            elif msg.type == WSMsgType.ERROR:
                break
    finally:
        sim.hub.close(conn)
    return ws


async def handle_request(sim: Simulator, conn: Conn, text: str) -> None:
    cfg = sim.cfg
    now = time.monotonic()
    if not allow_window(conn.req_times, now, cfg.ws_subscribe_per_sec, cfg.ws_subscribe_per_min):
        conn.strikes += 1
        sim.hub.counters["subscribe_rate_limited"] += 1
        verdict = sim.ws_connect_limiter.strike(conn.peer, now)
        if verdict.status == 418:
            # kept going after being told: the IP is blocked, this connection is closed
            sim.hub.counters["subscribe_blocked_418"] += 1
            sim.hub.control(
                conn,
                error_frame("TOO_MANY_REQUESTS", f"418: blocked for {verdict.block_seconds:g} s"),
                "error",
            )
            await conn.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"418 blocked: too many requests")
            return
        sim.hub.control(conn, error_frame("TOO_MANY_REQUESTS", "429"), "error")
        return
    sim.hub.counters["subscribe_requests"] += 1
    try:
        req = parse_request(text)
        subs = _resolve(sim, conn, req)
    except RequestError as exc:
        sim.hub.counters[f"request_errors_{exc.name}"] += 1
        sim.hub.control(conn, error_frame(exc.name, exc.detail), "error")
        return
    conn.ticket = req.ticket
    conn.set_format(req.fmt)
    if req.types:
        sim.hub.set_subs(conn, [s for s, tr in subs if tr.realtime])
        if sim.replay is None:
            _send_snapshots(sim, conn, subs)
        else:
            sim.replay.on_subscription()
    if req.list_subscriptions:
        sim.hub.control(conn, _list_reply(conn, req.ticket), "list")


def _resolve(sim: Simulator, conn: Conn, req: Request) -> list[tuple[Sub, TypeRequest]]:
    out: list[tuple[Sub, TypeRequest]] = []
    seen: set[tuple[str, str]] = set()
    for tr in req.types:
        for code, raw, depth in tr.codes:
            if tr.level:
                m = sim.any_market(code)
                if m is not None and tr.level not in supported_levels(m.quote, m.ref_price()):
                    raise RequestError("INVALID_PARAM", f"level {tr.level} is not supported for {code}")
            if (tr.type, raw) in seen:
                continue
            seen.add((tr.type, raw))
            out.append((Sub(conn, tr.type, code, raw_code=raw, depth=depth, level=tr.level), tr))
    return out


def _send_snapshots(sim: Simulator, conn: Conn, subs: list[tuple[Sub, TypeRequest]]) -> None:
    engine = sim.engine
    assert engine is not None
    for sub, tr in subs:
        if not tr.snapshot:
            continue
        m = engine.markets.get(sub.code)
        if m is None or m.state == "DELISTED":
            continue
        simple = conn.simple
        payload: bytes | None
        if sub.type == "trade":
            t = m.last_trade
            payload = None if t is None else wire.trade_frame(m, t, simple, "SNAPSHOT", t.ts + 4)
        elif sub.type == "ticker":
            t = m.ticker_trade
            payload = None if t is None else wire.ticker_frame(m, simple, "SNAPSHOT", t.ts + 7)
        elif sub.type == "orderbook":
            payload = (
                None
                if not m.asks
                else wire.orderbook_frame(m, simple, sub.depth, sub.level, "SNAPSHOT", now=m.book_ts)
            )
        else:
            payload = wire.candle_frame(
                m, sub.type.split(".", 1)[1], simple, "SNAPSHOT", int(time.time() * 1000)
            )
        if payload is not None:
            sim.hub.queue(conn, payload, sub.type.split(".", 1)[0])
    sim.hub.flush_conn(conn)


def _list_reply(conn: Conn, ticket: Any) -> bytes:
    groups: dict[str, dict[str, Any]] = {}
    for sub in conn.subs:
        g = groups.setdefault(sub.type, {"type": sub.type, "codes": []})
        g["codes"].append(sub.raw_code)
        if sub.type == "orderbook":
            g["level"] = sub.level
    result = list(groups.values())
    if conn.simple:
        reply: dict[str, Any] = {
            "mthd": "LIST_SUBSCRIPTIONS",
            "rslt": [
                {("ty" if k == "type" else "cds" if k == "codes" else "lv"): v for k, v in g.items()}
                for g in result
            ],
            "tckt": ticket,
        }
    else:
        reply = {"method": "LIST_SUBSCRIPTIONS", "result": result, "ticket": ticket}
    return dumps(reply).encode()
