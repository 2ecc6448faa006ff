"""What each intent does: the registry from intent name to handler.

The names are a contract (see `data/INTENTS.md`); adding an intent means adding its training
data, its answer in every language, and a line here.
"""

from __future__ import annotations

from intents import faq, handoffs, tickets
from intents.base import IntentContext, IntentHandler, Outcome, TicketLookup, TicketView

HANDLERS: dict[str, IntentHandler] = {
    **{name: faq.answer for name in faq.INTENTS},
    "account_compromised": handoffs.account_compromised,
    "complaint": handoffs.complaint,
    "human_agent": handoffs.human_agent,
    "ticket_status": tickets.ticket_status,
}
INTENT_NAMES: tuple[str, ...] = tuple(sorted(HANDLERS))
# Intents a person must take over (the pipeline leans towards these when unsure).
HANDOFF_INTENTS: tuple[str, ...] = ("account_compromised", "complaint", "human_agent")

__all__ = [
    "HANDLERS", "HANDOFF_INTENTS", "INTENT_NAMES", "IntentContext", "IntentHandler", "Outcome", "TicketLookup",
    "TicketView",
]  # fmt: skip
