"""The agent API's routes for leads: the agents and their load, revoking and rotating their
tokens, declaring and ending incidents, the reports, and what users filed (feedback, phishing
reports, impostors).

Each route is marked `@lead_only` with the sentence an agent is refused with (403). Listing
the active incidents is every agent's (`bot/web/agent_routes.py`).
"""

from __future__ import annotations

import json
from dataclasses import asdict

from aiohttp import web

from bot.config import Config
from bot.services.inbox import Inbox
from bot.stores import keys
from bot.stores.agents import AgentStore
from bot.stores.handoff_queue import HandoffQueue
from bot.stores.incidents import check_texts
from bot.tools.reports import build_report, parse_since
from bot.web.api_requests import AGENT, json_object, lead_only
from bot.web.audit_routes import audited
from bot.web.responses import ApiError
from intents import INTENT_NAMES

FILED_MAX = 1000


class LeadRoutes:
    """Routes only leads may call."""

    def __init__(self, config: Config, agents: AgentStore, queue: HandoffQueue, inbox: Inbox) -> None:
        self.config = config
        self.agents = agents
        self.queue = queue
        self.inbox = inbox

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/agents", self.list_agents),
            web.post("/api/agents/{name}/revoke", self.revoke_token),
            web.post("/api/agents/{name}/rotate", self.rotate_token),
            web.post("/api/incidents", self.declare_incident),
            web.delete("/api/incidents/{id}", self.end_incident),
            web.get("/api/reports", self.reports),
            web.get("/api/feedback-items", self.feedback_items),
            web.get("/api/phishing-reports", self.phishing_reports),
            web.get("/api/impostors", self.impostors),
        ]

    @lead_only("only leads see the agents' list")
    async def list_agents(self, request: web.Request) -> web.Response:
        """Every agent, whether on shift, and their load."""
        on_shift = {a.name for a in await self.agents.on_shift(self.config.handoff.agent_timeout_seconds)}
        return web.json_response({"agents": [
            {"name": a.name, "languages": list(a.languages), "role": a.role, "on_shift": a.name in on_shift,
             "conversations": len(await self.queue.owned_by(a.name)), "token_expires_at": a.token_expires_at,
             "presence": a.presence, "teams": list(a.teams),
             "max_open": a.max_open or self.config.routing.max_open_per_agent}
            for a in await self.agents.all()
        ]})  # fmt: skip

    @audited("token_revoked")
    @lead_only("only leads revoke tokens")
    async def revoke_token(self, request: web.Request) -> web.Response:
        """The agent's token stops working at once (`rotate` gives them a new one)."""
        name = request.match_info["name"]
        if not await self.agents.revoke(name):
            raise ApiError(404, "not_found", "no such agent holding a token")
        return web.json_response({"revoked": name})

    @audited("token_rotated")
    @lead_only("only leads rotate tokens")
    async def rotate_token(self, request: web.Request) -> web.Response:
        """A new token for the agent, shown only in this response; the old one stops working.
        {"expires_in_days": n} (0: no end; without it, handoff.agent_token_days)."""
        days = (await json_object(request, required=False)).get("expires_in_days", self.config.handoff.agent_token_days)
        if not isinstance(days, (int, float)) or isinstance(days, bool) or not 0 <= days <= 3650:
            raise ApiError(400, "bad_request", '"expires_in_days" must be a number of days from 0 (no end) to 3650')
        name = request.match_info["name"]
        token = await self.agents.rotate(name, days or None)
        if token is None:
            raise ApiError(404, "not_found", "no such agent")
        agent = await self.agents.get(name)
        return web.json_response({"name": name, "token": token, "token_expires_at": agent and agent.token_expires_at})

    @audited("incident_declare")
    @lead_only("only leads declare incidents")
    async def declare_incident(self, request: web.Request) -> web.Response:
        """{"intents": [...], "status": {"en": "...", ...}, "expires_in_minutes"?}."""
        body = await json_object(request)
        intents, status, expires = body.get("intents"), body.get("status"), body.get("expires_in_minutes")
        if not isinstance(intents, list) or not intents or not all(i in INTENT_NAMES for i in intents):
            raise ApiError(400, "bad_request", f'"intents" must be a list of intents ({", ".join(INTENT_NAMES)})')
        if not isinstance(status, dict) or not status or not all(
            lang in self.config.languages and isinstance(text, str) and text.strip() for lang, text in status.items()
        ):
            raise ApiError(400, "bad_request", '"status" must map languages (e.g. "en") to the status message')
        if expires is not None and (not isinstance(expires, (int, float)) or isinstance(expires, bool) or expires <= 0):
            raise ApiError(400, "bad_request", '"expires_in_minutes" must be a positive number')
        _check_texts(status, "status")
        incident = await self.inbox.incidents.declare(intents, status, request[AGENT].name, expires)
        await self.queue.publish("incident_declared", incident=incident.id, intents=intents)
        return web.json_response(asdict(incident), status=201)

    @audited("incident_end")
    @lead_only("only leads end incidents")
    async def end_incident(self, request: web.Request) -> web.Response:
        """Resolve it; {"final": {"en": "..."}} is what the grouped users are told."""
        final = (await json_object(request, required=False)).get("final", {})
        if not isinstance(final, dict) or not all(isinstance(v, str) for v in final.values()):
            raise ApiError(400, "bad_request", '"final" must map languages to a message')
        _check_texts(final, "final")
        incident = request.match_info["id"]
        if await self.inbox.incidents.get(incident) is None:
            raise ApiError(404, "not_found", "no such active incident")
        told = await self.inbox.end_incident(incident, final)
        await self.queue.publish("incident_resolved", incident=incident)
        return web.json_response({"resolved": incident, "told": told})

    @audited("report_read")
    @lead_only("only leads see reports")
    async def reports(self, request: web.Request) -> web.Response:
        """The report's figures (`?since=7d`), per agent and per team too, as `python -m bot report`
        has them."""
        try:
            since = parse_since(request.query.get("since", "7d"))
        except ValueError as exc:
            raise ApiError(400, "bad_request", str(exc)) from None
        report = await build_report(self.queue.redis, self.config, since)
        return web.json_response(report)

    @audited("filed_read")
    @lead_only("only leads see this list")
    async def feedback_items(self, request: web.Request) -> web.Response:
        """Suggestions and bug reports users filed, newest first."""
        return await self._filed(request, keys.FEEDBACK_ITEMS, "items")

    @audited("filed_read")
    @lead_only("only leads see this list")
    async def phishing_reports(self, request: web.Request) -> web.Response:
        """Reported scam links and handles, newest first."""
        return await self._filed(request, keys.PHISHING_REPORTS, "reports")

    @audited("filed_read")
    @lead_only("only leads see this list")
    async def impostors(self, request: web.Request) -> web.Response:
        """New members whose names imitate staff, newest first."""
        return await self._filed(request, keys.IMPOSTORS, "impostors")

    async def _filed(self, request: web.Request, key: str, name: str) -> web.Response:
        """The newest `?limit=` (1-1000, 100 without it) entries of a filed list, as `{name: [...]}`."""
        try:
            limit = max(1, min(FILED_MAX, int(request.query.get("limit", "100"))))
        except ValueError:
            raise ApiError(400, "bad_request", "limit is a number") from None
        return web.json_response({name: [json.loads(x) for x in await self.queue.redis.lrange(key, 0, limit - 1)]})


def _check_texts(texts: dict[str, str], what: str) -> None:
    """400 when a message for users hides control or bidi characters."""
    try:
        check_texts(texts, what)
    except ValueError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
