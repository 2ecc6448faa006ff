"""The front desk: the one facade channels call, and the one place their replies are made.

A channel (`adapters/`) turns its platform's updates into `InboundMessage`s and calls the method
named after what happened: a message (`take` when the reply may come later, through the
outbox; `answer` when the channel answers at once, in the response), a button press, an
attachment, a new group member, a private chat resumed by its link, a user who blocked the bot.
Every reply is composed behind it (`replies.py`), the refusal of a message the bot will not
read included, and queued in the platform's outbox (or returned, by `answer`).
Channels never compose a reply, and never see a store.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.attachments import OutgoingFile, Upload
from bot.domain.buttons import ACCOUNT_ACTIONS
from bot.domain.messages import Decision, InboundMessage, OutboundReply
from bot.domain.pipeline import BadMessage
from bot.services.channels import STORE_OUTAGE
from bot.services.inbox import Inbox, Recorder

# Refusals a channel meets before the pipeline does: too many messages, the store down.
RATE_LIMITED = BadMessage("rate_limited", "error_rate_limited", "too many messages")
UNAVAILABLE = BadMessage("unavailable", "error_unavailable",
                         "the bot cannot take messages this moment: this one was not taken; send it again")


@dataclass(frozen=True)
class Refusal:
    """A message the bot would not take: why (`code`, and `reason` for people) and what the
    user reads (`reply`, in their language)."""

    code: str
    reason: str
    reply: str


class FrontDesk:
    """What channels call; see the module's docstring."""

    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox
        self._pipeline = inbox.pipeline
        self._replies = inbox.replies
        self._conversations = inbox.conversations

    async def take(self, message: InboundMessage) -> Decision | None:
        """A message whose reply takes the outbox. One the bot will not read gets its refusal
        there too, when it was addressed to the bot; None then."""
        try:
            return await self._inbox.handle(message, reply_inline=False)
        except BadMessage as exc:
            if message.addressed:
                await self._replies.answer(message, self.refusal(exc, message.language_hint).reply)
            return None

    async def answer(self, message: InboundMessage, record: Recorder | None = None) -> Decision | Refusal:
        """A message answered at once: the decision, its reply in it, or the refusal of a
        message the bot will not read or cannot take this moment (the store is down). A
        channel that keeps the answer itself passes `record` (see `Inbox.handle`)."""
        try:
            return await self._inbox.handle(message, record=record)
        except BadMessage as exc:
            return self.refusal(exc, message.language_hint)
        except STORE_OUTAGE:
            return self.refusal(UNAVAILABLE, message.language_hint)

    def refusal(self, error: BadMessage, language_hint: str | None) -> Refusal:
        """The refusal for `error` (a pipeline's, or `RATE_LIMITED`), in the user's language."""
        return Refusal(error.code, str(error), self._pipeline.error_reply(error, language_hint))

    async def answer_for_user_only(self, message: InboundMessage, intent: str) -> Decision:
        """The answer to `intent` for a reply only the user sees (Discord's /ticket): account
        matters may be in it. Returned, never queued; the conversation is not changed."""
        return await self._inbox.answer_for_user_only(message, intent)

    @property
    def accounts_enabled(self) -> bool:
        """Whether users can link their exchange account (`/link`, `/unlink`)."""
        return self._inbox.accounts.enabled

    async def press(self, message: InboundMessage, action: str) -> Decision | None:
        """A button under one of the bot's replies (`message` says who pressed where); what
        follows takes the outbox."""
        if action in ACCOUNT_ACTIONS:
            return await self._inbox.account_pressed(message, action)
        return await self._inbox.feedback.press(message, action)

    async def attachment(self, message: InboundMessage, upload: Upload | None = None, description: str = "",
                         acknowledge: bool = True) -> Decision | None:  # fmt: skip
        """A file the user sent (`upload`: images and PDFs are kept for the agents, anything
        else refused with a reply saying what is taken), or something without a file the bot
        keeps (`description`: "sticker", "voice note"). Its caption, `message.text`, is then
        read like any message (see `take`); the replies take the outbox. A file kept without
        a caption is acknowledged ("we have your file") unless `acknowledge` is false (the
        second and later files of one message)."""
        decision = await self._inbox.attachments.received(message, upload, description, acknowledge)
        return await self.take(message) if decision is None else decision

    @property
    def followup_enabled(self) -> bool:
        """Whether agents' replies can follow a web chat user by e-mail (the channel is on)."""
        return self._inbox.followup.enabled

    async def leave_email(self, message: InboundMessage, address: str) -> str | None:
        """The user's e-mail address for agents' replies given while they are away; the
        confirmation to show them, or None when `address` is no address (or e-mail is off)."""
        return await self._inbox.followup.leave_address(message, address)

    async def outgoing_file(self, file_id: str, message: InboundMessage | None = None,
                            with_data: bool = True) -> OutgoingFile | None:  # fmt: skip
        """A file an agent attached to a reply (`OutboundReply.files`), for the channel to
        send; with `message` (the user asking for it) only one of that user's conversation;
        without `with_data` only its name and type."""
        return await self._inbox.attachments.outgoing(file_id, message, with_data)

    @property
    def attachment_limit(self) -> int:
        """The largest file taken, in bytes: a channel told a file's size need not fetch a
        larger one (it passes `Upload(None, name, size)`)."""
        return self._inbox.attachments.max_bytes

    async def member_joined(self, message: InboundMessage) -> str | None:
        """A new member of a group; the name they imitate, if they imitate staff."""
        return await self._inbox.community.member_joined(message)

    async def resume_in_private(self, message: InboundMessage, token: str) -> bool:
        """A private chat opened by the one-time link from a group (`token`): the conversation
        comes along and the reply takes the outbox. False when the token is not the user's."""
        return await self._inbox.handoff.resume_in_private(message, token) is not None

    async def blocked(self, conversation: str, platform: str) -> None:
        """The user blocked the bot: kept on the conversation (the reply is not retried)."""
        if conversation:
            await self._conversations.update(conversation, blocked=platform)

    async def undeliverable(self, conversation: str, platform: str) -> None:
        """The platform refuses the bot's messages in the conversation's chat (a permission)."""
        if conversation:
            await self._conversations.update(conversation, undeliverable=platform)

    async def deliver_later(self, reply: OutboundReply, conversation: str, sender: str) -> None:
        """A reply the platform would not take before (X parks DMs until the user writes to
        us), back in the outbox."""
        await self._replies.send(reply, conversation, sender)
