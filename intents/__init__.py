"""What each intent does and what is known about it: the registry from intent name to its
handler and its facts.

The names are a contract (see `data/INTENTS.md`); adding an intent means adding its training
data, its answer in every language, and a line here. The pipeline and the services ask the
registry (`INTENTS[name].private`, `COMPROMISED`, ...) instead of naming intents themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from bot.domain.messages import Priority
from intents import faq, handoffs, tickets
from intents.base import IntentContext, IntentHandler, Outcome, TicketLookup, TicketView


@dataclass(frozen=True)
class Intent:
    """One intent's handler and facts."""

    handler: IntentHandler
    # A person takes over, in this lane ("talk to a person" and complaints too).
    lane: Optional[Priority] = None
    # Answered only in a private chat: the answer shows the user's own account data.
    private: bool = False
    # Kept for leads, newest first, in this list (`bot/stores/keys.filed`).
    filed_as: Optional[str] = None
    # The user asked for a person: the hand-off notice alone is the reply.
    asks_for_person: bool = False
    # Someone else is in the account: the security rules (thresholds, urgent lane) apply.
    break_in: bool = False
    # About an account's sign-in ("sign-in") or its owner's identity ("identity"): asked about
    # another company's account ("my Steam 2FA"), the question is that company's.
    account_matter: str = ""


def _person(lane: Priority, **facts: bool) -> Intent:
    return Intent(handoffs.to_person(lane), lane=lane, **facts)


_ACCOUNT_MATTERS = {"password_reset": "sign-in", "two_factor_auth": "sign-in", "account_locked": "sign-in",
                    "account_registration": "sign-in", "kyc_verification": "identity"}  # fmt: skip
INTENTS: dict[str, Intent] = {
    **{name: Intent(faq.answer, account_matter=_ACCOUNT_MATTERS.get(name, "")) for name in faq.INTENTS},
    "feedback": Intent(faq.answer, filed_as="feedback-items"),
    "phishing_report": Intent(faq.answer, filed_as="phishing-reports"),
    "account_compromised": _person(Priority.URGENT, break_in=True),
    "complaint": _person(Priority.HIGH),
    "human_agent": _person(Priority.NORMAL, asks_for_person=True),
    "ticket_status": Intent(tickets.ticket_status, private=True),
}
HANDLERS: dict[str, IntentHandler] = {name: intent.handler for name, intent in INTENTS.items()}
INTENT_NAMES: tuple[str, ...] = tuple(sorted(INTENTS))
# Intents a person must take over.
HANDOFF_INTENTS: tuple[str, ...] = tuple(name for name, intent in INTENTS.items() if intent.lane)
COMPROMISED: str = next(name for name, intent in INTENTS.items() if intent.break_in)
PERSON_REQUEST: str = next(name for name, intent in INTENTS.items() if intent.asks_for_person)
PRIVATE_INTENTS: frozenset[str] = frozenset(name for name, intent in INTENTS.items() if intent.private)
# The answer for a question about another company's account.
OTHER_COMPANY = ("out_of_scope", "out_of_scope/other_exchange")
# Where a message that names a ticket and says little else goes (see `Pipeline.about_a_ticket`),
# and the intents that name no support topic (small talk, and the ticket question itself).
TICKET_STATUS = "ticket_status"
NO_TOPIC: frozenset[str] = frozenset({"greet", "thanks", "out_of_scope", TICKET_STATUS})

__all__ = [
    "COMPROMISED", "HANDLERS", "HANDOFF_INTENTS", "INTENTS", "INTENT_NAMES", "OTHER_COMPANY", "PERSON_REQUEST",
    "PRIVATE_INTENTS", "TICKET_STATUS", "NO_TOPIC",
    "Intent", "IntentContext", "IntentHandler", "Outcome", "TicketLookup", "TicketView",
]  # fmt: skip
