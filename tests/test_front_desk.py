"""The front desk and the channel port in-process, on a real Redis and the trained model: one
way to refuse a message, and a hand-off that asks the platform's channel for a private chat."""

from __future__ import annotations

import pytest

from bot.domain.messages import InboundMessage, OutboundReply
from bot.services.channels import Channels, OpensPrivateChats, PrivateChat
from bot.services.front_desk import FrontDesk, Refusal
from bot.services.inbox import Inbox
from bot.stores import keys
from bot.stores.holder import Stores
from tests.helpers import LANGUAGES

PLATFORM = "probe"


class ProbeChannel:
    """A channel whose platform opens a DM at once, as Discord's and X's do."""

    platform = PLATFORM

    def __init__(self) -> None:
        self.opened: list[str] = []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, reply: OutboundReply, conversation: str, sender: str) -> None: ...

    def routes(self) -> list:
        return []

    async def open_private(self, message: InboundMessage, token: str) -> PrivateChat:
        self.opened.append(message.user_id)
        return PrivateChat("https://probe.example/dm", f"dm:{message.user_id}")


@pytest.fixture
async def desk_and_channels(redis, pipeline, config):
    channels = Channels()
    channels.add(ProbeChannel())
    return FrontDesk(Inbox(config, pipeline, await Stores.open(redis, LANGUAGES), channels)), channels


def _message(text: str, user: str = "p1", group: bool = False, addressed: bool = True) -> InboundMessage:
    chat, kind = ("group-1", "group") if group else (f"chat-{user}", "private")
    return InboundMessage(PLATFORM, chat, kind, user, text, addressed=addressed, message_id="m1")


async def test_a_message_the_bot_will_not_read_is_refused_once_through_the_outbox_when_addressed(
    desk_and_channels, redis, config
):
    front_desk, _ = desk_and_channels
    too_long = "a" * (config.limits.max_message_chars + 1)
    assert await front_desk.take(_message(too_long, group=True, addressed=False)) is None
    assert await redis.xlen(keys.outbox(PLATFORM)) == 0, "not addressed to the bot: no refusal in the group"
    assert await front_desk.take(_message(too_long)) is None
    [(_, fields)] = await redis.xrange(keys.outbox(PLATFORM))
    assert fields[b"reply_to"] == b"m1" and fields[b"text"]
    refusal = await front_desk.answer(_message(too_long))
    assert isinstance(refusal, Refusal) and refusal.code == "too_long"
    assert refusal.reply == fields[b"text"].decode(), "answered at once, the same words"


async def test_an_account_matter_in_a_group_moves_to_the_private_chat_its_channel_opens(desk_and_channels, redis):
    front_desk, channels = desk_and_channels
    assert isinstance(channels.private_chats(PLATFORM), OpensPrivateChats)
    assert channels.private_chats("elsewhere") is None
    decision = await front_desk.take(_message("I want to talk to a human about my account", user="p2", group=True))
    assert channels.private_chats(PLATFORM).opened == ["p2"]
    assert "https://probe.example/dm" in decision.reply.text and "T-" not in decision.reply.text
    in_private = [f for _, f in await redis.xrange(keys.outbox(PLATFORM)) if f[b"chat_id"] == b"dm:p2"]
    assert in_private and b"T-" in in_private[0][b"text"], "the ticket is opened in the private chat"
