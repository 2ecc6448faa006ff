"""`ticket_status`: how the user's own tickets stand."""

from __future__ import annotations

from bot.domain.messages import Action
from intents.base import IntentContext, Outcome


async def ticket_status(ctx: IntentContext) -> Outcome:
    """The user's latest tickets and their states; without a ticket store (replay), how to
    follow a ticket up."""
    if ctx.tickets is None:
        return Outcome(Action.ANSWER, ctx.answer)
    tickets = (await ctx.tickets())[:3]
    if not tickets:
        return Outcome(Action.ANSWER, ctx.texts.reply("ticket_none", ctx.language))
    lines = [
        ctx.texts.reply("ticket_line", ctx.language, ticket=t.id,
                        status=ctx.texts.reply(f"status_{t.status}", ctx.language))  # fmt: skip
        for t in tickets
    ]
    return Outcome(Action.ANSWER, "\n".join(lines))
