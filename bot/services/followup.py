"""Replies that reach a web chat user who has left (issue 20): the user may leave an e-mail
address, and an agent's reply to them while their page is closed is also sent there, in a
thread of its own; their answer by e-mail comes back into the same conversation (the e-mail
channel reads the thread's origin: `MailThread.origin_*`). Only with the e-mail channel on.
"""

from __future__ import annotations

import logging
import re
import secrets

from bot.config import Config
from bot.domain.messages import InboundMessage, OutboundReply
from bot.services.replies import Replies
from bot.stores.conversations import Conversation
from bot.stores.holder import Stores
from bot.stores.mail_state import MailThread

log = logging.getLogger(__name__)
FOLLOWED = ("webchat",)  # platforms whose users can be gone when an agent answers
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")


def masked(address: str) -> str:
    """An address as agents and logs see it: a***@example.com."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def valid_address(text: str) -> str | None:
    """The address, tidied (lower-cased domain), or None when it is not one."""
    text = text.strip()
    if len(text) > 254 or not _ADDRESS.match(text):
        return None
    local, _, domain = text.partition("@")
    return f"{local}@{domain.lower()}"


class FollowUp:
    """Keeps where a user asked to be followed, and sends agents' replies after them."""

    def __init__(self, config: Config, stores: Stores, replies: Replies) -> None:
        self.enabled = config.email.enabled
        self.domain = config.email.address.rpartition("@")[2] or "localhost"
        self.conversations = stores.conversations
        self.replies = replies
        self.mail = stores.channel_state.mail
        self.pages = stores.channel_state.webchat

    async def leave_address(self, message: InboundMessage, text: str) -> str | None:
        """The user's address for agents' replies (`message` says which conversation); the
        reply that confirms it, in their language, or None when `text` is no address or
        e-mail is off."""
        address = valid_address(text)
        if not self.enabled or address is None or message.platform not in FOLLOWED:
            return None
        conversation = await self.conversations.for_message(message)
        await self.conversations.update(conversation.id, followup_email=address)
        await self.conversations.append(conversation.id, "system", f"the user asked for replies by e-mail too "
                                                                   f"({masked(address)})")  # fmt: skip
        return self.replies.text("followup_saved", conversation.language or message.language_hint or "en",
                                 address=masked(address))  # fmt: skip

    async def agent_replied(self, conversation: Conversation, text: str, sender: str,
                            files: tuple[str, ...] = ()) -> bool:  # fmt: skip
        """An agent's reply also by e-mail when the user asked for it and their page is closed;
        whether it was sent on."""
        address = conversation.followup_email
        if not (self.enabled and address and conversation.platform in FOLLOWED):
            return False
        if await self.pages.polled_lately(conversation.chat_id):
            return False
        root = await self._thread(conversation, address)
        await self.replies.send(OutboundReply("email", root, text, files=files), conversation.id, sender)
        await self.conversations.append(conversation.id, "system", f"also sent by e-mail to {masked(address)}: "
                                                                   "the user's page was closed")  # fmt: skip
        log.info("%s: an agent's reply followed the user by e-mail", conversation.id)
        return True

    async def _thread(self, conversation: Conversation, address: str) -> str:
        """The conversation's e-mail thread (one a conversation), started by the bot's first mail."""
        root = conversation.followup_thread
        if root and await self.mail.thread(root):
            return root
        root = f"<followup.{secrets.token_hex(8)}@{self.domain}>"
        subject = f"[#{conversation.ticket}] Your support request" if conversation.ticket else "Your support request"
        await self.mail.save(MailThread(root, address, conversation.user_name, subject, ticket=conversation.ticket,
                                        origin=[conversation.platform, conversation.chat_id, conversation.user_id]))
        await self.conversations.update(conversation.id, followup_thread=root)
        return root
