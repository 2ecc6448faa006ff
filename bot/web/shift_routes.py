"""The agent API's routes for the agents' day: presence (online, away, offline), accepting a
conversation auto-assignment offered, the teams as they stand (open or not, what waits, who is
available), and, for leads, the teams an agent works and their maximum of open conversations.
"""

from __future__ import annotations

import time

from aiohttp import web

from bot.config import Config
from bot.stores.agents import PRESENCES, AgentStore
from bot.stores.assignment import Assignment
from bot.stores.conversations import ConversationStore
from bot.stores.handoff_queue import HandoffQueue
from bot.web.agent_routes import owned_conversation
from bot.web.api_requests import AGENT, json_object, lead_only
from bot.web.audit_routes import audited
from bot.web.responses import ApiError


class ShiftRoutes:
    """Presence, accepting offers, the teams; an agent's teams and maximum (leads)."""

    def __init__(self, config: Config, agents: AgentStore, conversations: ConversationStore, queue: HandoffQueue,
                 assignment: Assignment | None) -> None:  # fmt: skip
        self.config = config
        self.agents = agents
        self.conversations = conversations
        self.queue = queue
        self.assignment = assignment

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/me/presence", self.set_presence),
            web.post("/api/conversations/{id}/accept", self.accept),
            web.get("/api/teams", self.teams),
            web.post("/api/agents/{name}/routing", self.set_routing),
        ]

    async def set_presence(self, request: web.Request) -> web.Response:
        """{"presence": "online" | "away" | "offline"}: away and offline agents are offered no
        new work and count as unavailable for their teams (what they hold stays theirs)."""
        agent = request[AGENT]
        presence = (await json_object(request)).get("presence")
        if presence not in PRESENCES:
            raise ApiError(400, "bad_request", f'"presence" must be one of {", ".join(PRESENCES)}')
        await self.agents.set_presence(agent.name, presence)
        await self.queue.publish("presence", agent=agent.name, presence=presence)
        return web.json_response({"name": agent.name, "presence": presence})

    @audited("accept")
    async def accept(self, request: web.Request) -> web.Response:
        """Take a conversation auto-assignment offered; 409 when it is no offer of the agent's
        (accepted already, or it lapsed and went to someone else)."""
        conv = await owned_conversation(self.conversations, request)
        if self.assignment is None or not await self.assignment.accept(conv.id, request[AGENT].name):
            raise ApiError(409, "no_offer", "not offered to you (accepted already, or gone to the next agent)")
        await self.queue.publish("accepted", conversation=conv.id, agent=request[AGENT].name)
        return web.json_response({"id": conv.id, "accepted": True})

    async def teams(self, request: web.Request) -> web.Response:
        """Each team: open now or when it opens, whether it auto-assigns, what waits in it and
        how many of its agents are available; an agent's own teams first."""
        now = time.time()
        waiting = await self.queue.waiting()
        on_shift = await self.agents.on_shift(self.config.handoff.agent_timeout_seconds)
        teams = []
        for team in self.config.routing.teams:
            opens = team.hours.next_opening(now)
            teams.append({
                "name": team.name, "open": team.hours.is_open(now), "opens_at": opens.timestamp(),
                "timezone": team.hours.timezone, "auto_assign": team.auto_assign,
                "first_response_seconds": team.first_response_seconds or None,
                "waiting": sum(1 for e in waiting if e.team == team.name),
                "available": sum(1 for a in on_shift if a.available_for(team.name)),
                "mine": request[AGENT].in_team(team.name),
            })  # fmt: skip
        return web.json_response({"fallback_team": self.config.routing.fallback_team, "teams": teams})

    @audited("agent_routing")
    @lead_only("only leads set an agent's teams and maximum")
    async def set_routing(self, request: web.Request) -> web.Response:
        """{"teams": [...], "max_open": n or null} for the agent in the URL."""
        body = await json_object(request)
        teams, max_open = body.get("teams", []), body.get("max_open")
        known = self.config.routing.team_names
        if not isinstance(teams, list) or any(t not in known for t in teams):
            raise ApiError(400, "bad_request", f'"teams" must be a list of {", ".join(known)}')
        if max_open is not None and (not isinstance(max_open, int) or isinstance(max_open, bool)):
            raise ApiError(400, "bad_request", '"max_open" must be a whole number or null')
        try:
            found = await self.agents.set_routing(request.match_info["name"], teams, max_open)
        except ValueError as error:
            raise ApiError(400, "bad_request", str(error)) from None
        if not found:
            raise ApiError(404, "not_found", "no such agent")
        return web.json_response({"name": request.match_info["name"], "teams": teams, "max_open": max_open})
