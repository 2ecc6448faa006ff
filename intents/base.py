"""What an intent handler gets and what it returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Optional

from bot.domain.messages import Action, InboundMessage, Priority
from bot.domain.texts import Texts


@dataclass(frozen=True)
class IntentContext:
    """One classified message. `message.text` is already redacted. `answer_id` says which of
    the intent's questions was asked (the intent itself where it has none)."""

    intent: str
    language: str
    message: InboundMessage
    texts: Texts
    tickets: Optional[TicketLookup] = None
    answer_id: str = ""
    entities: dict[str, list[str]] = field(default_factory=dict)

    @property
    def answer(self) -> str:
        """The text of the question's own answer (the intent's broad one when none was named)."""
        answer_id = self.answer_id or self.intent
        if not self.texts.has_answer(answer_id):
            answer_id = f"{self.intent}/general"
        return self.texts.answer(answer_id, self.language)


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
