"""Files users send (issue 20): screenshots of a missing deposit, a bank statement, an ID
document. What is taken (images and PDFs up to `attachments.max_bytes`, the type told from
the content) is kept without its metadata in the blob store, with a line in the transcript
that the console shows as a thumbnail; anything else gets a reply in the user's language
saying what would be taken. A file's caption is read as any message (the front desk passes it
on). Stickers and voice notes, which carry no file the bot keeps, are shown to the person on
the conversation or the user is asked to type.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Optional

from bot.config import Config
from bot.domain.attachments import (
    EMPTY,
    TOO_BIG,
    UNREADABLE,
    WRONG_TYPE,
    AttachmentRefused,
    OutgoingFile,
    Upload,
)
from bot.domain.messages import Action, Decision, InboundMessage
from bot.domain.pipeline import Pipeline
from bot.services.replies import Replies
from bot.stores.blobs import BlobMissing
from bot.stores.conversations import WITH_PEOPLE, Conversation, conversation_id
from bot.stores.holder import Stores

log = logging.getLogger(__name__)
# The reply a refusal gets, by its reason.
REFUSAL_REPLIES = {TOO_BIG: "attachment_too_big", WRONG_TYPE: "attachment_wrong_type",
                   UNREADABLE: "attachment_unreadable", EMPTY: "attachment_unreadable"}  # fmt: skip


def _fingerprint(upload: Upload) -> str:
    """A short name for one file among a message's: a digest of its name and bytes (or size)."""
    digest = hashlib.sha256(f"{upload.name}:{upload.size}:".encode())
    digest.update(upload.data or b"")
    return digest.hexdigest()[:12]


class Attachments:
    """Takes or refuses users' files; see the module's docstring."""

    def __init__(self, config: Config, pipeline: Pipeline, stores: Stores, replies: Replies) -> None:
        self.max_bytes = config.attachments.max_bytes
        self.pipeline = pipeline
        self.conversations = stores.conversations
        self.queue = stores.queue
        self.files = stores.files
        self.replies = replies

    async def received(self, message: InboundMessage, upload: Optional[Upload], description: str = "",
                       acknowledge: bool = True) -> Optional[Decision]:  # fmt: skip
        """A file (`upload`), or something without one (`description`: "sticker", "voice").
        None when the file was taken or refused and `message.text`, its caption, is still to
        be read (the front desk reads it as a message); else what was done."""
        conversation = await self.conversations.for_message(message)
        language = self.pipeline.detector.detect(message.text, message.language_hint,
                                                 conversation.language or None).language  # fmt: skip
        with_people = conversation.state in WITH_PEOPLE
        if upload is None:
            return await self._not_a_file(message, conversation, language, description)
        # Files of one message differ by their digest; hashing 10 MB takes ~20 ms: not on the event loop.
        once = f"{message.once_key}#{await asyncio.to_thread(_fingerprint, upload)}" if message.once_key else ""
        if once and await self.files.taken(once):
            return Decision.duplicate(message.text)  # sent again by the platform: kept and answered before
        try:  # decoding and encoding a picture takes a while: not on the event loop
            accepted = await asyncio.to_thread(upload.checked, self.max_bytes)
        except AttachmentRefused as refused:
            log.info("a file refused in %s: %s", conversation.id, refused)
            if with_people:
                await self.conversations.append(conversation.id, "system", f"a file was refused ({refused.reason})")
            text = self.replies.text(REFUSAL_REPLIES[refused.reason], language,
                                     max_mb=round(self.max_bytes / 1_000_000, 1))  # fmt: skip
            reply = await self.replies.answer(message, text, conversation=conversation.id)
            if once:
                await self.files.mark_taken(once)
            return None if message.text.strip() else Decision(language, language, None, 0.0, Action.ANSWER, None,
                                                              reply, "")  # fmt: skip
        stored = await self.files.keep(conversation.id, accepted, upload.name, "user")
        if once:
            await self.files.mark_taken(once)
        await self.conversations.append(conversation.id, "user", f"[{stored.name}]", file=stored.id,
                                        media_type=stored.media_type, language=language)  # fmt: skip
        log.info("a file kept in %s: %s, %d bytes", conversation.id, stored.media_type, stored.size)
        if with_people:
            await self.queue.publish("user_wrote", conversation=conversation.id, agent=conversation.agent or None)
        if message.text.strip():
            return None
        if with_people or not acknowledge:
            return Decision(language, language, None, 0.0, Action.FORWARD, None, None, "")
        reply = await self.replies.answer(message, self.replies.text("attachment_received", language, name=stored.name),
                                          conversation=conversation.id)  # fmt: skip
        return Decision(language, language, None, 0.0, Action.ANSWER, None, reply, "")

    async def outgoing(self, file_id: str, message: Optional[InboundMessage] = None,
                       with_data: bool = True) -> Optional[OutgoingFile]:  # fmt: skip
        """A file an agent attached to a reply, for the channel that delivers it; with
        `message` (a user fetching it, e.g. the web chat's page) only a file of that user's
        conversation; without `with_data`, its name and type alone. None when there is no such
        file or its bytes are gone."""
        stored = await self.files.get(file_id)
        if stored is None or not stored.sender.startswith("agent:"):
            return None
        if message is not None and stored.conversation != conversation_id(message.conversation_key):
            return None
        try:
            return OutgoingFile(stored.name, stored.media_type, await self.files.data(stored) if with_data else b"")
        except BlobMissing:
            return None

    async def _not_a_file(self, message: InboundMessage, conversation: Conversation, language: str,
                          description: str) -> Decision:  # fmt: skip
        """A sticker or a voice note: the person on the conversation sees it came; otherwise
        the user is asked to type."""
        if conversation.state in WITH_PEOPLE:
            await self.conversations.append(conversation.id, "user", f"[{description}]")
            await self.queue.publish("user_wrote", conversation=conversation.id, agent=conversation.agent or None)
            return Decision(language, language, None, 0.0, Action.FORWARD, None, None, "")
        reply = await self.replies.answer(message, self.replies.text("non_text", language),
                                          conversation=conversation.id)  # fmt: skip
        return Decision(language, language, None, 0.0, Action.ANSWER, None, reply, "")
