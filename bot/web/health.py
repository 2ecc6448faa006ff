"""How a process manager or a load balancer asks after the bot.

- `/livez`: the process is up and its event loop answers (200). A failing liveness probe means
  "restart me": it does not look at Redis, since a restart would not bring Redis back.
- `/readyz`: the bot can serve: Redis answers a PING within `PING_TIMEOUT_SECONDS` and the NLU
  model is loaded. 200 `{"ready": true, "checks": {...}}`, else 503 naming the failed check. A
  load balancer sends traffic only to a ready replica.
- `/healthz`: an alias of `/readyz` (what Docker's healthcheck and monitors asked before: a
  200 there while every API answered 503 was the lie this module ends).
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

PING_TIMEOUT_SECONDS = 1.0
WORKER = web.AppKey("worker", int)  # which of the replica's worker processes answers


async def livez(request: web.Request) -> web.Response:
    """200 whenever the process answers at all, with the worker that answered."""
    return web.json_response({"live": True, "worker": request.app.get(WORKER, 0)})


async def _redis_check(redis: Redis) -> str:
    """"ok", or why Redis is not usable (unreachable, no answer in time, an error)."""
    try:
        await asyncio.wait_for(redis.ping(), PING_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        return f"no answer to PING within {PING_TIMEOUT_SECONDS:g} s"
    except (RedisError, OSError) as exc:
        return f"unreachable ({type(exc).__name__})"
    return "ok"


def health_routes(redis: Redis, nlu: object | None) -> list[web.RouteDef]:
    """/livez, /readyz and /healthz for the bot that serves with `redis` and the model `nlu`."""

    async def readyz(request: web.Request) -> web.Response:
        # The model loads before the server listens; the check says so for whoever reads it.
        checks = {"redis": await _redis_check(redis), "nlu": "ok" if nlu is not None else "not loaded"}
        ready = all(result == "ok" for result in checks.values())
        return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)

    return [web.get("/livez", livez), web.get("/readyz", readyz), web.get("/healthz", readyz)]
