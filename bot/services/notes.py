"""Internal notes: what an agent writes on a conversation for the other agents, never for the
user (`POST /api/conversations/{id}/notes`, `bot/web/note_routes.py`).

A note is a transcript line from `NOTE` with its author in `agent`. It is only appended to the
transcript: it takes neither `replies.py` nor an outbox, the one way anything reaches a user's
chat, so no channel ever sees it. Its text is redacted by the secret guard before it is stored,
as a user's message is in the inbox. `@name` of an existing agent mentions them: a `mentioned`
event on the agents' stream (theirs and the leads', `visible_to`), and they may read the
conversation from then on (`ConversationStore.is_mentioned`), not act on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain import secret_guard
from bot.domain.hidden_characters import refuse_hidden_characters
from bot.stores.agents import AgentStore
from bot.stores.conversations import NOTE, Conversation, ConversationStore
from bot.stores.handoff_queue import HandoffQueue

MAX_NOTE_CHARS = 4000
EXCERPT_CHARS = 140  # of a note, in the mentioned agent's event
MAX_MENTIONS = 10  # names looked up per note
TEXT_LAYOUT = "\n\r\t"  # the control characters a note may hold
# `@name` as agent names are spelled (bot/stores/agents.py), not inside an e-mail address.
_MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9][A-Za-z0-9._-]{0,31})")


def mention_candidates(text: str) -> list[tuple[str, ...]]:
    """Each `@name` in `text`, in order, as the names it may be: itself, lower-cased, and
    without a trailing '.', '-' or '_' (the end of a sentence: "ask @bob.")."""
    found: dict[tuple[str, ...], None] = {}
    for match in _MENTION.finditer(text):
        name = match.group(1).lower()
        found[tuple(dict.fromkeys((name, name.rstrip("._-"))))] = None
    return list(found)


@dataclass(frozen=True)
class Note:
    """A note as stored: its redacted text, whether the guard redacted anything, whom it mentioned."""

    text: str
    redacted: bool
    mentioned: tuple[str, ...]


class Notes:
    """Writes internal notes and tells the agents they mention."""

    def __init__(self, conversations: ConversationStore, agents: AgentStore, queue: HandoffQueue) -> None:
        self.conversations = conversations
        self.agents = agents
        self.queue = queue

    async def add(self, conv: Conversation, author: str, text: str) -> Note:
        """Note `text` by `author` on `conv`; ValueError when it hides control characters."""
        refuse_hidden_characters(text, "a note", allowed=TEXT_LAYOUT)
        guarded = secret_guard.scan(text)
        mentioned = await self._mentioned(guarded.redacted_text, author)
        details: dict[str, object] = {"agent": author, **({"mentions": list(mentioned)} if mentioned else {})}
        await self.conversations.append(conv.id, NOTE, guarded.redacted_text, **details)
        # Readable before they are told, so that opening it from the event works at once.
        await self.conversations.add_mentions(conv.id, mentioned)
        excerpt = guarded.redacted_text[:EXCERPT_CHARS]
        for name in mentioned:
            await self.queue.publish("mentioned", agent=name, by=author, conversation=conv.id,
                                     ticket=conv.ticket or None, excerpt=excerpt)  # fmt: skip
        return Note(guarded.redacted_text, guarded.found, mentioned)

    async def _mentioned(self, text: str, author: str) -> tuple[str, ...]:
        """The existing agents `text` mentions, the author left out."""
        names: dict[str, None] = {}
        for candidates in mention_candidates(text)[:MAX_MENTIONS]:
            for name in candidates:
                agent = await self.agents.get(name) if name else None
                if agent is not None:
                    if agent.name != author:
                        names[agent.name] = None
                    break
        return tuple(names)
