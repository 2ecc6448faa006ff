"""Intents a person must take over. The answer text is what the user reads first; the
hand-off notice (ticket, place in line) follows it."""

from __future__ import annotations

from bot.messages import Action, Priority
from intents.base import IntentContext, Outcome


async def account_compromised(ctx: IntentContext) -> Outcome:
    """Someone else is in the account: the safety steps now, in the same reply, then the
    security team with the most urgent priority."""
    return Outcome(Action.HANDOFF, ctx.answer, Priority.URGENT)


async def complaint(ctx: IntentContext) -> Outcome:
    return Outcome(Action.HANDOFF, ctx.answer, Priority.HIGH)


async def human_agent(ctx: IntentContext) -> Outcome:
    return Outcome(Action.HANDOFF, ctx.answer, Priority.NORMAL)
