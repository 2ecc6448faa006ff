"""The agents' HTTP API (JSON, `Authorization: Bearer <token>`).

401 without a valid token, 403 for what the role does not allow, 404 for a conversation that
is not the agent's (leads see every one), 409 for an action the conversation's state does
not allow (a reply to a resolved conversation is refused, never silently lost).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

import yaml
from aiohttp import web
from redis.exceptions import RedisError

from adapters.webchat import json_error
from bot import metrics
from bot.config import ROOT, Config
from bot.domain.messages import Button, OutboundReply
from bot.services.inbox import Inbox
from bot.stores import keys
from bot.stores.agents import Agent, AgentStore
from bot.stores.conversations import ASSIGNED, Conversation, ConversationStore
from bot.stores.handoff_queue import EVENTS_CHANNEL, HandoffQueue
from bot.stores.outbox import Outbox
from bot.tools.reports import build_report, parse_since
from bot.web.openapi import OPENAPI
from intents import INTENT_NAMES

log = logging.getLogger(__name__)
CANNED_DIR = ROOT / "data" / "canned"
MAX_REPLY_CHARS = 4000
AGENT = web.AppKey("agent", Agent)


def load_canned(languages: tuple[str, ...], directory: Path = CANNED_DIR) -> dict[str, dict[str, str]]:
    """Canned answers per language (`data/canned/<lang>.yml`), placeholders {ticket}, {name}."""
    return {lang: yaml.safe_load((directory / f"{lang}.yml").read_text(encoding="utf-8")) for lang in languages}


class AgentApi:
    """Routes of the agent API."""

    def __init__(self, config: Config, agents: AgentStore, conversations: ConversationStore, queue: HandoffQueue,
                 outbox: Outbox, inbox: Inbox) -> None:  # fmt: skip
        self.config = config
        self.agents = agents
        self.conversations = conversations
        self.queue = queue
        self.outbox = outbox
        self.inbox = inbox
        self.texts = inbox.pipeline.texts
        self.canned = load_canned(config.languages)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/openapi.json", self.openapi),
            web.get("/api/me", self.me),
            web.get("/api/queue", self.list_queue),
            web.post("/api/queue/claim", self.claim),
            web.get("/api/conversations/{id}", self.conversation),
            web.post("/api/conversations/{id}/reply", self.reply),
            web.post("/api/conversations/{id}/resolve", self.resolve),
            web.post("/api/conversations/{id}/transfer", self.transfer),
            web.post("/api/conversations/{id}/release", self.release),
            web.get("/api/events", self.events),
            web.get("/api/canned", self.canned_answers),
            web.get("/api/agents", self.list_agents),
            web.get("/api/incidents", self.list_incidents),
            web.post("/api/incidents", self.declare_incident),
            web.delete("/api/incidents/{id}", self.end_incident),
            web.get("/api/reports", self.reports),
            web.get("/api/feedback-items", self.feedback_items),
            web.get("/api/phishing-reports", self.phishing_reports),
            web.get("/api/impostors", self.impostors),
        ]

    @web.middleware
    async def middleware(self, request: web.Request, handler: object) -> web.StreamResponse:
        """Authenticates /api/ calls other than the web chat's and the OpenAPI document, and
        turns a Redis outage into a 503."""
        try:
            path = request.path
            if path.startswith("/api/") and not path.startswith("/api/webchat/") and path != "/api/openapi.json":
                header = request.headers.get("Authorization", "")
                token = header[7:].strip() if header.lower().startswith("bearer ") else ""
                agent = await self.agents.authenticate(token)
                if agent is None:
                    return json_error(
                        401, "unauthorized", "a valid agent token is required (Authorization: Bearer ...)"
                    )
                request[AGENT] = agent
                await self.agents.seen(agent.name)
            return await handler(request)
        except (RedisError, ConnectionError) as exc:
            log.warning("Redis unavailable: %s", type(exc).__name__)
            return json_error(503, "unavailable", "the queue store is unavailable; try again shortly")

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(OPENAPI)

    async def me(self, request: web.Request) -> web.Response:
        """Who the token belongs to, and the conversations they own now."""
        agent = request[AGENT]
        owned = [await self.conversations.get(cid) for cid in await self.queue.owned_by(agent.name)]
        return web.json_response({
            "name": agent.name, "languages": list(agent.languages), "role": agent.role,
            "conversations": [c.public() for c in owned if c is not None],
        })  # fmt: skip

    async def list_queue(self, request: web.Request) -> web.Response:
        now = time.time()
        items = []
        for entry in await self.queue.waiting():
            conv = await self.conversations.get(entry.conversation)
            if conv is None:
                continue
            # What the user said last before joining the queue: why they wait (not their first
            # question ever, for someone who has talked with the bot before).
            transcript = await self.conversations.transcript(conv.id)
            said = [line["text"] for line in transcript
                    if line["from"] == "user" and line.get("at", 0) <= (conv.queued_at or now) + 1]  # fmt: skip
            first = said[-1] if said else ""
            items.append({
                "id": conv.id, "ticket": conv.ticket, "lane": entry.lane, "language": entry.language,
                "platform": conv.platform, "intent": conv.intent or None,
                "waited_seconds": round(now - entry.queued_at, 1), "first_message": first,
                "sla_seconds": self.config.handoff.sla_seconds(entry.lane), "user_name": conv.user_name,
            })  # fmt: skip
        return web.json_response({"queue": items})

    async def claim(self, request: web.Request) -> web.Response:
        agent = request[AGENT]
        body = await _json_body(request, required=False)
        if isinstance(body, web.Response):
            return body
        languages = body.get("languages") if isinstance(body, dict) else None
        if languages is not None and (
            not isinstance(languages, list) or not all(isinstance(x, str) for x in languages)
        ):
            return json_error(400, "bad_request", '"languages" must be a list of language codes')
        wanted = [lang for lang in (languages or agent.languages) if agent.is_lead or lang in agent.languages]
        on_shift = await self.agents.on_shift(self.config.handoff.agent_timeout_seconds)
        spoken = {lang for a in on_shift for lang in a.languages}
        unspoken = [lang for lang in self.config.languages if lang not in spoken]
        named = body.get("conversation") if isinstance(body, dict) else None
        if named is not None:  # click-to-claim: that one, if it still waits and is in the agent's languages
            conv = await self.conversations.get(named) if isinstance(named, str) else None
            if conv is None or (not agent.is_lead and conv.language not in [*agent.languages, *unspoken]):
                return json_error(404, "not_found", "no such conversation waiting in your languages")
            if not await self.queue.claim(conv.id, agent.name):
                return json_error(409, "taken", "the conversation is no longer waiting (someone else claimed it)")
            return await self._claimed(conv.id)
        cid = await self.queue.claim_next(agent.name, [*wanted, *unspoken])
        if cid is None:
            return web.Response(status=204)
        return await self._claimed(cid)

    async def _owned(self, request: web.Request) -> object:
        """The conversation in the URL if the agent may act on it, else an error response."""
        agent = request[AGENT]
        conv = await self.conversations.get(request.match_info["id"])
        if conv is None or (not agent.is_lead and agent.name not in (conv.agent, conv.last_agent)):
            return json_error(404, "not_found", "no such conversation among yours")
        return conv

    async def _claimed(self, cid: str) -> web.Response:
        conv = await self.conversations.get(cid)
        if conv and conv.queued_at and conv.claimed_at:
            metrics.WAIT_SECONDS.labels(conv.lane or "normal").observe(max(0.0, conv.claimed_at - conv.queued_at))
        return await self._conversation_json(cid)

    async def _conversation_json(self, cid: str) -> web.Response:
        conv = await self.conversations.get(cid)
        tickets = await self.queue.user_tickets(conv.platform, conv.user_id)
        return web.json_response({
            **conv.public(),
            "transcript": await self.conversations.transcript(cid),
            "earlier_tickets": [{"id": t.id, "status": t.status, "intent": t.intent, "opened_at": t.opened_at}
                                for t in tickets if t.id != conv.ticket],
        })  # fmt: skip

    async def conversation(self, request: web.Request) -> web.Response:
        conv = await self._owned(request)
        if isinstance(conv, web.Response):
            return conv
        return await self._conversation_json(conv.id)

    async def reply(self, request: web.Request) -> web.Response:
        conv = await self._owned(request)
        if isinstance(conv, web.Response):
            return conv
        agent = request[AGENT]
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            return json_error(400, "bad_request", '"text" must be a non-empty string')
        if len(text) > MAX_REPLY_CHARS:
            return json_error(413, "too_long", f"a reply is at most {MAX_REPLY_CHARS} characters")
        if conv.state != ASSIGNED or conv.agent != agent.name:
            return json_error(409, "not_yours", f"the conversation is {conv.state}; claim it before replying")
        entry = await self.outbox.put(OutboundReply(conv.platform, conv.chat_id, text), conv.id, sender="agent")
        await self.conversations.append(conv.id, f"agent:{agent.name}", text)
        if conv.ticket:  # for the reports' time to first response
            await self.queue.redis.hsetnx(keys.ticket(conv.ticket), "first_reply_at", time.time())
        return web.json_response({"queued_for_delivery": entry}, status=202)

    async def resolve(self, request: web.Request) -> web.Response:
        return await self._close(request, self.queue.resolve)

    async def release(self, request: web.Request) -> web.Response:
        return await self._close(request, self.queue.release)

    async def _close(self, request: web.Request, action: object) -> web.Response:
        conv = await self._owned(request)
        if isinstance(conv, web.Response):
            return conv
        if not await action(conv.id, conv.agent):
            return json_error(409, "not_assigned", f"the conversation is {conv.state}")
        await self.conversations.append(conv.id, "system", f"{action.__name__} by {request[AGENT].name}")
        if action == self.queue.resolve:
            await self._ask_for_rating(conv)
        return await self._conversation_json(conv.id)

    async def _ask_for_rating(self, conv: Conversation) -> None:
        """After a resolved ticket: the user is told, and asked for a 1-5 rating."""
        language = conv.language if conv.language in self.config.languages else self.config.default_language
        text = "\n\n".join([self.texts.reply("conversation_resolved", language, ticket=conv.ticket),
                             self.texts.reply("rate_prompt", language)])  # fmt: skip
        buttons = tuple(Button("⭐" * n, f"rate:{n}:{conv.ticket}") for n in range(1, 6))
        await self.outbox.put(OutboundReply(conv.platform, conv.chat_id, text, buttons), conv.id)

    async def transfer(self, request: web.Request) -> web.Response:
        conv = await self._owned(request)
        if isinstance(conv, web.Response):
            return conv
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        if isinstance(body, dict) and body.get("queue") is True:
            done = await self.queue.requeue(conv.id, conv.agent)
        elif isinstance(body, dict) and isinstance(body.get("agent"), str):
            target = await self.agents.get(body["agent"])
            if target is None:
                return json_error(400, "bad_request", f"no agent named {body['agent']!r}")
            done = await self.queue.transfer(conv.id, conv.agent, target.name)
        else:
            return json_error(400, "bad_request", 'send {"agent": name} or {"queue": true}')
        if not done:
            return json_error(409, "not_assigned", f"the conversation is {conv.state}")
        return await self._conversation_json(conv.id)

    async def list_agents(self, request: web.Request) -> web.Response:
        """Leads only: every agent, whether on shift, and their load."""
        if not request[AGENT].is_lead:
            return json_error(403, "forbidden", "only leads see the agents' list")
        on_shift = {a.name for a in await self.agents.on_shift(self.config.handoff.agent_timeout_seconds)}
        return web.json_response({"agents": [
            {"name": a.name, "languages": list(a.languages), "role": a.role, "on_shift": a.name in on_shift,
             "conversations": len(await self.queue.owned_by(a.name))}
            for a in await self.agents.all()
        ]})  # fmt: skip

    async def list_incidents(self, request: web.Request) -> web.Response:
        """Active incidents (everyone: agents see why the queue is quiet) and the bot's
        suggestions of one."""
        incidents = self.inbox.incidents
        return web.json_response({"incidents": [asdict(i) for i in await incidents.listed()],
                                  "suggestions": await incidents.suggestions()})  # fmt: skip

    async def declare_incident(self, request: web.Request) -> web.Response:
        """Leads: {"intents": [...], "status": {"en": "...", ...}, "expires_in_minutes"?}."""
        if not request[AGENT].is_lead:
            return json_error(403, "forbidden", "only leads declare incidents")
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        intents = body.get("intents") if isinstance(body, dict) else None
        status = body.get("status") if isinstance(body, dict) else None
        expires = body.get("expires_in_minutes") if isinstance(body, dict) else None
        if not isinstance(intents, list) or not intents or not all(i in INTENT_NAMES for i in intents):
            return json_error(400, "bad_request", f'"intents" must be a list of intents ({", ".join(INTENT_NAMES)})')
        if not isinstance(status, dict) or not status or not all(
            lang in self.config.languages and isinstance(text, str) and text.strip() for lang, text in status.items()
        ):
            return json_error(400, "bad_request", '"status" must map languages (e.g. "en") to the status message')
        if expires is not None and (not isinstance(expires, (int, float)) or isinstance(expires, bool) or expires <= 0):
            return json_error(400, "bad_request", '"expires_in_minutes" must be a positive number')
        incident = await self.inbox.incidents.declare(intents, status, request[AGENT].name, expires)
        await self.queue.publish("incident_declared", incident=incident.id, intents=intents)
        return web.json_response(asdict(incident), status=201)

    async def end_incident(self, request: web.Request) -> web.Response:
        """Leads: resolve it; {"final": {"en": "..."}} is what the grouped users are told."""
        if not request[AGENT].is_lead:
            return json_error(403, "forbidden", "only leads end incidents")
        body = await _json_body(request, required=False)
        if isinstance(body, web.Response):
            return body
        final = body.get("final", {}) if isinstance(body, dict) else {}
        if not isinstance(final, dict) or not all(isinstance(v, str) for v in final.values()):
            return json_error(400, "bad_request", '"final" must map languages to a message')
        if await self.inbox.incidents.get(request.match_info["id"]) is None:
            return json_error(404, "not_found", "no such active incident")
        told = await self.inbox.end_incident(request.match_info["id"], final)
        await self.queue.publish("incident_resolved", incident=request.match_info["id"])
        return web.json_response({"resolved": request.match_info["id"], "told": told})

    async def reports(self, request: web.Request) -> web.Response:
        """Leads only: the report's figures (`?since=7d`), as `python -m bot report` has them."""
        if not request[AGENT].is_lead:
            return json_error(403, "forbidden", "only leads see reports")
        try:
            since = parse_since(request.query.get("since", "7d"))
        except ValueError as exc:
            return json_error(400, "bad_request", str(exc))
        return web.json_response(await build_report(self.queue.redis, self.config, since))

    async def feedback_items(self, request: web.Request) -> web.Response:
        """Leads only: suggestions and bug reports users filed, newest first."""
        return await self._filed(request, keys.FEEDBACK_ITEMS, "items")

    async def phishing_reports(self, request: web.Request) -> web.Response:
        """Leads only: reported scam links and handles, newest first."""
        return await self._filed(request, keys.PHISHING_REPORTS, "reports")

    async def impostors(self, request: web.Request) -> web.Response:
        """Leads only: new members whose names imitate staff, newest first."""
        return await self._filed(request, keys.IMPOSTORS, "impostors")

    async def _filed(self, request: web.Request, key: str, name: str) -> web.Response:
        if not request[AGENT].is_lead:
            return json_error(403, "forbidden", "only leads see this list")
        try:
            limit = max(1, min(1000, int(request.query.get("limit", "100"))))
        except ValueError:
            return json_error(400, "bad_request", "limit is a number")
        return web.json_response({name: [json.loads(x) for x in await self.queue.redis.lrange(key, 0, limit - 1)]})

    async def canned_answers(self, request: web.Request) -> web.Response:
        language = request.query.get("language", self.config.default_language)
        if language not in self.canned:
            return json_error(400, "bad_request", f"language must be one of {', '.join(self.canned)}")
        return web.json_response({"language": language, "canned": self.canned[language]})

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: queued, claimed, user_wrote, resolved, released, transferred,
        sla_breached. Agents see their own conversations' and the queue's; leads see all."""
        agent = request[AGENT]
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        pubsub = self.queue.redis.pubsub()
        await pubsub.subscribe(EVENTS_CHANNEL)
        try:
            await response.write(b": connected\n\n")
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=15)
                if message is None:
                    await response.write(b": keep-alive\n\n")
                    continue
                event = json.loads(message["data"])
                # Claims go to everyone (each queue drops what others took); the rest of another
                # agent's conversations stays theirs.
                if not agent.is_lead and event.get("agent") not in (None, agent.name) and event["type"] not in (
                    "queued", "claimed"):
                    continue
                await response.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            await pubsub.unsubscribe(EVENTS_CHANNEL)
            await pubsub.close()
        return response


async def _json_body(request: web.Request, required: bool = True) -> object:
    raw = await request.content.read(64 * 1024 + 1)
    if len(raw) > 64 * 1024:
        return json_error(413, "too_large", "the body is over 64 KiB")
    if not raw.strip():
        return {} if not required else json_error(400, "bad_json", "a JSON body is required")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return json_error(400, "bad_json", "the body is not valid JSON")
