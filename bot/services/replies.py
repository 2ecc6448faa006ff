"""One way to reply: every reply, the bot's and an agent's, is composed by this module and
leaves through the platform's outbox here.

`answering` composes a reply in the chat a message came from, `in_chat` one in a
conversation's chat; replies a caller returns instead of queuing (the web chat's inline
answer) are made by the same two functions. `Replies` puts a reply in the outbox with its
conversation and sender and, where the caller records the line with sending it, appends it to
the conversation's transcript.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.messages import Button, InboundMessage, OutboundReply
from bot.domain.texts import Texts
from bot.stores.conversations import Conversation, ConversationStore
from bot.stores.outbox import Outbox
from bot.stores.together import Write


def answering(message: InboundMessage, text: str, buttons: Sequence[Button] = (), quote: bool = True) -> OutboundReply:
    """A reply in the chat `message` came from; with `quote` it answers that message (the
    platform shows which), without it it merely follows (a button press, a new member)."""
    reply_to = (message.message_id or None) if quote else None
    return OutboundReply(message.platform, message.chat_id, text, tuple(buttons), reply_to)


def in_chat(conversation: Conversation, text: str, buttons: Sequence[Button] = (),
            files: Sequence[str] = ()) -> OutboundReply:  # fmt: skip
    """A reply in the conversation's chat, answering no message in particular (with the ids of
    the files an agent attached)."""
    return OutboundReply(conversation.platform, conversation.chat_id, text, tuple(buttons), files=tuple(files))


class Replies:
    """Composes replies (texts from `data/replies/`) and sends them through the outbox."""

    def __init__(self, texts: Texts, outbox: Outbox, conversations: ConversationStore) -> None:
        self._texts = texts
        self._outbox = outbox
        self._conversations = conversations

    def text(self, key: str, language: str, **values: object) -> str:
        """The reply `key` in `language`, its placeholders filled with `values`."""
        return self._texts.reply(key, language, **values)

    async def send(self, reply: OutboundReply, conversation: str = "", sender: str = "bot", record: bool = False,
                   once: str = "", after: Write | None = None, **details: object) -> str:  # fmt: skip
        """Queue `reply` in its platform's outbox; the outbox entry's id. `sender` is "bot",
        "agent" or "agent:<name>" (the outbox keeps "bot" or "agent"). With `record` the line
        also goes to the conversation's transcript as `sender` said it, with `details`. With
        `once`, the idempotency key of the message it answers, it is queued only if that
        message was not answered yet ("" returned otherwise). `after`: a store's write made
        first in the same round trip (the transcript's lines of the message it answers)."""
        entry = await self._outbox.put(reply, conversation, sender.split(":", 1)[0], once, after)
        if record:
            await self._conversations.append(conversation, sender, reply.text, **details)
        return entry

    async def answer(self, message: InboundMessage, text: str, buttons: Sequence[Button] = (), conversation: str = "",
                     quote: bool = True) -> OutboundReply:  # fmt: skip
        """Send `text` in the chat `message` came from (see `answering`); the reply sent."""
        reply = answering(message, text, buttons, quote)
        await self.send(reply, conversation)
        return reply

    async def tell(self, conversation: Conversation, text: str, buttons: Sequence[Button] = (), sender: str = "bot",
                   record: bool = False, files: Sequence[str] = (), **details: object) -> str:  # fmt: skip
        """Send `text` (and an agent's `files`, by id) in the conversation's chat (see `send`
        for `sender` and `record`); the outbox entry's id."""
        if files:
            details["files"] = list(files)
        return await self.send(in_chat(conversation, text, buttons, files), conversation.id, sender, record, **details)
