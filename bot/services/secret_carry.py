"""The secret guard across a conversation's messages: a seed phrase or hex key pasted in two
halves is found when the second half comes, and both halves are redacted, the second before
it is stored and the first where it was stored (the transcript line).

Between the two messages only a `CarryMark` is kept (bot/domain/secret_carry.py: a wordlist's
name and a count, never the words), for a few minutes.
"""

from __future__ import annotations

import logging

from bot.domain import secret_carry, secret_guard
from bot.domain.messages import InboundMessage
from bot.domain.secret_guard import GuardResult
from bot.stores.conversations import ConversationStore, conversation_id

log = logging.getLogger(__name__)

MARK_TTL_SECONDS = 300  # halves pasted further apart than this are not joined
REPEATED, REWRITTEN, NOT_FOUND = "repeated", "rewritten", "not found"


class SecretCarry:
    """Joins the halves of a secret pasted in two messages of one conversation."""

    def __init__(self, conversations: ConversationStore) -> None:
        self.conversations = conversations

    async def across_messages(self, message: InboundMessage, guarded: GuardResult,
                              marks: str) -> tuple[GuardResult, tuple[str, ...]]:  # fmt: skip
        """The guard's result for `message` (its text as the user wrote it) with the second
        half of a split secret redacted too, and the user's earlier lines as the transcript
        now holds them (oldest first) when the first half was redacted there; else ().
        `marks`: what the conversation's last message left (`ConversationStore.arrive`)."""
        cid = conversation_id(message.conversation_key)
        previous = secret_carry.decode_marks(marks)
        step = secret_carry.follow(previous, message.text, guarded.redacted_text)
        earlier: list[str] = []
        outcome = NOT_FOUND
        if step.rewrite is not None:
            outcome = await self._rewrite_first_half(cid, step.rewrite, step.lead, earlier)
        if outcome == REPEATED:
            step = secret_carry.follow((), message.text, guarded.redacted_text)
        if step.next_marks:
            await self.conversations.leave_secret_marks(cid, secret_carry.encode_marks(step.next_marks),
                                                        MARK_TTL_SECONDS)  # fmt: skip
        # Scanning the joined text again keeps every kind found, the joined one by its marker.
        rewritten = tuple(earlier) if outcome == REWRITTEN else ()
        return (secret_guard.scan(step.text) if step.joined else guarded), rewritten

    async def _rewrite_first_half(self, cid: str, mark: secret_carry.CarryMark, lead: str,
                                  earlier: list[str]) -> str:  # fmt: skip
        """Redact the first half where the transcript holds it, unless this message repeats
        the last one (then nothing was split): REWRITTEN, REPEATED or NOT_FOUND. `earlier`
        receives the rewritten lines."""
        seen: list[str] = []

        def rewrite(texts: list[str]) -> list[str] | None:
            if secret_carry.repeats(texts, mark, lead):
                seen.append(REPEATED)
                return None
            earlier[:] = secret_carry.redact_earlier(texts, mark)
            return earlier

        if await self.conversations.rewrite_user_lines(cid, mark.lines, rewrite):
            return REWRITTEN
        if not seen:  # e.g. an unaddressed group message, never stored
            log.info("%s: first half of a split %s not found in the transcript", cid, mark.kind)
        return seen[0] if seen else NOT_FOUND
