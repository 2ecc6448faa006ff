"""`ticket_status`: how the user's tickets stand."""

from __future__ import annotations

from bot.messages import Action
from intents.base import IntentContext, Outcome


def ticket_status(ctx: IntentContext) -> Outcome:
    """Explains where tickets stand and how to follow one up."""
    return Outcome(Action.ANSWER, ctx.texts.answer(ctx.intent, ctx.language))
