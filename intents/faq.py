"""Intents the bot answers on its own, from the answers in `data/answers/<lang>.yml`."""

from __future__ import annotations

from bot.domain.entities import Lexicon, default_lexicon
from bot.domain.messages import Action
from intents.base import IntentContext, Outcome

INTENTS = (
    "greet", "thanks",
    "account_registration", "kyc_verification", "password_reset", "two_factor_auth", "account_locked",
    "deposit_missing", "withdrawal_pending", "withdrawal_limits", "fees",
    "trading_basics", "order_types", "futures_liquidation", "api_support", "promotions",
    "phishing_report", "feedback", "out_of_scope",
)  # fmt: skip


async def answer(ctx: IntentContext) -> Outcome:
    """The answer to the question asked, in the user's language, with what the message names
    where it changes the answer."""
    lines = [ctx.answer, *_entity_lines(ctx, default_lexicon())]
    return Outcome(Action.ANSWER, "\n\n".join(lines))


def _entity_lines(ctx: IntentContext, lexicon: Lexicon) -> list[str]:
    """A network's confirmations for a deposit waiting on them, a coin's memo for a deposit
    sent without one, the two networks of a wrong-network case."""
    if ctx.intent not in ("deposit_missing", "withdrawal_pending"):
        return []
    networks = ctx.entities.get("network", [])
    coins = ctx.entities.get("coin", [])
    question = ctx.answer_id.split("/")[-1]
    if len(networks) >= 2 and question in ("wrong_network", "wrong_address", "general"):
        return [ctx.texts.reply("entity_wrong_network", ctx.language, networks=" / ".join(networks))]
    memo = [c for c in coins if c in lexicon.memo_coins]
    if memo and question in ("missing_memo", "general"):
        return [ctx.texts.reply("entity_memo", ctx.language, coin=memo[0])]
    known = [n for n in networks if lexicon.confirmations.get(n)]
    if ctx.intent == "deposit_missing" and len(known) == 1 and question in ("confirmations", "general"):
        network = known[0]
        return [ctx.texts.reply("entity_confirmations", ctx.language, network=network,
                                confirmations=lexicon.confirmations[network])]  # fmt: skip
    return []
