"""Where every inbound message enters the core, whatever platform it came from.

Channels reach it through the front desk (`front_desk.py`) with a normalized message; the reply
comes back inline (the web chat, a slash command) or through the platform's outbox. Replies that
come later (an agent's) always take the outbox. Channels decide nothing.

Nothing accepted is lost: a message is written (redacted) to the `sb:inbox` stream before it
is handled and deleted after. If the process dies in between, `recover_orphans` (any replica)
finds the entry by its age, handles it again and sends the reply through the outbox. A message
with an idempotency key (the platform's id for it) is answered exactly once: accepted once
(a redelivery or a resend is a `DUPLICATE`), and its reply is queued or recorded once, in the
same step that marks it answered (see `bot/stores/intake.py`).

While a person owns a conversation the bot stays silent in it: that is enforced here, not in
the adapters. The user's messages go to the transcript and to the agents' event stream; only
a pasted secret still gets the bot's warning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Optional

from bot import metrics
from bot.config import Config
from bot.domain import secret_guard
from bot.domain.buttons import ACCOUNT_LINK
from bot.domain.messages import Action, Decision, InboundMessage
from bot.domain.pipeline import BadMessage, Pipeline
from bot.domain.secret_guard import GuardResult
from bot.services.accounts import Accounts
from bot.services.attachments import Attachments
from bot.services.backoffice_client import BackOfficeClient
from bot.services.channels import Channels
from bot.services.community import Community
from bot.services.feedback import Feedback
from bot.services.followup import FollowUp
from bot.services.handoff import HandOff, ticket_lookup
from bot.services.replies import Replies, answering
from bot.services.secret_carry import SecretCarry
from bot.stores import keys
from bot.stores.conversations import BOT, RESOLVED, WITH_PEOPLE, Conversation, Line, conversation_id
from bot.stores.holder import Stores
from bot.stores.together import Write, together
from intents import INTENTS, NO_TOPIC, PRIVATE_INTENTS

log = logging.getLogger(__name__)
# What a channel that keeps the answer itself does with the decision (see `Inbox.handle`).
Recorder = Callable[[Decision], Awaitable[None]]


class Inbox:
    """Runs the pipeline with the conversation's context and acts on the decision, with the
    hand-off, feedback and community services. The web layer uses `pipeline`, `incidents` and
    `end_incident`; channels go through the front desk."""

    def __init__(self, config: Config, pipeline: Pipeline, stores: Stores, channels: Channels | None = None,
                 backoffice: BackOfficeClient | None = None) -> None:  # fmt: skip
        self.config = config
        self.pipeline = pipeline
        self.conversations = stores.conversations
        self.queue = stores.queue
        self.intake = stores.intake
        self.incidents = stores.incidents
        self.replies = Replies(pipeline.texts, stores.outbox, stores.conversations)
        self.accounts = Accounts(config, pipeline.texts, stores, self.replies, backoffice)
        self.handoff = HandOff(config, pipeline, stores, self.replies, channels if channels is not None else Channels(),
                               self.accounts.vip_tier)  # fmt: skip
        self.feedback = Feedback(config, pipeline, stores, self.replies, self.handoff)
        self.community = Community(config, pipeline, stores, self.replies)
        self.attachments = Attachments(config, pipeline, stores, self.replies)
        self.followup = FollowUp(config, stores, self.replies)
        self.end_incident = self.community.end_incident
        self.secret_carry = SecretCarry(stores.conversations)
        self.incidents.when_spiking(self._suggest_incident)

    async def handle(self, message: InboundMessage, reply_inline: bool = True,
                     record: Optional[Recorder] = None) -> Decision:  # fmt: skip
        """Accept `message` (BadMessage if it cannot be read), decide and act: answer, hand
        off, or, when a person owns the conversation, pass it to them. With `reply_inline`
        false the reply goes to the platform's outbox instead of back to the caller. A channel
        that keeps the answer itself (the web chat's session) passes `record`, called with the
        decision before the message counts as handled; it records the reply once (by the
        message's key). A message taken before (same key) gives a `DUPLICATE` decision."""
        started = time.perf_counter()
        self.pipeline.check(message.text)
        # From here on only the redacted text exists; the guard knows its own markers, so the
        # pipeline still warns about what was removed.
        guarded = secret_guard.scan(message.text)
        conversation, marks = await self.conversations.arrive(message)
        guarded, earlier = await self.secret_carry.across_messages(message, guarded, marks)  # a secret split in two
        message = replace(message, text=guarded.redacted_text)
        entry = await self.intake.accept(message)
        if entry is None:
            metrics.DUPLICATES.labels(message.platform).inc()
            return Decision.duplicate(message.text)
        metrics.MESSAGES_IN.labels(message.platform).inc()
        notes: list[Write] = []  # an answer's transcript lines, written with its reply below
        decision = await self._decide(message, guarded, conversation, None if reply_inline and not record else notes)
        if earlier:
            decision = replace(decision, earlier_redacted=earlier)
        metrics.PIPELINE_SECONDS.observe(time.perf_counter() - started)
        metrics.DECISIONS.labels(decision.action.value).inc()
        if not reply_inline:
            note = notes[0] if notes else None
            if decision.reply:
                await self.replies.send(decision.reply, conversation.id, once=message.once_key, after=note)
            elif note:
                await note.run()
        elif record is not None:  # the transcript's lines and the channel's in one round trip
            written = together(*notes) if notes else None
            try:
                await record(decision)
            finally:
                if written is not None:
                    await written
        elif decision.reply and not await self.intake.claim_reply(message.once_key):
            decision = replace(decision, reply=None)  # a recovery answered it meanwhile
        await self.intake.done(entry, answered=bool(message.once_key and decision.reply))
        return decision

    async def recover_orphans(self, older_than_seconds: float) -> int:
        """Handle accepted messages whose handler died; their replies take the outbox."""
        recovered = 0
        for entry, message in await self.intake.older_than(older_than_seconds):
            if not await self.intake.take_over(entry):
                continue  # another replica has it
            if await self.intake.replied(message.once_key):
                await self.intake.done(entry)  # answered before its handler died: nothing more to do
                continue
            try:
                decision = await self._decide(message)
                if decision.reply:
                    await self.replies.send(decision.reply, conversation_id(message.conversation_key),
                                            once=message.once_key)
            except BadMessage:
                pass
            await self.intake.done(entry)
            recovered += 1
            log.info("recovered accepted message %s of %s", entry, message.platform)
        return recovered

    async def _decide(self, message: InboundMessage, guarded: Optional[GuardResult] = None,
                      conversation: Optional[Conversation] = None, notes: Optional[list[Write]] = None) -> Decision:
        """`guarded`, `conversation`: the guard's result for the text and the conversation, when
        `handle` has them already. With `notes`, an answer's transcript lines are left there as
        a write for the caller to send with the reply (one round trip for both)."""
        conversation = conversation or await self.conversations.for_message(message)
        if conversation.state in WITH_PEOPLE:
            return await self._to_people(message, conversation, guarded)
        if conversation.state == RESOLVED:
            await self.conversations.update(conversation.id, state=BOT)

        command = self.accounts.command(message.text)
        if command:
            return await self._account_command(message, conversation, command)
        tickets = ticket_lookup(self.queue, message)
        decision = await self.pipeline.process(message, conversation.language or None, tickets, guarded)
        if decision.action is Action.IGNORE:
            return decision
        decision = await self.accounts.personalize(message, conversation.id, decision)
        said = Line("user", decision.redacted_text, {
            "intent": decision.intent, "confidence": round(decision.confidence, 3), "language": decision.language,
            "action": decision.action.value, "answer_id": decision.answer_id, "entities": decision.entities,
        })  # fmt: skip
        await self._take_note(message, conversation, decision)
        incident = await self.community.incident_for(conversation, decision)
        if incident:
            return await self.community.during_incident(conversation, decision, incident, said)
        if self._moves_to_private(message, decision) or decision.priority:
            # The user's line first: a private chat opened at once carries it over, and the
            # agent who claims the ticket reads it.
            await self.conversations.record(conversation.id, said, language=decision.language)
            if self._moves_to_private(message, decision):
                decision = await self.handoff.move_to_private(message, conversation, decision)
            else:
                decision = await self.handoff.hand_off(message, conversation, decision)
                decision = await self.accounts.offer_freeze(message, decision)
            if decision.reply:
                await self.conversations.append(conversation.id, "bot", decision.reply.text)
        else:  # an answer: the question, the answer and the language in one round trip
            answer = [Line("bot", decision.reply.text)] if decision.reply else []
            answered = decision.action is Action.ANSWER and decision.intent not in NO_TOPIC
            topic = {"topic": decision.intent} if answered else {}  # what "a person, please" is about
            write = self.conversations.record_write(conversation.id, said, *answer, language=decision.language,
                                                    **topic)  # fmt: skip
            if notes is None:
                await write.run()
            else:
                notes.append(write)  # the caller sends it with the reply
        log.info(
            "%s %s lang=%s intent=%s conf=%.2f action=%s secrets=%s",
            message.platform, conversation.id, decision.language, decision.intent,
            decision.confidence, decision.action.value, ",".join(decision.secret_kinds) or "-",
        )  # fmt: skip
        return decision

    async def _account_command(self, message: InboundMessage, conversation: Conversation, command: str) -> Decision:
        """`/link` or `/unlink` (see `bot/services/accounts.py`), answered in the user's language."""
        language = self.pipeline.detector.detect("", message.language_hint, conversation.language or None).language
        act = self.accounts.link if command == "link" else self.accounts.unlink
        text = await act(message, conversation.id, language)
        said, answer = Line("user", message.text), Line("bot", text)
        await self.conversations.record(conversation.id, said, answer, language=language)
        return Decision(language, language, None, 1.0, Action.ANSWER, None, answering(message, text), message.text)

    async def account_pressed(self, message: InboundMessage, action: str) -> Decision | None:
        """"Link my account" (the one-time link) or the freeze buttons; the reply takes the
        outbox and the transcript (the agent sees a freeze even while they own the chat)."""
        conversation = await self.conversations.for_message(message)
        language = conversation.language or self.config.default_language
        if action == ACCOUNT_LINK:
            said = (await self.accounts.link(message, conversation.id, language), ())
        else:
            said = await self.accounts.freeze_pressed(message, action, conversation.id, language)
        if said is None:
            return None
        await self.conversations.record(conversation.id, Line("user", f"[{action}]"), Line("bot", said[0]))
        reply = await self.replies.answer(message, said[0], said[1], conversation=conversation.id, quote=False)
        return Decision(language, language, None, 1.0, Action.ANSWER, None, reply, "")

    def _moves_to_private(self, message: InboundMessage, decision: Decision) -> bool:
        """Account matters asked in public, on a platform with private chats, go there."""
        private = decision.priority or decision.intent in PRIVATE_INTENTS
        return bool(private and decision.public and decision.action is not Action.WARN_SECRET
                    and self.handoff.can_move(message.platform))  # fmt: skip

    async def _take_note(self, message: InboundMessage, conversation: Conversation, decision: Decision) -> None:
        """What the leads keep of a message: a filed report, the intent's rate (a spike
        suggests an incident)."""
        filed_as = INTENTS[decision.intent].filed_as if decision.intent in INTENTS else None
        if filed_as and decision.action is Action.ANSWER:
            await self.feedback.file(message, conversation, decision, keys.filed(filed_as))
        if decision.intent and decision.action is not Action.CLARIFY:
            self.incidents.count(decision.intent)  # a spike: `_suggest_incident`, a moment later

    async def _suggest_incident(self, suggestion: dict) -> None:
        await self.queue.publish("incident_suggested", **suggestion)

    async def answer_for_user_only(self, message: InboundMessage, intent: str) -> Decision:
        """The answer to `intent` for a reply only the user sees (Discord's ephemeral reply to
        /ticket), so account matters may be in it even in a public channel. The
        conversation is not changed; the reply is returned, never queued."""
        known = await self.conversations.get(conversation_id(message.conversation_key))
        previous = (known.language or None) if known else None
        language = self.pipeline.detector.detect("", message.language_hint, previous).language
        return await self.pipeline.answer_intent(intent, language, message, ticket_lookup(self.queue, message))

    async def _to_people(self, message: InboundMessage, conversation: Conversation,
                         guarded: Optional[GuardResult] = None) -> Decision:  # fmt: skip
        """A person owns (or is about to own) the conversation: record the message for them."""
        guarded, detection = self.pipeline.screen(message, conversation.language or None, guarded)
        await self.conversations.append(conversation.id, "user", guarded.redacted_text, language=detection.language)
        await self.queue.publish("user_wrote", conversation=conversation.id, agent=conversation.agent or None)
        reply = None
        action = Action.FORWARD
        if guarded.found:
            text = self.pipeline.warning(guarded.kinds, detection.language, message.chat_kind == "group")
            reply = answering(message, text)
            action = Action.WARN_SECRET
        return Decision(detection.language, detection.detected, None, 0.0, action, None, reply,
                        guarded.redacted_text, guarded.kinds, public=message.chat_kind == "group")  # fmt: skip
