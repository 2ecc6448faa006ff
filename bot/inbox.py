"""Where every inbound message enters the core, whatever platform it came from.

Adapters call `Inbox.handle` with a normalized message and send back what it returns; they
decide nothing themselves.
"""

from __future__ import annotations

import logging

from bot.conversations import ConversationStore
from bot.messages import Decision, InboundMessage
from bot.pipeline import Pipeline

log = logging.getLogger(__name__)


class Inbox:
    """Runs the pipeline with the conversation's context and records the outcome."""

    def __init__(self, pipeline: Pipeline, conversations: ConversationStore) -> None:
        self.pipeline = pipeline
        self.conversations = conversations

    async def handle(self, message: InboundMessage) -> Decision:
        """Decide on `message` (BadMessage if it cannot be read) and remember its language."""
        previous = await self.conversations.last_language(message.conversation_key)
        decision = await self.pipeline.process(message, previous)
        await self.conversations.remember_language(message.conversation_key, decision.language)
        log.info(
            "%s %s lang=%s intent=%s conf=%.2f action=%s secrets=%s",
            message.platform, message.conversation_key, decision.language, decision.intent,
            decision.confidence, decision.action.value, ",".join(decision.secret_kinds) or "-",
        )  # fmt: skip
        return decision
