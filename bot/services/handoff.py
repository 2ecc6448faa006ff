"""Hand-off to people: the ticket and its lane, the notice of where the user stands in line,
and account matters moved out of public chats into a private one (a thread, a DM, or a
one-time link the user follows)."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.config import Config
from bot.domain.messages import Action, Decision, InboundMessage, Priority
from bot.domain.pipeline import Pipeline
from bot.domain.routing import Team
from bot.services.channels import Channels
from bot.services.replies import Replies, answering
from bot.stores.conversations import Conversation
from bot.stores.handoff_queue import HandoffQueue, Returning
from bot.stores.holder import Stores
from intents import PERSON_REQUEST, TicketLookup, TicketView

VipTier = Callable[[InboundMessage, str], Awaitable[int]]  # (message, conversation id) -> tier


def ticket_lookup(queue: HandoffQueue, message: InboundMessage) -> TicketLookup:
    """The user's own tickets, looked up only when an answer needs them."""

    async def tickets() -> list[TicketView]:
        found = await queue.user_tickets(message.platform, message.user_id)
        return [TicketView(t.id, t.status) for t in found]

    return tickets


class HandOff:
    """Opens tickets and moves conversations to private chats."""

    def __init__(self, config: Config, pipeline: Pipeline, stores: Stores, replies: Replies,
                 channels: Channels, vip_tier: VipTier | None = None) -> None:  # fmt: skip
        self.config = config
        self.pipeline = pipeline
        self.conversations = stores.conversations
        self.queue = stores.queue
        self.agents = stores.agents
        self.moves = stores.moves
        self.replies = replies
        # How a conversation leaves a public chat: asked of the platform's channel (a thread, a
        # DM, or a link carrying a one-time token).
        self.channels = channels
        # The user's VIP tier at the exchange (a linked account's, `accounts.py`); 0 when unknown.
        self.vip_tier = vip_tier

    def can_move(self, platform: str) -> bool:
        return self.channels.private_chats(platform) is not None

    async def move_to_private(self, message: InboundMessage, conversation: Conversation,
                               decision: Decision) -> Decision:  # fmt: skip
        """Account matters never in public: a short public reply pointing to a private chat.
        Where the platform can open one (a thread, a DM) the conversation continues there at
        once; otherwise the reply carries a one-time link that `resume_in_private` honours."""
        token = await self.moves.issue(message.platform, message.user_id, {
            "platform": message.platform, "user_id": message.user_id, "from": conversation.id,
            "intent": decision.intent, "priority": decision.priority.value if decision.priority else None,
            "language": decision.language,
        })  # fmt: skip
        channel = self.channels.private_chats(message.platform)
        opened = await channel.open_private(message, token) if channel else None
        if opened and opened.chat_id:  # opened at once: the conversation continues there now
            private = replace(message, chat_id=opened.chat_id, chat_kind="private", message_id="", reply_to=None)
            await self.resume_in_private(private, token)
        # With no private chat the user is asked to write in private, with no link.
        link = opened.link if opened else ""
        text = self.replies.text("move_to_private", decision.language, link=link).rstrip(" :：\n")
        reply = replace(decision.reply, text=text, buttons=()) if decision.reply else None
        return replace(decision, reply=reply, action=Action.HANDOFF)

    async def resume_in_private(self, message: InboundMessage, token: str) -> Decision | None:
        """The private chat opened from a group's link: the conversation comes along and the
        hand-off (ticket, queue) happens here; the reply takes the outbox. None when the token
        is unknown, used or not the user's own."""
        moved = await self.moves.spend(message.platform, message.user_id, token)
        if moved is None:
            return None
        conversation = await self.conversations.for_message(message)
        for line in await self.conversations.transcript(moved["from"]):
            if line["from"] == "user":
                await self.conversations.append(conversation.id, "user", line["text"], moved_from=moved["from"])
        await self.conversations.update(conversation.id, language=moved["language"])
        if moved["priority"] is None:  # an account question: answered here, in private
            decision = await self.pipeline.answer_intent(moved["intent"], moved["language"], message,
                                                         ticket_lookup(self.queue, message))  # fmt: skip
            await self.conversations.append(conversation.id, "bot", decision.reply_text)
        else:
            decision = await self.open_ticket(message, conversation, moved["intent"], Priority(moved["priority"]),
                                              moved["language"])  # fmt: skip
        await self.replies.send(decision.reply, conversation.id)
        return decision

    async def open_ticket(self, message: InboundMessage, conversation: Conversation, intent: str,
                           priority: Priority, language: str) -> Decision:  # fmt: skip
        """A hand-off that did not come through the pipeline (a button, a conversation carried
        over from a group): the reply is the notice alone."""
        asked = Decision(language, language, intent, 1.0, Action.HANDOFF, priority,
                         answering(message, "", quote=False), "")  # fmt: skip
        decision = await self.hand_off(message, conversation, asked)
        await self.conversations.append(conversation.id, "bot", decision.reply_text)
        return decision

    async def lane_for(self, message: InboundMessage, priority: Priority, conversation: str) -> str:
        """urgent first; then vip for the users `handoff.vip_users` names and for linked
        accounts of VIP tier `backoffice.vip_from_tier` or more; else the priority's lane."""
        if priority is Priority.URGENT:
            return "urgent"
        if f"{message.platform}:{message.user_id}" in self.config.handoff.vip_users:
            return "vip"
        if self.vip_tier and await self.vip_tier(message, conversation) >= self.config.backoffice.vip_from_tier:
            return "vip"
        return priority.value

    def team_for(self, conversation: Conversation, decision: Decision, lane: str) -> Team:
        """The team a hand-off goes to (`routing.teams`): by its intent, or for "a person,
        please" by what the conversation was about (`topic`), or by its lane."""
        intent = decision.intent or ""
        if intent == PERSON_REQUEST and conversation.topic:
            intent = conversation.topic
        return self.config.routing.team_for(intent, lane, decision.language)

    async def hand_off(self, message: InboundMessage, conversation: Conversation, decision: Decision) -> Decision:
        lane = await self.lane_for(message, decision.priority, conversation.id)
        language = decision.language
        team = self.team_for(conversation, decision, lane)
        now = time.time()
        back_minutes = self.config.routing.return_to_last_agent_minutes
        returning = Returning(now - back_minutes * 60 if back_minutes else -1,
                              now - self.config.handoff.agent_timeout_seconds)  # fmt: skip
        queued = await self.queue.enqueue(conversation.id, lane, language, decision.intent or "", team.name, returning)
        if queued.agent:
            notice = self.replies.text("handoff_back_to_agent", language, ticket=queued.ticket)
        elif not team.hours.is_open(now):
            opens = team.hours.next_opening(now)
            notice = self.replies.text("handoff_out_of_hours", language, ticket=queued.ticket,
                                       opens=f"{opens:%Y-%m-%d %H:%M} ({team.hours.timezone})")  # fmt: skip
        else:
            notice = await self._place_in_line(conversation.id, queued.ticket, team, lane, language)
        if decision.intent == PERSON_REQUEST and decision.reply and decision.action is not Action.WARN_SECRET:
            decision = replace(decision, reply=replace(decision.reply, text=""))  # the notice says it all
        return replace(self.pipeline.with_handoff_notice(decision, notice), action=Action.HANDOFF
                       if decision.action is not Action.WARN_SECRET else decision.action)  # fmt: skip

    async def _place_in_line(self, cid: str, ticket: str, team: Team, lane: str, language: str) -> str:
        """The notice of a queued hand-off: the ticket, the place in the team's line and the
        wait it means with the team's agents on shift who speak the language."""
        position = await self.queue.position(cid, team.name, lane, language)
        speakers = [a for a in await self.agents.on_shift_recently(self.config.handoff.agent_timeout_seconds)
                    if language in a.languages and a.in_team(team.name)]  # fmt: skip
        minutes = math.ceil(position * self.config.handoff.avg_handle_minutes / max(1, len(speakers)))
        return self.replies.text("handoff_ticket", language, ticket=ticket, position=position,
                                 wait=f"{max(1, minutes)} min")  # fmt: skip
