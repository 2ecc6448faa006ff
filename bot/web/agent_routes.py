"""The agent API's routes for every agent: who am I, the queue, claiming, one's conversations
(read, reply, resolve, release, transfer) and the active incidents. The event stream is
`event_stream.py`'s, canned answers `canned_routes.py`'s, internal notes `note_routes.py`'s.

404 for a conversation that is not the agent's (leads see every one; an agent a note mentioned
may read it, not act on it), 409 for an action the conversation's state does not allow (a
reply to a resolved conversation is refused, never silently lost). Who may call what, and
how a body is read: `bot/web/api_requests.py`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict

from aiohttp import web

from bot import metrics
from bot.config import Config
from bot.domain.messages import Button
from bot.services.inbox import Inbox
from bot.stores.agents import Agent, AgentStore
from bot.stores.assignment import Assignment
from bot.stores.conversations import ASSIGNED, Conversation, ConversationStore
from bot.stores.handoff_queue import AtCapacity, HandoffQueue
from bot.web.api_requests import AGENT, json_object
from bot.web.audit_routes import audited
from bot.web.responses import ApiError

MAX_REPLY_CHARS = 4000
MAX_REPLY_FILES = 5
# The shape of `conversation_id`: anything else names no conversation (and may name another
# kind of key, such as a transcript, which Redis would refuse to read as one).
CONVERSATION_ID = re.compile(r"^c[0-9a-f]{12}$")


def is_conversation_id(text: object) -> bool:
    return isinstance(text, str) and bool(CONVERSATION_ID.match(text))


async def owned_conversation(conversations: ConversationStore, request: web.Request,
                             reading: bool = False) -> Conversation:  # fmt: skip
    """The conversation in the URL, if the agent may act on it (theirs now or last, or any
    for a lead), or with `reading`, read it (also when a note mentioned them); else 404."""
    conv = await readable_conversation(conversations, request[AGENT], request.match_info["id"], reading)
    if conv is None:
        raise ApiError(404, "not_found", "no such conversation among yours")
    return conv


async def readable_conversation(conversations: ConversationStore, agent: Agent, cid: str,
                                reading: bool = False) -> Conversation | None:  # fmt: skip
    """The conversation `cid` if `agent` may act on it (or, with `reading`, read it: see
    `owned_conversation`), else None: the one rule for a conversation and what belongs to it
    (its files, `file_routes.py`)."""
    conv = await conversations.get(cid) if is_conversation_id(cid) else None
    allowed = conv is not None and (agent.is_lead or agent.name in (conv.agent, conv.last_agent)
                                    or (reading and await conversations.is_mentioned(cid, agent.name)))  # fmt: skip
    return conv if allowed else None


class AgentRoutes:
    """Routes any agent may call (leads too, and on every conversation)."""

    def __init__(self, config: Config, agents: AgentStore, conversations: ConversationStore, queue: HandoffQueue,
                 inbox: Inbox, assignment: Assignment | None = None) -> None:  # fmt: skip
        self.config = config
        self.agents = agents
        self.conversations = conversations
        self.queue = queue
        self.inbox = inbox
        self.replies = inbox.replies
        self.assignment = assignment

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/me", self.me),
            web.get("/api/queue", self.list_queue),
            web.post("/api/queue/claim", self.claim),
            web.get("/api/conversations/{id}", self.conversation),
            web.post("/api/conversations/{id}/reply", self.reply),
            web.post("/api/conversations/{id}/resolve", self.resolve),
            web.post("/api/conversations/{id}/transfer", self.transfer),
            web.post("/api/conversations/{id}/release", self.release),
            web.get("/api/incidents", self.list_incidents),
        ]

    async def me(self, request: web.Request) -> web.Response:
        """Who the token belongs to, and the conversations they own now."""
        agent = request[AGENT]
        owned = [await self.conversations.get(cid) for cid in await self.queue.owned_by(agent.name)]
        return web.json_response({
            "name": agent.name, "languages": list(agent.languages), "role": agent.role,
            "teams": list(agent.teams) or list(self.config.routing.team_names), "presence": agent.presence,
            "max_open": agent.max_open or self.config.routing.max_open_per_agent,
            "away_after_minutes": self.config.routing.away_after_minutes,
            "conversations": [c.public() for c in owned if c is not None],
        })  # fmt: skip

    async def list_queue(self, request: web.Request) -> web.Response:
        """The waiting conversations of the agent's teams (every team's for leads and agents of
        every team), most urgent first, with why each waits."""
        agent = request[AGENT]
        now = time.time()
        items = []
        for entry in await self.queue.waiting(() if agent.is_lead else agent.teams):
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
                "team": entry.team, "overflowed_from": conv.overflowed_from or None,
            })  # fmt: skip
        return web.json_response({"queue": items})

    @audited("claim")
    async def claim(self, request: web.Request) -> web.Response:
        """The next conversation in the agent's languages (and those no one on shift speaks),
        or the one named by `conversation` (click-to-claim); 204 when nothing waits."""
        agent = request[AGENT]
        body = await json_object(request, required=False)
        languages = body.get("languages")
        if languages is not None and (
            not isinstance(languages, list) or not all(isinstance(x, str) for x in languages)
        ):
            raise ApiError(400, "bad_request", '"languages" must be a list of language codes')
        wanted = [lang for lang in (languages or agent.languages) if agent.is_lead or lang in agent.languages]
        on_shift = await self.agents.on_shift(self.config.handoff.agent_timeout_seconds)
        spoken = {lang for a in on_shift for lang in a.languages}
        unspoken = [lang for lang in self.config.languages if lang not in spoken]
        teams = () if agent.is_lead else agent.teams  # none: every team's queue
        named = body.get("conversation")
        try:
            if named is not None:  # click-to-claim: that one, if it still waits in the agent's teams and languages
                conv = await self.conversations.get(named) if is_conversation_id(named) else None
                if conv is None or (not agent.is_lead and (conv.language not in [*agent.languages, *unspoken]
                                                           or not agent.in_team(conv.team))):  # fmt: skip
                    raise ApiError(404, "not_found", "no such conversation waiting in your teams and languages")
                if not await self.queue.claim(conv.id, agent.name):
                    raise ApiError(409, "taken", "the conversation is no longer waiting (someone else claimed it)")
                return await self._claimed(conv.id)
            cid = await self.queue.claim_next(agent.name, [*wanted, *unspoken], teams)
        except AtCapacity:
            raise ApiError(409, "at_capacity", "you hold as many open conversations as you may: "
                                               "resolve or hand one on first") from None  # fmt: skip
        if cid is None:
            return web.Response(status=204)
        return await self._claimed(cid)

    async def _claimed(self, cid: str) -> web.Response:
        conv = await self.conversations.get(cid)
        if conv and conv.queued_at and conv.claimed_at:
            metrics.WAIT_SECONDS.labels(conv.lane or "normal").observe(max(0.0, conv.claimed_at - conv.queued_at))
        return await self._conversation_json(cid)

    async def _owned(self, request: web.Request) -> Conversation:
        return await owned_conversation(self.conversations, request)

    async def _conversation_json(self, cid: str) -> web.Response:
        conv = await self.conversations.get(cid)
        tickets = await self.queue.user_tickets(conv.platform, conv.user_id)
        return web.json_response({
            **conv.public(),
            "transcript": await self.conversations.transcript(cid),
            # What the console shows of a file a line names (`file`, an agent's `files`): its name and type.
            "files": [stored.public() for stored in await self.inbox.attachments.files.of_conversation(cid)],
            "earlier_tickets": [{"id": t.id, "status": t.status, "intent": t.intent, "opened_at": t.opened_at}
                                for t in tickets if t.id != conv.ticket],
        })  # fmt: skip

    @audited("transcript_read")
    async def conversation(self, request: web.Request) -> web.Response:
        """One of the agent's conversations (or one a note mentioned them in), with its
        transcript, internal notes included, and the user's earlier tickets."""
        conv = await owned_conversation(self.conversations, request, reading=True)
        return await self._conversation_json(conv.id)

    @audited("reply")
    async def reply(self, request: web.Request) -> web.Response:
        """{"text": ..., "files"?: [ids]} to the user, through their platform's outbox (files
        the agent uploaded to this conversation, `file_routes.py`; with files the text may be
        empty); 409 unless assigned to the agent."""
        conv = await self._owned(request)
        agent = request[AGENT]
        body = await json_object(request)
        text, files = body.get("text"), await self._attached(conv.id, body.get("files", []))
        if not isinstance(text, str) or not (text.strip() or files):
            raise ApiError(400, "bad_request", '"text" must be a non-empty string')
        if len(text) > MAX_REPLY_CHARS:
            raise ApiError(413, "too_long", f"a reply is at most {MAX_REPLY_CHARS} characters")
        if conv.state != ASSIGNED or conv.agent != agent.name:
            raise ApiError(409, "not_yours", f"the conversation is {conv.state}; claim it before replying")
        entry = await self.replies.tell(conv, text, sender=f"agent:{agent.name}", record=True, files=files)
        await self.inbox.followup.agent_replied(conv, text, f"agent:{agent.name}", files)  # the user left: by e-mail
        if conv.offered_at:  # replying to an offered conversation accepts it
            await self.assignment.accept(conv.id, agent.name)
        if conv.ticket:  # for the reports' time to first response
            await self.queue.note_first_reply(conv.ticket, time.time())
        return web.json_response({"queued_for_delivery": entry}, status=202)

    async def _attached(self, cid: str, ids: object) -> tuple[str, ...]:
        """The files named in a reply: at most 5, each one an agent uploaded to this conversation."""
        if not isinstance(ids, list) or len(ids) > MAX_REPLY_FILES or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, "bad_request", f'"files" must be a list of at most {MAX_REPLY_FILES} file ids')
        for file_id in ids:
            stored = await self.inbox.attachments.files.get(file_id)
            if stored is None or stored.conversation != cid or not stored.sender.startswith("agent:"):
                raise ApiError(400, "bad_request", f"{file_id[:40]!r} is no file uploaded to this conversation")
        return tuple(dict.fromkeys(ids))

    @audited("resolve")
    async def resolve(self, request: web.Request) -> web.Response:
        """Close the ticket; the user is told and asked for a rating."""
        conv = await self._close(request, self.queue.resolve)
        await self._ask_for_rating(conv)
        return await self._conversation_json(conv.id)

    @audited("release")
    async def release(self, request: web.Request) -> web.Response:
        """Hand the conversation back to the bot."""
        conv = await self._close(request, self.queue.release)
        return await self._conversation_json(conv.id)

    async def _close(self, request: web.Request, action: Callable[[str, str | None], Awaitable[bool]]) -> Conversation:
        """`action` (the queue's resolve or release) on the agent's conversation, noted in its
        transcript with who did it; 409 when the conversation is not assigned."""
        conv = await self._owned(request)
        if not await action(conv.id, conv.agent):
            raise ApiError(409, "not_assigned", f"the conversation is {conv.state}")
        await self.conversations.append(conv.id, "system", f"{action.__name__} by {request[AGENT].name}")
        return conv

    async def _ask_for_rating(self, conv: Conversation) -> None:
        """After a resolved ticket: the user is told, and asked for a 1-5 rating."""
        language = conv.language if conv.language in self.config.languages else self.config.default_language
        text = "\n\n".join([self.replies.text("conversation_resolved", language, ticket=conv.ticket),
                             self.replies.text("rate_prompt", language)])  # fmt: skip
        buttons = tuple(Button("⭐" * n, f"rate:{n}:{conv.ticket}") for n in range(1, 6))
        await self.replies.tell(conv, text, buttons)

    @audited("transfer")
    async def transfer(self, request: web.Request) -> web.Response:
        """{"agent": name} to another agent, or {"queue": true} back to the queue."""
        conv = await self._owned(request)
        body = await json_object(request)
        if body.get("queue") is True:
            done = await self.queue.requeue(conv.id, conv.agent)
        elif isinstance(body.get("agent"), str):
            target = await self.agents.get(body["agent"])
            if target is None:
                raise ApiError(400, "bad_request", f"no agent named {body['agent']!r}")
            try:
                done = await self.queue.transfer(conv.id, conv.agent, target.name)
            except AtCapacity:
                raise ApiError(409, "at_capacity", f"{target.name} holds their maximum of open conversations") from None
        else:
            raise ApiError(400, "bad_request", 'send {"agent": name} or {"queue": true}')
        if not done:
            raise ApiError(409, "not_assigned", f"the conversation is {conv.state}")
        return await self._conversation_json(conv.id)

    async def list_incidents(self, request: web.Request) -> web.Response:
        """Active incidents (agents see why the queue is quiet) and the bot's suggestions of
        one. Declaring and ending them is for leads (`bot/web/lead_routes.py`)."""
        incidents = self.inbox.incidents
        return web.json_response({"incidents": [asdict(i) for i in await incidents.listed()],
                                  "suggestions": await incidents.suggestions()})  # fmt: skip
