"""The message types every part shares: what comes in, what the bot decided, what goes out.

Adapters turn a platform's update into an `InboundMessage` and an `OutboundReply` into the
platform's send call; everything between speaks only these types.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal, Optional

ChatKind = Literal["private", "group"]


class Action(str, Enum):
    """What the bot does with a message (the `action` of the replay contract)."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    HANDOFF = "handoff"
    WARN_SECRET = "warn_secret"
    IGNORE = "ignore"
    FORWARD = "forward"  # a person owns the conversation: the message goes to them, the bot is silent
    DUPLICATE = "duplicate"  # the same platform message again (a retry, a redelivery): nothing is done twice


class Priority(str, Enum):
    """Hand-off lanes, most pressing first."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"


@dataclass(frozen=True)
class InboundMessage:
    """One user message, the same shape for every platform."""

    platform: str
    chat_id: str
    chat_kind: ChatKind
    user_id: str
    text: str
    addressed: bool = True
    user_name: str = ""
    message_id: str = ""
    reply_to: Optional[str] = None
    language_hint: Optional[str] = None
    sent_at: float = field(default_factory=time.time)

    @property
    def conversation_key(self) -> str:
        """One conversation per user per chat: two users in one group are two conversations."""
        return f"{self.platform}:{self.chat_id}:{self.user_id}"

    @property
    def once_key(self) -> str:
        """The message's idempotency key: the platform's own id for it (Telegram's message id in
        its chat, Discord's message id, the tweet or DM event id, the web chat page's client
        id); empty when the platform gave none. A message with a key is handled and answered once."""
        return f"{self.platform}:{self.chat_id}:{self.message_id}" if self.message_id else ""


@dataclass(frozen=True)
class Button:
    """A button under a reply; `action` is what the adapter sends back when it is pressed."""

    label: str
    action: str


@dataclass(frozen=True)
class OutboundReply:
    """One message for a user, addressed to the chat it answers."""

    platform: str
    chat_id: str
    text: str
    buttons: tuple[Button, ...] = ()
    reply_to: Optional[str] = None
    files: tuple[str, ...] = ()  # ids of files an agent attached (bot/stores/user_files.py)


@dataclass(frozen=True)
class Decision:
    """What the pipeline made of one message. `redacted_text` is the only text kept."""

    language: str
    detected_language: str
    intent: Optional[str]
    confidence: float
    action: Action
    priority: Optional[Priority]
    reply: Optional[OutboundReply]
    redacted_text: str
    secret_kinds: tuple[str, ...] = ()
    public: bool = False  # said in a group, where others read along
    # Which of the intent's questions was answered (`two_factor_auth/enable`; the intent itself
    # where it has none), and what the message names ({"coin": ["USDT"], "network": ["TRC20"]}).
    answer_id: Optional[str] = None
    entities: dict[str, list[str]] = field(default_factory=dict)
    # The user's latest earlier lines as now stored (oldest first), when this message completed
    # a secret they began (a seed phrase in two halves): a channel that keeps its own copy of
    # the history (the web chat) redacts it too.
    earlier_redacted: tuple[str, ...] = ()

    @classmethod
    def duplicate(cls, redacted_text: str) -> Decision:
        """A message taken before (the same platform id): nothing is done or said again."""
        return cls("", "", None, 0.0, Action.DUPLICATE, None, None, redacted_text)

    @property
    def delete_original(self) -> bool:
        """A secret pasted where others can read it: the adapter deletes the user's message
        where the platform lets it (the warning asks the user to, otherwise)."""
        return bool(self.secret_kinds) and self.public

    @property
    def reply_text(self) -> str:
        return self.reply.text if self.reply else ""
