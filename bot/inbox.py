"""Where every inbound message enters the core, whatever platform it came from.

Adapters call `Inbox.handle` with a normalized message; the reply comes back inline (the web
chat) or through the platform's outbox. Replies that come later (an agent's) always take the
outbox. Adapters decide nothing.

Nothing accepted is lost: a message is written (redacted) to the `sb:inbox` stream before it
is handled and deleted after. If the process dies in between, `recover_orphans` (any replica)
finds the entry by its age, handles it again and sends the reply through the outbox. That is
at-least-once: a crash after the reply and before the delete can answer twice, never zero
times.

While a person owns a conversation the bot stays silent in it: that is enforced here, not in
the adapters. The user's messages go to the transcript and to the agents' event stream; only
a pasted secret still gets the bot's warning.
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from typing import Optional

from bot import metrics, secret_guard
from bot.agents import AgentStore
from bot.config import Config
from bot.conversations import BOT, RESOLVED, WITH_PEOPLE, Conversation, ConversationStore, conversation_id
from bot.handoff_queue import HandoffQueue
from bot.impostors import ImpostorCheck
from bot.incidents import Incident, IncidentStore
from bot.language import base_language
from bot.messages import Action, Decision, InboundMessage, OutboundReply, Priority
from bot.outbox import Outbox
from bot.pipeline import BadMessage, Pipeline, buttons_for
from intents import TicketView

log = logging.getLogger(__name__)
INBOX_STREAM = "sb:inbox"
MOVE_TTL_SECONDS = 24 * 3600
FEEDBACK_LIST = "sb:feedback"
# Intents whose messages are kept for leads, newest first: intent -> Redis list.
FILED = {"feedback": "sb:feedback-items", "phishing_report": "sb:phishing-reports"}
IMPOSTORS = "sb:impostors"
_LINK = re.compile(r"(?:https?://|www\.)\S+|(?<![@\w.-])[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|app|xyz|top|site|online|co|me)\b\S*")
_HANDLE = re.compile(r"(?<![\w.])@\w{3,32}")
# Answered only in private: their answers show the user's own account data (tickets).
PRIVATE_INTENTS = frozenset({"ticket_status"})


class Inbox:
    """Runs the pipeline with the conversation's context and acts on the decision."""

    def __init__(
        self,
        config: Config,
        pipeline: Pipeline,
        conversations: ConversationStore,
        queue: HandoffQueue,
        outbox: Outbox,
        agents: AgentStore,
    ) -> None:
        self.incidents = IncidentStore(conversations.redis)
        self.impostors = ImpostorCheck(config.exchange_name, config.community.protected_names)
        self.config = config
        self.pipeline = pipeline
        self.conversations = conversations
        self.queue = queue
        self.outbox = outbox
        self.agents = agents
        self.redis = conversations.redis
        # How a conversation leaves a public chat, per platform (adapters register theirs):
        # an opener starts a private chat itself (a thread, a DM) and returns its chat id and
        # a link to it, or None when the platform refuses; a link builder turns a one-time
        # token into a link the user follows (Telegram's t.me/<bot>?start=<token>).
        self.private_openers: dict[str, Callable[[InboundMessage], Awaitable[tuple[str, str] | None]]] = {}
        self.private_links: dict[str, Callable[[str], str]] = {}

    async def handle(self, message: InboundMessage, reply_inline: bool = True) -> Decision:
        """Accept `message` (BadMessage if it cannot be read), decide and act: answer, hand
        off, or, when a person owns the conversation, pass it to them. With `reply_inline`
        false the reply goes to the platform's outbox instead of back to the caller."""
        started = time.perf_counter()
        self.pipeline.check(message.text)
        # From here on only the redacted text exists; the guard knows its own markers, so the
        # pipeline still warns about what was removed.
        message = replace(message, text=secret_guard.scan(message.text).redacted_text)
        entry = await self.redis.xadd(INBOX_STREAM, {"message": json.dumps(asdict(message), ensure_ascii=False)})
        metrics.MESSAGES_IN.labels(message.platform).inc()
        decision = await self._decide(message)
        metrics.PIPELINE_SECONDS.observe(time.perf_counter() - started)
        metrics.DECISIONS.labels(decision.action.value).inc()
        if not reply_inline and decision.reply:
            await self.outbox.put(decision.reply, conversation_id(message.conversation_key))
        await self.redis.xdel(INBOX_STREAM, entry)
        return decision

    async def recover_orphans(self, older_than_seconds: float) -> int:
        """Handle accepted messages whose handler died; their replies take the outbox."""
        cutoff_ms = int((time.time() - older_than_seconds) * 1000)
        recovered = 0
        for entry, fields in await self.redis.xrange(INBOX_STREAM, "-", f"{cutoff_ms}-0", count=100):
            entry = entry.decode()
            if not await self.redis.set(f"{INBOX_STREAM}:lock:{entry}", 1, nx=True, ex=120):
                continue  # another replica has it
            data = json.loads(fields[b"message"])
            message = InboundMessage(**data)
            try:
                decision = await self._decide(message)
                if decision.reply:
                    await self.outbox.put(decision.reply, conversation_id(message.conversation_key))
            except BadMessage:
                pass
            await self.redis.xdel(INBOX_STREAM, entry)
            recovered += 1
            log.info("recovered accepted message %s of %s", entry, message.platform)
        return recovered

    async def _decide(self, message: InboundMessage) -> Decision:
        conversation = await self.conversations.for_message(message)
        if conversation.state in WITH_PEOPLE:
            return await self._to_people(message, conversation)
        if conversation.state == RESOLVED:
            await self.conversations.update(conversation.id, state=BOT)

        decision = await self.pipeline.process(message, conversation.language or None, self._ticket_lookup(message))
        if decision.action is Action.IGNORE:
            return decision
        await self.conversations.update(conversation.id, language=decision.language)
        await self.conversations.append(
            conversation.id, "user", decision.redacted_text, intent=decision.intent,
            confidence=round(decision.confidence, 3), language=decision.language, action=decision.action.value,
            answer_id=decision.answer_id, entities=decision.entities,
        )  # fmt: skip
        if decision.intent in FILED and decision.action is Action.ANSWER:
            await self._file(message, conversation, decision)
        if decision.intent and decision.action is not Action.CLARIFY:
            suggestion = await self.incidents.count(decision.intent)
            if suggestion:
                await self.queue.publish("incident_suggested", **suggestion)
        incident = await self._incident_for(conversation, decision)
        if incident:
            return await self._during_incident(conversation, decision, incident)
        private = decision.priority or decision.intent in PRIVATE_INTENTS
        if (
            private
            and decision.public
            and decision.action is not Action.WARN_SECRET
            and self._can_move(message.platform)
        ):
            decision = await self._move_to_private(message, conversation, decision)
        elif decision.priority:
            decision = await self._hand_off(message, conversation, decision)
        if decision.reply:
            await self.conversations.append(conversation.id, "bot", decision.reply.text)
        log.info(
            "%s %s lang=%s intent=%s conf=%.2f action=%s secrets=%s",
            message.platform, conversation.id, decision.language, decision.intent,
            decision.confidence, decision.action.value, ",".join(decision.secret_kinds) or "-",
        )  # fmt: skip
        return decision

    async def _incident_for(self, conversation: Conversation, decision: Decision) -> Optional[Incident]:
        """The incident this message is about: its intent is an incident's topic, or it asks for
        a person in a conversation that was about one. Never for an urgent case or a secret."""
        if decision.priority is Priority.URGENT or decision.action is Action.WARN_SECRET:
            return None
        incident = await self.incidents.for_intent(decision.intent)
        if incident is None and decision.priority and conversation.incident:
            incident = await self.incidents.get(conversation.incident)
        return incident

    async def _during_incident(self, conversation: Conversation, decision: Decision, incident: Incident) -> Decision:
        """The incident's status instead of the usual answer; a hand-off joins the incident's
        group (told when it is over) instead of the queue."""
        text = incident.status_in(decision.language, self.config.default_language)
        await self.conversations.update(conversation.id, incident=incident.id)
        if decision.priority:
            await self.incidents.group(incident, conversation.id)
            text = f"{text}\n\n{self.pipeline.texts.reply('incident_grouped', decision.language)}"
        reply = replace(decision.reply, text=text, buttons=()) if decision.reply else None
        await self.conversations.append(conversation.id, "bot", text, incident=incident.id)
        log.info("%s %s intent=%s answered by incident %s", conversation.platform, conversation.id, decision.intent,
                 incident.id)  # fmt: skip
        return replace(decision, reply=reply, action=Action.ANSWER, priority=None)

    async def member_joined(self, message: InboundMessage) -> Optional[str]:
        """A new member of a group (`message` names chat, user and name; its text is ignored).
        When the name imitates the exchange's staff, leads are told (an `impostor_joined`
        event, and the list at /api/impostors) and the chat is warned; returns the name
        imitated, or None."""
        imitated = self.impostors.imitates(message.user_name)
        if imitated is None:
            return None
        report = {"at": time.time(), "platform": message.platform, "chat_id": message.chat_id,
                  "user_id": message.user_id, "name": message.user_name[:100], "imitates": imitated}  # fmt: skip
        await self.redis.lpush(IMPOSTORS, json.dumps(report, ensure_ascii=False))
        await self.redis.ltrim(IMPOSTORS, 0, 9999)
        await self.queue.publish("impostor_joined", **report)
        log.warning("%s: a new member of chat %s imitates %r", message.platform, message.chat_id, imitated)
        if self.config.community.warn_in_chat:
            language = base_language(message.language_hint) or self.config.default_language
            language = language if language in self.config.languages else self.config.default_language
            text = self.pipeline.texts.reply("impostor_warning", language, name=message.user_name[:64])
            await self.outbox.put(OutboundReply(message.platform, message.chat_id, text))
        return imitated

    async def end_incident(self, incident_id: str, final: dict[str, str]) -> int:
        """Resolve an incident: everyone grouped on it hears `final` (per language; a general
        "resolved" message where it has none). Returns how many were told."""
        grouped = await self.incidents.resolve(incident_id)
        for cid in grouped:
            conv = await self.conversations.get(cid)
            if conv is None:
                continue
            language = conv.language or self.config.default_language
            text = final.get(language) or final.get(self.config.default_language) \
                or self.pipeline.texts.reply("incident_over", language)  # fmt: skip
            await self.outbox.put(OutboundReply(conv.platform, conv.chat_id, text), cid)
            await self.conversations.append(cid, "bot", text, incident=incident_id)
            await self.conversations.update(cid, incident="")
        return len(grouped)

    async def _file(self, message: InboundMessage, conversation: Conversation, decision: Decision) -> None:
        """A suggestion or bug report becomes a feedback item; a phishing report is recorded
        with the links and handles it names. Leads list both over the agent API."""
        item = {"at": time.time(), "conversation": conversation.id, "platform": message.platform,
                "language": decision.language, "text": decision.redacted_text}  # fmt: skip
        if decision.intent == "phishing_report":
            item["links"] = _LINK.findall(decision.redacted_text)
            item["handles"] = _HANDLE.findall(decision.redacted_text)
        await self.redis.lpush(FILED[decision.intent], json.dumps(item, ensure_ascii=False))
        await self.redis.ltrim(FILED[decision.intent], 0, 9999)

    def _ticket_lookup(self, message: InboundMessage) -> Callable[[], Awaitable[list[TicketView]]]:
        async def tickets() -> list[TicketView]:
            found = await self.queue.user_tickets(message.platform, message.user_id)
            return [TicketView(t.id, t.status) for t in found]

        return tickets

    async def _move_to_private(self, message: InboundMessage, conversation: Conversation,
                               decision: Decision) -> Decision:  # fmt: skip
        """Account matters never in public: a short public reply pointing to a private chat.
        Where the platform can open one (a thread, a DM) the conversation continues there at
        once; otherwise the reply carries a one-time link that `resume_in_private` honours."""
        token = secrets.token_urlsafe(18)
        # The key names the user: someone else holding the link finds nothing and spends nothing.
        await self.redis.set(f"sb:move:{message.platform}:{message.user_id}:{token}", json.dumps({
            "platform": message.platform, "user_id": message.user_id, "from": conversation.id,
            "intent": decision.intent, "priority": decision.priority.value if decision.priority else None,
            "language": decision.language,
        }), ex=MOVE_TTL_SECONDS)  # fmt: skip
        opener = self.private_openers.get(message.platform)
        opened = await opener(message) if opener else None
        if opened:
            chat_id, link = opened
            private = replace(message, chat_id=chat_id, chat_kind="private", message_id="", reply_to=None)
            await self.resume_in_private(private, token, reply_inline=False)
        elif message.platform in self.private_links:
            link = self.private_links[message.platform](token)
        else:  # the platform refused a private chat and has no link: the user is asked to write in private
            link = ""
        text = self.pipeline.texts.reply("move_to_private", decision.language, link=link).rstrip(" :：\n")
        reply = replace(decision.reply, text=text, buttons=()) if decision.reply else None
        return replace(decision, reply=reply, action=Action.HANDOFF)

    async def resume_in_private(
        self, message: InboundMessage, token: str, reply_inline: bool = True
    ) -> Decision | None:
        """The private chat opened from a group's link: the conversation comes along and the
        hand-off (ticket, queue) happens here. None when the token is unknown, used or not
        the user's own."""
        raw = await self.redis.getdel(f"sb:move:{message.platform}:{message.user_id}:{token}")
        if raw is None:
            return None
        moved = json.loads(raw)
        conversation = await self.conversations.for_message(message)
        for line in await self.conversations.transcript(moved["from"]):
            if line["from"] == "user":
                await self.conversations.append(conversation.id, "user", line["text"], moved_from=moved["from"])
        await self.conversations.update(conversation.id, language=moved["language"])
        if moved["priority"] is None:  # an account question: answered here, in private
            decision = await self.pipeline.answer_intent(moved["intent"], moved["language"], message,
                                                         self._ticket_lookup(message))  # fmt: skip
            await self.conversations.append(conversation.id, "bot", decision.reply_text)
            if not reply_inline:
                await self.outbox.put(decision.reply, conversation.id)
            return decision
        decision = await self._open_ticket(message, conversation, moved["intent"], Priority(moved["priority"]),
                                           moved["language"])  # fmt: skip
        if not reply_inline:
            await self.outbox.put(decision.reply, conversation.id)
        return decision

    async def answer_for_user_only(self, message: InboundMessage, intent: str) -> Decision:
        """The answer to `intent` for a reply only the user sees (Discord's ephemeral reply to
        /ticket), so account matters may be in it even in a public channel. The
        conversation is not changed; the reply is returned, never queued."""
        known = await self.conversations.get(conversation_id(message.conversation_key))
        previous = (known.language or None) if known else None
        language = self.pipeline.detector.detect("", message.language_hint, previous).language
        return await self.pipeline.answer_intent(intent, language, message, self._ticket_lookup(message))

    async def attachment(self, message: InboundMessage, description: str) -> Decision:
        """A photo, sticker, voice note or file. With a person on the conversation they see
        that it came (`description`, e.g. "photo file_id=..."); otherwise the user is asked to
        type the question. `message.text` is ignored."""
        conversation = await self.conversations.for_message(message)
        language = self.pipeline.detector.detect("", message.language_hint, conversation.language or None).language
        if conversation.state in WITH_PEOPLE:
            await self.conversations.append(conversation.id, "user", f"[{description}]")
            await self.queue.publish("user_wrote", conversation=conversation.id, agent=conversation.agent or None)
            return Decision(language, language, None, 0.0, Action.FORWARD, None, None, "")
        text = self.pipeline.texts.reply("non_text", language)
        reply = OutboundReply(message.platform, message.chat_id, text, (), message.message_id or None)
        await self.outbox.put(reply, conversation.id)
        return Decision(language, language, None, 0.0, Action.ANSWER, None, reply, "")

    async def press(self, message: InboundMessage, action: str) -> Decision | None:
        """A button under one of the bot's replies: "helpful:yes"/"helpful:no" are recorded
        (a no offers a person), "handoff" hands the conversation to a person. `message`
        carries who pressed where; its text is ignored. The reply, if any, takes the outbox."""
        conversation = await self.conversations.for_message(message)
        language = conversation.language or self.config.default_language
        if action in ("helpful:yes", "helpful:no"):
            await self._record_feedback(message, conversation, language, intent=conversation.intent or None,
                                        value=action.split(":")[1])  # fmt: skip
            await self.conversations.update(conversation.id, last_feedback=action)
            await self.conversations.append(conversation.id, "user", f"[{action}]")
            if action == "helpful:yes":
                return None
            text = self.pipeline.texts.reply("clarify", language)
            buttons = buttons_for(Action.CLARIFY, self.pipeline.texts, language)
            reply = OutboundReply(message.platform, message.chat_id, text, buttons)
            await self.outbox.put(reply, conversation.id)
            return Decision(language, language, None, 0.0, Action.CLARIFY, None, reply, "")
        rating = re.fullmatch(r"rate:([1-5]):(T-\d+)", action)
        if rating:
            ticket = await self.redis.hgetall(f"sb:ticket:{rating.group(2)}")
            if not ticket or ticket.get(b"conversation", b"").decode() != conversation.id:
                return None  # not this user's ticket
            await self._record_feedback(message, conversation, language, ticket=rating.group(2),
                                        rating=int(rating.group(1)), agent=conversation.last_agent or None)  # fmt: skip
            await self.redis.hset(f"sb:ticket:{rating.group(2)}", "rating", rating.group(1))
            thanks = self.pipeline.texts.reply("thanks_for_rating", language)
            reply = OutboundReply(message.platform, message.chat_id, thanks)
            await self.outbox.put(reply, conversation.id)
            return Decision(language, language, None, 0.0, Action.ANSWER, None, reply, "")
        if action == "handoff" and conversation.state not in WITH_PEOPLE:
            if message.chat_kind == "group" and self._can_move(message.platform):  # the agent talks in private
                asked = Decision(language, language, "human_agent", 1.0, Action.HANDOFF, Priority.NORMAL,
                                 OutboundReply(message.platform, message.chat_id, ""), "", public=True)  # fmt: skip
                decision = await self._move_to_private(message, conversation, asked)
            else:
                decision = await self._open_ticket(message, conversation, "human_agent", Priority.NORMAL, language)
            await self.outbox.put(decision.reply, conversation.id)
            return decision
        return None

    def _can_move(self, platform: str) -> bool:
        return platform in self.private_links or platform in self.private_openers

    async def _record_feedback(self, message: InboundMessage, conversation: Conversation, language: str,
                               **fields: object) -> None:  # fmt: skip
        """One "was this helpful?" answer or rating, for the reports."""
        await self.redis.rpush(FEEDBACK_LIST, json.dumps({
            "at": time.time(), "conversation": conversation.id, "platform": message.platform, "language": language,
            **fields,
        }))  # fmt: skip

    async def _open_ticket(self, message: InboundMessage, conversation: Conversation, intent: str,
                           priority: Priority, language: str) -> Decision:  # fmt: skip
        """A hand-off that did not come through the pipeline (a button, a conversation carried
        over from a group): the reply is the notice alone."""
        asked = Decision(language, language, intent, 1.0, Action.HANDOFF, priority,
                         OutboundReply(message.platform, message.chat_id, ""), "")  # fmt: skip
        decision = await self._hand_off(message, conversation, asked)
        await self.conversations.append(conversation.id, "bot", decision.reply_text)
        return decision

    def lane_for(self, message: InboundMessage, priority: Priority) -> str:
        if priority is Priority.URGENT:
            return "urgent"
        if f"{message.platform}:{message.user_id}" in self.config.handoff.vip_users:
            return "vip"
        return priority.value

    async def _hand_off(self, message: InboundMessage, conversation: Conversation, decision: Decision) -> Decision:
        lane = self.lane_for(message, decision.priority)
        language = decision.language
        ticket, _ = await self.queue.enqueue(conversation.id, lane, language, decision.intent or "")
        position = await self.queue.position(conversation.id, lane, language)
        speakers = [a for a in await self.agents.on_shift(self.config.handoff.agent_timeout_seconds)
                    if language in a.languages]  # fmt: skip
        minutes = math.ceil(position * self.config.handoff.avg_handle_minutes / max(1, len(speakers)))
        notice = self.pipeline.texts.reply(
            "handoff_ticket", language, ticket=ticket, position=position, wait=f"{max(1, minutes)} min"
        )
        if decision.intent == "human_agent" and decision.reply and decision.action is not Action.WARN_SECRET:
            decision = replace(decision, reply=replace(decision.reply, text=""))  # the notice says it all
        return replace(self.pipeline.with_handoff_notice(decision, notice), action=Action.HANDOFF
                       if decision.action is not Action.WARN_SECRET else decision.action)  # fmt: skip

    async def _to_people(self, message: InboundMessage, conversation: Conversation) -> Decision:
        """A person owns (or is about to own) the conversation: record the message for them."""
        guarded, detection = self.pipeline.screen(message, conversation.language or None)
        await self.conversations.append(conversation.id, "user", guarded.redacted_text, language=detection.language)
        await self.queue.publish("user_wrote", conversation=conversation.id, agent=conversation.agent or None)
        reply = None
        action = Action.FORWARD
        if guarded.found:
            text = self.pipeline.warning(guarded.kinds, detection.language, message.chat_kind == "group")
            reply = OutboundReply(message.platform, message.chat_id, text, (), message.message_id or None)
            action = Action.WARN_SECRET
        return Decision(detection.language, detection.detected, None, 0.0, action, None, reply,
                        guarded.redacted_text, guarded.kinds, public=message.chat_kind == "group")  # fmt: skip
