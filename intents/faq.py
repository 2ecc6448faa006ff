"""Intents the bot answers on its own, from the answers in `data/answers/<lang>.yml`."""

from __future__ import annotations

from bot.messages import Action
from intents.base import IntentContext, Outcome

INTENTS = (
    "greet", "thanks",
    "account_registration", "kyc_verification", "password_reset", "two_factor_auth", "account_locked",
    "deposit_missing", "withdrawal_pending", "withdrawal_limits", "fees",
    "trading_basics", "order_types", "futures_liquidation", "api_support", "promotions",
    "phishing_report", "feedback", "out_of_scope",
)  # fmt: skip


async def answer(ctx: IntentContext) -> Outcome:
    """The intent's answer in the user's language."""
    return Outcome(Action.ANSWER, ctx.texts.answer(ctx.intent, ctx.language))
