"""The buttons under the bot's replies, and what a pressed one stands for.

Adapters render them as their platform can and send back the button's `action` string when one
is pressed: "helpful:yes" / "helpful:no" under an answer, "handoff" (talk to a person) under a
clarifying question, and beside it up to two suggested answers, "answer:<intent>:<question>",
when the model has a guess it is not sure enough of to answer outright ("did you mean...?").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from bot.domain.messages import Action, Button
from bot.domain.texts import Texts
from bot.nlu.model import NluResult
from intents import HANDOFF_INTENTS, NO_TOPIC

SUGGESTION = "answer:"
ACCOUNT_LINK = "account:link"  # "Link my account", under an account answer to an unlinked user
FREEZE, FREEZE_CONFIRMED = "account:freeze", "account:freeze:yes"  # under a linked user's break-in report
ACCOUNT_ACTIONS = (ACCOUNT_LINK, FREEZE, FREEZE_CONFIRMED)
MAX_SUGGESTIONS = 2
# Intents whose answer alone is not what the user needs from a tap (a report they must write).
_NOT_SUGGESTED = frozenset(HANDOFF_INTENTS) | frozenset(NO_TOPIC) | {"feedback", "phishing_report"}


def buttons_for(action: Action, texts: Texts, language: str) -> tuple[Button, ...]:
    """The fixed buttons under a reply: "Was this helpful?" under an answer, "Talk to a
    person" under a clarifying question."""
    if action is Action.ANSWER:
        return (
            Button(texts.reply("button_helpful_yes", language), "helpful:yes"),
            Button(texts.reply("button_helpful_no", language), "helpful:no"),
        )
    if action is Action.CLARIFY:
        return (Button(texts.reply("button_human", language), "handoff"),)
    return ()


def link_account_button(label: str) -> Button:
    """The button that asks for a one-time link to the user's exchange account."""
    return Button(label, ACCOUNT_LINK)


def suggested_answers(result: NluResult, texts: Texts, threshold: float) -> tuple[str, ...]:
    """The answer ids worth offering under a clarifying question: the specific question of
    each answerable intent with at least `threshold` probability, the likeliest first."""
    offered = []
    for intent, probability in result.ranking:
        if probability < threshold or len(offered) == MAX_SUGGESTIONS:
            break
        if intent in _NOT_SUGGESTED:
            continue
        answer_id, share = result.answer_for(intent)
        if share < 0.5 or not texts.has_title(answer_id):
            answer_id = f"{intent}/general"
        if texts.has_title(answer_id):
            offered.append(answer_id)
    return tuple(offered)


def suggestion_buttons(answer_ids: tuple[str, ...], texts: Texts, language: str) -> tuple[Button, ...]:
    return tuple(Button(texts.title(a, language), SUGGESTION + a.replace("/", ":")) for a in answer_ids)


def offered_answers(buttons: Iterable[Button]) -> list[str]:
    """The answer ids that `buttons` offer."""
    return [_answer_id(b.action) for b in buttons if b.action.startswith(SUGGESTION)]


def pressed_answer(action: str, texts: Texts) -> Optional[str]:
    """The answer id a pressed suggestion stands for; None for any other action, or one that
    names no answer the bot has (an old button, or a forged press)."""
    if not action.startswith(SUGGESTION):
        return None
    answer_id = _answer_id(action)
    return answer_id if texts.has_title(answer_id) else None


def _answer_id(action: str) -> str:
    return action.removeprefix(SUGGESTION).replace(":", "/", 1)
