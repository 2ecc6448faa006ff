"""The audit trail on the web side: `@audited("reply")` records a route's action (who, on what,
from where, how it ended) in the trail, and the leads' routes that read it:

    GET /api/audit?actor=&action=&object=&user=&since=&until=&limit=&cursor=   newest first, a page
    GET /api/audit/export?since=&until=...                                     JSON lines, oldest first

The trail is the application's (`request.app[AUDIT_TRAIL]`, set by `bot/web/server.py`); an
application without one (the route table's unit tests) records nothing. No route edits it.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from typing import Optional

from aiohttp import web
from redis.exceptions import RedisError

from bot.stores.audit import AuditEntry, AuditFilter, AuditTrail, user_ref
from bot.tools.reports import parse_moment
from bot.web.api_requests import AGENT, Method, lead_only
from bot.web.responses import ApiError

log = logging.getLogger(__name__)
AUDIT_TRAIL = web.AppKey("audit_trail", AuditTrail)
PAGE_MAX = 1000
_CURSOR = re.compile(r"^\d{1,15}-\d{1,18}$")  # within what Redis takes for a stream id


def client_address(request: web.Request, trust_forwarded_for: bool) -> str:
    """The caller's address: the last X-Forwarded-For hop when a proxy we run adds it."""
    if trust_forwarded_for:
        hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.remote or ""


def _object(request: web.Request, response: Optional[web.StreamResponse]) -> str:
    """What the action was on: the user or the id in the path, else the id the answer names
    (a claimed conversation, a declared incident)."""
    path = request.match_info
    if "platform" in path and "user_id" in path:
        return user_ref(path["platform"], path["user_id"])
    if "id" in path:
        return path["id"]
    body = getattr(response, "body", None)
    if isinstance(body, bytes) and body.startswith(b"{"):
        named = json.loads(body).get("id")
        return named if isinstance(named, str) else ""
    return ""


def audited(action: str) -> Callable[[Method], Method]:
    """A route whose every call, refused ones included, is recorded in the audit trail as
    `action`. Put it above `@lead_only`, so that a refusal is recorded too."""

    def wrap(method: Method) -> Method:
        @functools.wraps(method)
        async def recorded(routes: object, request: web.Request) -> web.StreamResponse:
            response, outcome = None, "error"
            try:
                response = await method(routes, request)
                outcome = "ok" if response.status < 400 else f"status_{response.status}"
                return response
            except ApiError as error:
                outcome = error.code
                raise
            finally:
                await _record(routes, request, action, outcome, response)

        return recorded

    return wrap


async def _record(routes: object, request: web.Request, action: str, outcome: str,
                  response: Optional[web.StreamResponse]) -> None:  # fmt: skip
    trail = request.app.get(AUDIT_TRAIL)
    if trail is None:
        return
    agent = request.get(AGENT)
    config = getattr(routes, "config", None)
    trusted = bool(config and config.web.trust_forwarded_for)
    entry = AuditEntry(agent.name if agent else "", agent.role if agent else "", action, _object(request, response),
                       client_address(request, trusted), outcome)  # fmt: skip
    try:
        await trail.record(entry)
    except (RedisError, OSError):
        # The action happened: answering it with an error would invite a second one. The log
        # keeps what the trail could not (no token, no user data: ids only).
        log.error("audit trail unavailable; unrecorded: %s %s %s %s", entry.actor, entry.action, entry.object,
                  entry.outcome)  # fmt: skip


def _time(text: Optional[str], name: str) -> Optional[float]:
    try:
        return parse_moment(text)
    except ValueError:
        raise ApiError(400, "bad_request", f'"{name}" is epoch seconds or a duration ago (7d, 24h, 30m)') from None


def audit_filter(query: dict) -> AuditFilter:
    """The query's filter: `user` (platform:user_id) is looked up by its pseudonym."""
    user = query.get("user", "")
    if user and ":" not in user:
        raise ApiError(400, "bad_request", '"user" is platform:user_id')
    wanted = user_ref(*user.split(":", 1)) if user else query.get("object", "")
    return AuditFilter(query.get("actor", ""), query.get("action", ""), wanted, _time(query.get("since"), "since"),
                       _time(query.get("until"), "until"))  # fmt: skip


class AuditRoutes:
    """The leads' reading of the trail."""

    def __init__(self, config: object) -> None:
        self.config = config

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/audit", self.page), web.get("/api/audit/export", self.export)]

    @audited("audit_read")
    @lead_only("only leads read the audit trail")
    async def page(self, request: web.Request) -> web.Response:
        """A page of entries, newest first; `next_cursor` continues it (null at the end)."""
        cursor = request.query.get("cursor", "")
        if cursor and not _CURSOR.match(cursor):
            raise ApiError(400, "bad_request", "cursor is the next_cursor of the previous page")
        try:
            limit = max(1, min(PAGE_MAX, int(request.query.get("limit", "100"))))
        except ValueError:
            raise ApiError(400, "bad_request", "limit is a number") from None
        entries, next_cursor = await request.app[AUDIT_TRAIL].page(audit_filter(request.query), cursor, limit)
        return web.json_response({"entries": [e.public() for e in entries], "next_cursor": next_cursor or None})

    @audited("audit_export")
    @lead_only("only leads export the audit trail")
    async def export(self, request: web.Request) -> web.StreamResponse:
        """Every entry the filter keeps, oldest first, one JSON object a line."""
        wanted = audit_filter(request.query)
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        async for entry in request.app[AUDIT_TRAIL].between(wanted.since, wanted.until):
            if wanted.keeps(entry):
                await response.write(json.dumps(entry.public()).encode() + b"\n")
        await response.write_eof()
        return response
