"""Demo-only routes for tests, outside the contract (`x-demo-only` in the yaml): the fault
switch that makes /v1/links/... slow, failing or malformed, and a clock that moves forward.

Both sit behind the same bearer token as /v1: whoever may call the API may also break the demo.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from demo_backoffice.api import read_object
from demo_backoffice.common import STATE, Handler, State, api_error, iso

MODES = ("none", "slow", "error", "nonsense")
# Two kinds of wrong answer under `nonsense`, taken in turn: valid JSON of the wrong shape, and
# JSON cut short. A client must survive both.
_NONSENSE = (b'["?"]', b'{"deposits": [{"id": "D10')


def _number(value: object, name: str, high: float) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= high:
        raise api_error(400, "bad_request", f"{name} must be a number from 0 to {high:g}")
    return float(value)


async def set_faults(request: web.Request) -> web.Response:
    """POST /demo/faults {"mode", "delay_s"}: the fault every /v1/links/... answer gets from now on."""
    body = await read_object(request)
    if body.get("mode") not in MODES or set(body) - {"mode", "delay_s"}:
        raise api_error(400, "bad_request", f"mode must be one of {', '.join(MODES)} (and delay_s a number)")
    faults = request.app[STATE].faults
    faults.delay_s = _number(body.get("delay_s", 0), "delay_s", 30)
    faults.mode = body["mode"]
    faults.answered = 0
    return web.json_response({"mode": faults.mode, "delay_s": faults.delay_s})


async def advance_clock(request: web.Request) -> web.Response:
    """POST /demo/clock {"advance_s"}: move the back office's time forward."""
    body = await read_object(request)
    if set(body) != {"advance_s"}:
        raise api_error(400, "bad_request", 'the body must be {"advance_s": <seconds>}')
    state: State = request.app[STATE]
    state.clock.offset += _number(body["advance_s"], "advance_s", 864000)
    return web.json_response({"now": iso(state.clock.now()), "offset_s": state.clock.offset})


@web.middleware
async def faults_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply the demo fault to /v1/links/... (after the token check: a sick exchange still checks it)."""
    faults = request.app[STATE].faults
    if faults.mode == "none" or not request.path.startswith("/v1/links/"):
        return await handler(request)
    if faults.mode == "slow":
        await asyncio.sleep(faults.delay_s)
        return await handler(request)
    if faults.mode == "error":
        return web.Response(status=500, text="internal error (demo fault)")
    body = _NONSENSE[faults.answered % len(_NONSENSE)]
    faults.answered += 1
    return web.Response(status=200, body=body, content_type="application/json")


def add_routes(app: web.Application) -> None:
    """Mount the /demo routes on `app`."""
    app.router.add_post("/demo/faults", set_faults)
    app.router.add_post("/demo/clock", advance_clock)
