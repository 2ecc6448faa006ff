"""What an intent handler gets and what it returns."""

from __future__ import annotations

from collections.abc import Callable
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


@dataclass(frozen=True)
class Outcome:
    """An answer, or a hand-off (with the text the user sees while a person is found)."""

    action: Action
    text: str
    priority: Optional[Priority] = None


IntentHandler = Callable[[IntentContext], Outcome]
