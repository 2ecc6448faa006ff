"""The agents' event stream (`GET /api/events`, server-sent events): what happens in the queue
and in their conversations, as the Lua scripts and the services publish it on `sb:events`,
filtered by who may see what."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from redis.asyncio import Redis

from bot.stores.agents import Agent
from bot.stores.handoff_queue import EVENTS_CHANNEL
from bot.web.api_requests import AGENT

# Event types every agent sees, whoever they concern (each queue drops what others took).
EVENTS_FOR_ALL = ("queued", "claimed")
# Event types only leads see: escalations, suggested incidents, impostors (their lists are
# leads'), conversations that overflowed to another team.
EVENTS_FOR_LEADS = ("sla_breached", "incident_suggested", "impostor_joined", "overflowed")


def visible_to(agent: Agent, event: dict) -> bool:
    """Whether `agent` is shown `event`: leads see all; agents neither the leads' events nor the
    rest of another agent's conversations (nor a mention of another agent)."""
    if agent.is_lead:
        return True
    if event.get("type") in EVENTS_FOR_LEADS:
        return False
    return event.get("agent") in (None, agent.name) or event.get("type") in EVENTS_FOR_ALL



class EventStream:
    """`GET /api/events` for every agent."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/events", self.events)]

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: queued, claimed, user_wrote, resolved, released, transferred,
        mentioned, offer_lapsed, accepted, presence, sla_breached, overflowed, incidents,
        impostors. Agents see their own conversations' and the queue's (`visible_to`); leads
        see all."""
        agent = request[AGENT]
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(EVENTS_CHANNEL)
        try:
            await response.write(b": connected\n\n")
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=15)
                if message is None:
                    await response.write(b": keep-alive\n\n")
                    continue
                event = json.loads(message["data"])
                if not visible_to(agent, event):
                    continue
                await response.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            await pubsub.unsubscribe(EVENTS_CHANNEL)
            await pubsub.close()
        return response
