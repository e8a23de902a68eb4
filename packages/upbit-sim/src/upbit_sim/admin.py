"""`/admin/...`: statistics, faults, markets, the generator and every generated trade. Loopback only."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

from upbit_sim import wire
from upbit_sim.appkey import SIM
from upbit_sim.catalog import new_market
from upbit_sim.faults import FAULT_NAMES, FaultError
from upbit_sim.rest import json_response

if TYPE_CHECKING:
    from upbit_sim.server import Simulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _loopback(peer: str | None) -> bool:
    try:
        return peer is not None and ipaddress.ip_address(peer.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@web.middleware
async def admin_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/admin"):
        sim: Simulator = request.app[SIM]
        if not sim.cfg.admin_allow_remote and not _loopback(request.remote):
            return json_response({"error": "admin API is loopback-only"}, 403)
    return await handler(request)


def _sim(request: web.Request) -> Simulator:
    sim: Simulator = request.app[SIM]
    return sim


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return dict(request.query)
    try:
        body = await request.json(loads=lambda s: json.loads(s, parse_float=float))
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"error":"body must be a JSON object"}', content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error":"body must be a JSON object"}', content_type="application/json"
        )
    return body


async def stats(request: web.Request) -> web.Response:
    return json_response(_sim(request).stats())


async def faults_get(request: web.Request) -> web.Response:
    sim = _sim(request)
    return json_response({"active": sim.faults.describe(), "counters": dict(sim.faults.counters)})


async def fault_post(request: web.Request) -> web.Response:
    sim = _sim(request)
    name = request.match_info["name"]
    if name not in FAULT_NAMES:
        return json_response({"error": f"unknown fault {name!r}", "faults": list(FAULT_NAMES)}, 404)
    try:
        result = sim.hub.apply_fault(name, await _body(request))
    except FaultError as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response(result)


async def connections(request: web.Request) -> web.Response:
    return json_response([c.describe() for c in _sim(request).hub.conns.values()])


async def markets_get(request: web.Request) -> web.Response:
    sim = _sim(request)
    return json_response(
        [
            {"market": m.code, "state": m.state, "delisting_date": m.delisting_date, "price": m.ref_price()}
            for m in sim.all_markets()
        ]
    )


async def market_list(request: web.Request) -> web.Response:
    sim = _sim(request)
    body = await _body(request)
    code = body.get("market")
    if not isinstance(code, str) or "-" not in code:
        return json_response({"error": "market (QUOTE-BASE) is required"}, 400)
    price = None
    if body.get("price") is not None:
        try:
            price = Decimal(str(body["price"]))
        except InvalidOperation:
            return json_response({"error": "price must be a number"}, 400)
    try:
        info = new_market(code, sim.cfg.seed, body.get("korean_name"), body.get("english_name"), price)
        m = sim.list_market(info)
    except ValueError as exc:
        return json_response({"error": str(exc)}, 409 if "already" in str(exc) else 400)
    return json_response({"market": m.code, "state": m.state, "price": m.ref_price()})


async def market_delist(request: web.Request) -> web.Response:
    sim = _sim(request)
    code = request.match_info["code"]
    try:
        m = sim.delist_market(code)
    except (KeyError, RuntimeError):
        return json_response({"error": f"{code} is not listed"}, 404)
    return json_response({"market": m.code, "state": m.state})


async def market_price(request: web.Request) -> web.Response:
    """Move a market's price: `{"price": P}` sets it, `{"change_percent": X}` nudges it by X % (X < 0 down).
    The book is rebuilt with its best ask at P (snapped up to the tick grid) and one trade goes out at once
    (at the best ask, or on a sell at the best bid a tick below); the generator walks on from there."""
    sim = _sim(request)
    if sim.engine is None:
        return json_response({"error": "prices cannot be moved in replay mode"}, 409)
    code = request.match_info["code"]
    m = sim.any_market(code)
    if m is None or m.state == "DELISTED":
        return json_response({"error": f"{code} is not listed"}, 404)
    body = await _body(request)
    if ("price" in body) == ("change_percent" in body):
        return json_response({"error": "give exactly one of price, change_percent"}, 400)
    try:
        if "price" in body:
            price = Decimal(str(body["price"]))
        else:
            price = m.ref_price() * (1 + Decimal(str(body["change_percent"])) / 100)
    except InvalidOperation:
        return json_response({"error": "price and change_percent must be numbers"}, 400)
    if not price.is_finite() or price <= 0:
        return json_response({"error": "the price must be a number > 0"}, 400)
    sim.engine.move_price(code, price)
    last = m.last_trade
    return json_response(
        {"market": m.code, "price": m.ref_price(), "trade_price": last.price if last else None}
    )


async def trades(request: web.Request) -> web.Response:
    """Every trade the simulator generated for a market (by default since the run started).

    `order=asc|desc` (desc, newest first, by default), `history=true` to include the synthetic past,
    `after=<sequential_id>` for only newer trades, `limit=<n>` to cap the answer (newest kept)."""
    sim = _sim(request)
    q = request.query
    code = q.get("market")
    m = sim.any_market(code) if code else None
    if m is None:
        return json_response({"error": "market is required and must exist"}, 404)
    try:
        after = int(q["after"]) if "after" in q else None
        limit = int(q["limit"]) if "limit" in q else None
    except ValueError:
        return json_response({"error": "after and limit must be integers"}, 400)
    since = 0 if q.get("history", "false").lower() == "true" or sim.engine is None else sim.engine.start_ms
    picked = [t for t in m.trades if t.ts >= since and (after is None or t.seq > after)]
    if limit is not None:
        picked = picked[-limit:] if limit > 0 else []
    if q.get("order", "desc") == "desc":
        picked.reverse()
    return json_response(
        {
            "market": m.code,
            "count": len(picked),
            "evicted": m.trades_evicted,
            "trades": [wire.rest_trade(t, m.code) for t in picked],
        }
    )


async def generator(request: web.Request) -> web.Response:
    sim = _sim(request)
    engine = sim.engine
    if engine is None:
        return json_response({"error": "no generator in replay mode"}, 409)
    action = request.match_info["action"]
    body = await _body(request)
    if action == "pause":
        engine.paused = True
    elif action == "resume":
        engine.paused = False
    elif action == "step":
        events = body.get("events", 1)
        if not isinstance(events, int) or events < 1:
            return json_response({"error": "events must be a positive integer"}, 400)
        return json_response({"events": events, "frames": engine.step(events)})
    elif action == "rate":
        value = body.get("rate")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            return json_response({"error": "rate must be a number >= 0"}, 400)
        engine.rate = float(value)
    else:
        return json_response({"error": f"unknown action {action!r}"}, 404)
    return json_response({"paused": engine.paused, "rate": engine.rate})


async def replay(request: web.Request) -> web.Response:
    sim = _sim(request)
    if sim.replay is None:
        return json_response({"error": "not in replay mode"}, 409)
    sim.replay.restart()
    sim.replay.started.set()
    return json_response({"restarted": True})


async def limits_reset(request: web.Request) -> web.Response:
    sim = _sim(request)
    sim.rest_limiter.reset()
    sim.ws_connect_limiter.reset()
    return json_response({"reset": True})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/admin/stats", stats),
        web.get("/admin/faults", faults_get),
        web.post("/admin/faults/{name}", fault_post),
        web.get("/admin/connections", connections),
        web.get("/admin/markets", markets_get),
        web.post("/admin/markets", market_list),
        web.post("/admin/markets/{code}/delist", market_delist),
        web.post("/admin/markets/{code}/price", market_price),
        web.get("/admin/trades", trades),
        web.post("/admin/generator/{action}", generator),
        web.post("/admin/replay/restart", replay),
        web.post("/admin/limits/reset", limits_reset),
    ]
