"""The port every channel implements, what a channel is built from, and the channels the bot
runs, by platform.

A channel (one per platform, in `adapters/`) turns its platform's updates into calls on the
front desk (`front_desk.py`) and sends what the outbox holds for it. The core reaches a
channel only through `Channel`: the server mounts its `routes`, runs `start` and `stop`, and
drains the platform's outbox into `deliver`; the hand-off service asks a channel that
`OpensPrivateChats` for a private chat.

The port lives here, in the services, because the services are what use it (the hand-off
asks for private chats) and it speaks only in domain types: the core says what it needs,
adapters implement it, and no import runs from the core to an adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.config import Config
from bot.domain.messages import InboundMessage, OutboundReply

# The stores a channel may be handed, named here so that channels import the port, never a store.
from bot.stores.channel_state import ChannelState, DiscordThreads, WebChatSessions, XState
from bot.stores.holder import STORE_OUTAGE
from bot.stores.mail_state import MailState, MailThread

if TYPE_CHECKING:
    from aiohttp.web import AbstractRouteDef

    from bot.services.front_desk import FrontDesk

__all__ = ["STORE_OUTAGE", "Channel", "ChannelBuilder", "ChannelKit", "ChannelState", "Channels", "DiscordThreads",
           "MailState", "MailThread", "OpensPrivateChats", "PrivateChat", "WebChatSessions", "XState"]  # fmt: skip

# STORE_OUTAGE (from the stores): what a store outage raises; a channel that polls pauses and
# tries again, a request is refused.


@dataclass(frozen=True)
class PrivateChat:
    """Where a conversation leaving a public chat continues: `chat_id` when the platform opened
    the chat at once (a thread, a DM), None when the user opens it by following `link`."""

    link: str
    chat_id: str | None = None


class Channel(Protocol):
    """One platform's channel."""

    platform: str  # the name of its outbox, and of the platform in every message it hands in
    # Whether it holds the platform's one connection (long polling, a gateway): then only the
    # first of a replica's workers runs it; a channel reached over HTTP runs in every worker.
    listens: bool

    async def start(self) -> None:
        """Connect and start receiving; what fails here stops the bot's start-up."""

    async def stop(self) -> None:
        """Disconnect; nothing is received after this."""

    async def deliver(self, reply: OutboundReply, conversation: str, sender: str) -> None:
        """Send one reply from the platform's outbox (`sender`: bot or agent). Raising leaves
        it in the outbox, to be sent again."""

    def routes(self) -> list[AbstractRouteDef]:
        """What the channel serves on the bot's HTTP server (a page, an API, a webhook)."""


@runtime_checkable
class OpensPrivateChats(Protocol):
    """A channel whose platform has private chats an account matter can move to."""

    async def open_private(self, message: InboundMessage, token: str) -> PrivateChat | None:
        """A private chat for the sender of `message` (a group message); `token` is the
        one-time token a link must carry for the user to resume there. None when the platform
        refuses one."""


@dataclass(frozen=True)
class ChannelKit:
    """What the composition root hands a channel's builder (the table in `adapters/`)."""

    desk: FrontDesk
    config: Config
    env: Mapping[str, str]
    consumer: str  # this process among the replicas: `<host>-<pid>`
    state: ChannelState  # the channels' own stores; each builder hands its channel the one it needs


ChannelBuilder = Callable[[ChannelKit], Channel]


class Channels:
    """The channels this process runs, by platform. The composition root adds each one it
    builds; the hand-off service asks them for private chats."""

    def __init__(self) -> None:
        self._by_platform: dict[str, Channel] = {}

    def add(self, channel: Channel) -> None:
        self._by_platform[channel.platform] = channel

    def __iter__(self) -> Iterator[Channel]:
        return iter(list(self._by_platform.values()))

    def private_chats(self, platform: str) -> OpensPrivateChats | None:
        """The channel that opens private chats on `platform`, if it has one."""
        channel = self._by_platform.get(platform)
        return channel if isinstance(channel, OpensPrivateChats) else None
