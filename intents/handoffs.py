"""Intents a person must take over. The answer text is what the user reads first (for a
compromised account: the safety steps, now); the hand-off notice (ticket, place in line)
follows it."""

from __future__ import annotations

from bot.domain.messages import Action, Priority
from intents.base import IntentContext, IntentHandler, Outcome


def to_person(lane: Priority) -> IntentHandler:
    """The handler of an intent a person takes over in `lane`."""

    async def hand_off(ctx: IntentContext) -> Outcome:
        return Outcome(Action.HANDOFF, ctx.answer, lane)

    return hand_off
