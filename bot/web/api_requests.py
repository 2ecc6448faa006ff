"""What every agent-API request goes through, in one place: the token check (`api_middleware`,
which also throttles addresses that present wrong tokens, answers `ApiError`s and Redis
outages), the lead guard (`lead_only`), and reading the JSON body (`json_object`).

401 without a valid token, 429 (with Retry-After) for an address after 10 refused tokens in a
minute, 403 for what the role does not allow, 503 while Redis is away, 500 when Redis refuses a
command (wrong data, a bug: not an outage, and logged as an error).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from redis.exceptions import ClusterDownError, ReadOnlyError, RedisError, ResponseError, TryAgainError

from bot.stores.agents import Agent, AgentStore
from bot.web.responses import ApiError, json_error, parse_json_body
from bot.web.signin_log import SignInLog

log = logging.getLogger(__name__)
AGENT = web.AppKey("agent", Agent)
MAX_BODY_BYTES = 64 * 1024
# What needs no token: the web chat's own API and the document describing the API.
OPEN_PATHS = ("/api/webchat/",)
OPEN_DOCUMENT = "/api/openapi.json"
# What Redis refuses while a failover passes: an outage (503, try again), not a bug.
PASSING_REFUSALS = (ReadOnlyError, ClusterDownError, TryAgainError)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]
# A route method of a routes class: (self, request) -> response.
Method = Callable[[object, web.Request], Awaitable[web.StreamResponse]]


def _bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def _needs_token(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith(OPEN_PATHS) and path != OPEN_DOCUMENT


def client_address(request: web.Request, trust_forwarded_for: bool) -> str:
    """The caller's address: the last X-Forwarded-For hop when a proxy we run sets it (the
    same rule as the web chat's limits), else the peer's."""
    forwarded = request.headers.get("X-Forwarded-For", "") if trust_forwarded_for else ""
    return forwarded.split(",")[-1].strip() or request.remote or "?"


async def _signed_in(request: web.Request, agents: AgentStore, trust_forwarded_for: bool,
                     signin_log: SignInLog) -> Agent:  # fmt: skip
    """The agent whose token the request carries; else ApiError 401, or 429 while the caller's
    address is throttled (checked first: a throttled guesser's tokens are not even looked up)."""
    address = client_address(request, trust_forwarded_for)
    route = f"{request.method} {request.path}"
    wait = await agents.failures.blocked_for(address)
    if wait:
        raise ApiError(429, "too_many_failures", f"too many refused tokens from your address; try again in {wait} s",
                       headers={"Retry-After": str(wait)})  # fmt: skip
    agent = await agents.authenticate(_bearer_token(request))
    if agent is None:
        failures, window_left = await agents.failures.note(address)
        signin_log.refused(address, route, failures)
        if failures == agents.failures.limit:
            signin_log.throttled(address, route, window_left)
        raise ApiError(401, "unauthorized", "a valid agent token is required (Authorization: Bearer ...)")
    return agent


def _unavailable(exc: Exception) -> web.Response:
    log.warning("Redis unavailable: %s", type(exc).__name__)
    return json_error(503, "unavailable", "the queue store is unavailable; try again shortly")


def api_middleware(agents: AgentStore, trust_forwarded_for: bool = False) -> Middleware:
    """The app's middleware: authenticates /api/ calls other than the web chat's and the OpenAPI
    document (the agent lands in `request[AGENT]`), answers an `ApiError` with its JSON error,
    turns a Redis outage into a 503 and a command Redis refused into a logged 500."""
    signin_log = SignInLog()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if _needs_token(request.path):
                agent = await _signed_in(request, agents, trust_forwarded_for, signin_log)
                request[AGENT] = agent
                await agents.seen(agent.name)
            return await handler(request)
        except ApiError as error:
            return error.response()
        except ResponseError as exc:
            if isinstance(exc, PASSING_REFUSALS):
                return _unavailable(exc)
            # WRONGTYPE and the like: bad data or a bug, not an outage; retrying will not help.
            log.error("Redis refused a command on %s %s: %s", request.method, request.path, exc)
            return json_error(500, "internal", "the server failed to read its data; this was logged")
        except (RedisError, ConnectionError) as exc:
            return _unavailable(exc)

    return middleware


def lead_only(refusal: str) -> Callable[[Method], Method]:
    """A route method only leads may call; anyone else gets 403 with `refusal`, before the
    handler reads anything."""

    def guard(method: Method) -> Method:
        @functools.wraps(method)
        async def guarded(routes: object, request: web.Request) -> web.StreamResponse:
            if not request[AGENT].is_lead:
                raise ApiError(403, "forbidden", refusal)
            return await method(routes, request)

        return guarded

    return guard


async def json_object(request: web.Request, required: bool = True) -> dict:
    """The request's JSON body as a dict: JSON that is not an object has no fields (`{}`), as
    has an empty body when the body is not `required`. Too large, missing or not JSON raises."""
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", "the body is over 64 KiB")
    if not raw.strip():
        if required:
            raise ApiError(400, "bad_json", "a JSON body is required")
        return {}
    body = parse_json_body(raw)
    return body if isinstance(body, dict) else {}
