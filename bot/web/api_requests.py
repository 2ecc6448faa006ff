"""What every agent-API request goes through, in one place: the token check (`api_middleware`,
which also answers `ApiError`s and Redis outages), the lead guard (`lead_only`), and reading
the JSON body (`json_object`).

401 without a valid token, 403 for what the role does not allow, 503 while Redis is away.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from redis.exceptions import RedisError

from bot.stores.agents import Agent, AgentStore
from bot.web.responses import ApiError, json_error

log = logging.getLogger(__name__)
AGENT = web.AppKey("agent", Agent)
MAX_BODY_BYTES = 64 * 1024
# What needs no token: the web chat's own API and the document describing the API.
OPEN_PATHS = ("/api/webchat/",)
OPEN_DOCUMENT = "/api/openapi.json"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]
# A route method of a routes class: (self, request) -> response.
Method = Callable[[object, web.Request], Awaitable[web.StreamResponse]]


def _bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def _needs_token(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith(OPEN_PATHS) and path != OPEN_DOCUMENT


def api_middleware(agents: AgentStore) -> Middleware:
    """The app's middleware: authenticates /api/ calls other than the web chat's and the OpenAPI
    document (the agent lands in `request[AGENT]`), answers an `ApiError` with its JSON error,
    and turns a Redis outage into a 503."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if _needs_token(request.path):
                agent = await agents.authenticate(_bearer_token(request))
                if agent is None:
                    return json_error(
                        401, "unauthorized", "a valid agent token is required (Authorization: Bearer ...)"
                    )
                request[AGENT] = agent
                await agents.seen(agent.name)
            return await handler(request)
        except ApiError as error:
            return error.response()
        except (RedisError, ConnectionError) as exc:
            log.warning("Redis unavailable: %s", type(exc).__name__)
            return json_error(503, "unavailable", "the queue store is unavailable; try again shortly")

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
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "bad_json", "the body is not valid JSON") from None
    return body if isinstance(body, dict) else {}
