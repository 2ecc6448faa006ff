"""What an intent handler gets and what it returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Optional

from bot.messages import Action, InboundMessage, Priority
from bot.texts import Texts


@dataclass(frozen=True)
class IntentContext:
    """One classified message. `message.text` is already redacted."""

    intent: str
    language: str
    message: InboundMessage
    texts: Texts
    tickets: Optional[TicketLookup] = None


@dataclass(frozen=True)
class Outcome:
    """An answer, or a hand-off (with the text the user sees while a person is found)."""

    action: Action
    text: str
    priority: Optional[Priority] = None


@dataclass(frozen=True)
class TicketView:
    """One of the user's tickets, as `ticket_status` shows it."""

    id: str
    status: str  # queued | assigned | resolved


# Looks up the user's own tickets, newest first (never anyone else's).
TicketLookup = Callable[[], Awaitable[list[TicketView]]]
IntentHandler = Callable[[IntentContext], Awaitable[Outcome]]
