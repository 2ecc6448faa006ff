"""Community and incident work around a message: an incident's status instead of the usual
answer (and its group told when it is over), and new group members whose names imitate the
exchange's staff."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Optional

from bot.config import Config
from bot.domain.impostors import ImpostorCheck
from bot.domain.language import base_language
from bot.domain.messages import Action, Decision, InboundMessage, Priority
from bot.domain.pipeline import Pipeline
from bot.services.replies import Replies
from bot.stores import keys
from bot.stores.conversations import Conversation, Line
from bot.stores.holder import Stores
from bot.stores.incidents import Incident

log = logging.getLogger(__name__)


class Community:
    """Incidents and impostors."""

    def __init__(self, config: Config, pipeline: Pipeline, stores: Stores, replies: Replies) -> None:
        self.config = config
        self.pipeline = pipeline
        self.conversations = stores.conversations
        self.queue = stores.queue
        self.lead_lists = stores.lead_lists
        self.incidents = stores.incidents
        self.replies = replies
        self.impostors = ImpostorCheck(config.exchange_name, config.community.protected_names)

    async def incident_for(self, conversation: Conversation, decision: Decision) -> Optional[Incident]:
        """The incident this message is about: its intent is an incident's topic, or it asks for
        a person in a conversation that was about one. Never for an urgent case or a secret."""
        if decision.priority is Priority.URGENT or decision.action is Action.WARN_SECRET:
            return None
        incident = await self.incidents.for_intent(decision.intent)
        if incident is None and decision.priority and conversation.incident:
            incident = await self.incidents.get(conversation.incident)
        return incident

    async def during_incident(self, conversation: Conversation, decision: Decision, incident: Incident,
                              said: Line) -> Decision:  # fmt: skip
        """The incident's status instead of the usual answer; a hand-off joins the incident's
        group (told when it is over) instead of the queue. `said`, the user's line, goes to the
        transcript with the status (one round trip)."""
        text = incident.status_in(decision.language, self.config.default_language)
        if decision.priority:
            await self.incidents.group(incident, conversation.id)
            text = f"{text}\n\n{self.replies.text('incident_grouped', decision.language)}"
        reply = replace(decision.reply, text=text, buttons=()) if decision.reply else None
        await self.conversations.record(conversation.id, said, Line("bot", text, {"incident": incident.id}),
                                        language=decision.language, incident=incident.id)  # fmt: skip
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
        await self.lead_lists.file(keys.IMPOSTORS, report)
        await self.queue.publish("impostor_joined", **report)
        log.warning("%s: a new member of chat %s imitates %r", message.platform, message.chat_id, imitated)
        if self.config.community.warn_in_chat:
            language = base_language(message.language_hint) or self.config.default_language
            language = language if language in self.config.languages else self.config.default_language
            text = self.replies.text("impostor_warning", language, name=message.user_name[:64])
            await self.replies.answer(message, text, quote=False)
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
                or self.replies.text("incident_over", language)  # fmt: skip
            await self.replies.tell(conv, text, record=True, incident=incident_id)
            await self.conversations.update(cid, incident="")
        return len(grouped)
