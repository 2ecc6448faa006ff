"""What users tell us besides their questions: the buttons under the bot's replies ("was this
helpful?", a rating of the agent, "talk to a person"), and suggestions, bug reports and
phishing reports kept for leads."""

from __future__ import annotations

import re
import time

from bot.config import Config
from bot.domain.buttons import SUGGESTION, buttons_for, pressed_answer
from bot.domain.messages import Action, Decision, InboundMessage, Priority
from bot.domain.pipeline import Pipeline
from bot.services.handoff import HandOff
from bot.services.replies import Replies, answering
from bot.stores import keys
from bot.stores.conversations import WITH_PEOPLE, Conversation, Line
from bot.stores.holder import Stores
from intents import PERSON_REQUEST

_LINK = re.compile(r"(?:https?://|www\.)\S+|(?<![@\w.-])[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|app|xyz|top|site|online|co|me)\b\S*")
_HANDLE = re.compile(r"(?<![\w.])@\w{3,32}")


class Feedback:
    """Buttons, ratings and filed reports."""

    def __init__(self, config: Config, pipeline: Pipeline, stores: Stores, replies: Replies, handoff: HandOff) -> None:
        self.config = config
        self.pipeline = pipeline
        self.conversations = stores.conversations
        self.queue = stores.queue
        self.lead_lists = stores.lead_lists
        self.replies = replies
        self.handoff = handoff

    async def press(self, message: InboundMessage, action: str) -> Decision | None:
        """A button under one of the bot's replies: "helpful:yes"/"helpful:no" are recorded
        (a no offers a person), "handoff" hands the conversation to a person. `message`
        carries who pressed where; its text is ignored. The reply, if any, takes the outbox.
        While people have the conversation the press is recorded and the bot says nothing: an
        old button must not make it talk over the agent."""
        conversation = await self.conversations.for_message(message)
        language = conversation.language or self.config.default_language
        with_people = conversation.state in WITH_PEOPLE
        if action in ("helpful:yes", "helpful:no"):
            await self.record_feedback(message, conversation, language, intent=conversation.intent or None,
                                        value=action.split(":")[1])  # fmt: skip
            await self.conversations.update(conversation.id, last_feedback=action)
            await self.conversations.append(conversation.id, "user", f"[{action}]")
            if action == "helpful:yes" or with_people:
                return None
            buttons = buttons_for(Action.CLARIFY, self.pipeline.texts, language)
            reply = await self.replies.answer(message, self.replies.text("clarify", language), buttons,
                                              conversation.id, quote=False)  # fmt: skip
            return Decision(language, language, None, 0.0, Action.CLARIFY, None, reply, "")
        suggested = pressed_answer(action, self.pipeline.texts)
        if suggested and not with_people:
            return await self.answer_suggestion(message, conversation, suggested, language)
        rating = re.fullmatch(r"rate:([1-5]):(T-\d+)", action)
        if rating:
            if await self.queue.ticket_conversation(rating.group(2)) != conversation.id:
                return None  # not this user's ticket
            await self.record_feedback(message, conversation, language, ticket=rating.group(2),
                                        rating=int(rating.group(1)), agent=conversation.last_agent or None)  # fmt: skip
            await self.queue.rate(rating.group(2), int(rating.group(1)))
            if with_people:
                return None
            thanks = self.replies.text("thanks_for_rating", language)
            reply = await self.replies.answer(message, thanks, conversation=conversation.id, quote=False)
            return Decision(language, language, None, 0.0, Action.ANSWER, None, reply, "")
        if action == "handoff" and not with_people:
            if message.chat_kind == "group" and self.handoff.can_move(message.platform):  # the agent talks in private
                asked = Decision(language, language, PERSON_REQUEST, 1.0, Action.HANDOFF, Priority.NORMAL,
                                 answering(message, "", quote=False), "", public=True)  # fmt: skip
                decision = await self.handoff.move_to_private(message, conversation, asked)
            else:
                decision = await self.handoff.open_ticket(message, conversation, PERSON_REQUEST, Priority.NORMAL,
                                                          language)  # fmt: skip
            await self.replies.send(decision.reply, conversation.id)
            return decision
        return None

    async def answer_suggestion(self, message: InboundMessage, conversation: Conversation, answer_id: str,
                                language: str) -> Decision:  # fmt: skip
        """The answer a user picked from the suggestions under a clarifying question."""
        intent = answer_id.split("/")[0]
        text = self.pipeline.texts.answer(answer_id, language)
        picked = Line("user", f"[{SUGGESTION}{answer_id}]", {"intent": intent, "action": "answer",
                                                             "answer_id": answer_id})  # fmt: skip
        await self.conversations.record(conversation.id, picked, Line("bot", text))
        reply = await self.replies.answer(message, text, buttons_for(Action.ANSWER, self.pipeline.texts, language),
                                          conversation.id, quote=False)  # fmt: skip
        return Decision(language, language, intent, 1.0, Action.ANSWER, None, reply, "", answer_id=answer_id)

    async def record_feedback(self, message: InboundMessage, conversation: Conversation, language: str,
                               **fields: object) -> None:  # fmt: skip
        """One "was this helpful?" answer or rating, for the reports."""
        await self.lead_lists.add_feedback({
            "at": time.time(), "conversation": conversation.id, "platform": message.platform, "language": language,
            **fields,
        })  # fmt: skip

    async def file(self, message: InboundMessage, conversation: Conversation, decision: Decision,
                    key: str) -> None:  # fmt: skip
        """A suggestion or bug report becomes a feedback item; a phishing report is recorded
        with the links and handles it names. Leads list both over the agent API."""
        item = {"at": time.time(), "conversation": conversation.id, "platform": message.platform,
                "language": decision.language, "text": decision.redacted_text}  # fmt: skip
        if key == keys.PHISHING_REPORTS:  # the links and handles it names, for the takedown
            item["links"] = _LINK.findall(decision.redacted_text)
            item["handles"] = _HANDLE.findall(decision.redacted_text)
        await self.lead_lists.file(key, item)
