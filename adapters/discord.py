"""Discord, through discord.py: guild channels, private support threads, DMs, slash commands.

On when DISCORD_TOKEN is in the environment. The bot needs the Message Content intent, which
is privileged: enable it under Developer Portal > Bot > Privileged Gateway Intents, or Discord
refuses the connection (logged with that advice). In each support channel it needs View
Channel, Send Messages, Read Message History, Create Private Threads and Send Messages in
Threads; with Manage Messages it also deletes pasted secrets. `discord.shards` > 0 runs an
AutoShardedClient with that many shards.

In a guild channel the bot acts when mentioned, replied to, or called by `/support`; `/help`
searches the help center; `/ticket` answers with a reply only the user sees (the slash
commands and buttons are in `discord_interactions.py`). An escalation opens a private thread
for the user (a DM where threads are not allowed), where the ticket and the agent's replies
live.

This module translates and decides nothing: events become calls on the front desk, outbox
replies become messages in the channel, thread or DM the conversation lives in.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from dataclasses import replace

import aiohttp
import discord
import yarl
from aiohttp import web

from adapters.discord_interactions import Interactions
from adapters.in_order import PerChat
from adapters.uploads import fetch_upload, outgoing_files
from bot.channel_settings import DiscordSettings
from bot.domain.attachments import OutgoingFile
from bot.domain.messages import Decision, InboundMessage, OutboundReply
from bot.domain.text_split import split_text
from bot.services.channels import DiscordThreads, PrivateChat
from bot.services.front_desk import FrontDesk

PLATFORM = "discord"
MAX_TEXT = 2000
MAX_FILES = 5  # a message's files taken (Discord allows 10): more is logged and left
log = logging.getLogger(__name__)


class DiscordAdapter:
    """The Discord channel: receives gateway events, delivers the discord outbox."""

    platform = PLATFORM
    listens = True  # one gateway connection (per shard): the first worker holds it

    def __init__(self, desk: FrontDesk, settings: DiscordSettings, token: str, threads: DiscordThreads) -> None:
        self.desk = desk
        self.threads = threads  # the support threads the bot opened: what is said in them is private
        self.settings = settings
        self.token = token
        self.warned: set[str] = set()  # missing permissions already logged
        self.in_order = PerChat()
        # discord.py reads its hosts from class attributes: a proxy or a stand-in goes here.
        discord.http.Route.BASE = settings.api_base_url.rstrip("/")
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)
        intents = discord.Intents.default()
        intents.message_content = True
        intents.members = settings.watch_new_members  # privileged too: only when impostors are watched
        options = {"intents": intents, "guild_ready_timeout": 2.0}
        self.client: discord.Client = (
            discord.AutoShardedClient(shard_count=settings.shards,
                                      shard_ids=[int(i) for i in settings.shard_ids] or None, **options)
            if settings.shards > 0
            else discord.Client(**options)
        )
        self.interactions = Interactions(desk, self.client, self.chat_kind, PLATFORM, MAX_TEXT)
        self.client.event(self.on_message)
        self.client.event(self.on_member_join)
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        """Sign in (a bad token stops start-up), connect, register the slash commands."""
        await self.client.login(self.token)
        self.task = asyncio.create_task(self._connect())
        try:
            await asyncio.wait_for(self.client.wait_until_ready(), 30)
        except asyncio.TimeoutError:
            log.warning("discord: not ready after 30 s; carrying on while it connects")
        if self.settings.sync_commands:
            try:
                await self.interactions.tree.sync()
            except discord.HTTPException as exc:
                log.warning("discord: could not register slash commands (%s)", exc.status)
        log.info("discord: signed in as %s", self.client.user)

    async def _connect(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired:
            log.error("discord: the Message Content intent is not enabled for this bot: enable it under "
                      "Developer Portal > Bot > Privileged Gateway Intents")  # fmt: skip

    async def stop(self) -> None:
        await self.client.close()
        if self.task:
            await asyncio.gather(self.task, return_exceptions=True)

    def routes(self) -> list[web.AbstractRouteDef]:
        return []  # everything comes through the gateway

    # -- inbound ---------------------------------------------------------------------------

    async def chat_kind(self, channel: object) -> str:
        """DMs and the bot's own support threads are private; every other channel is public."""
        if isinstance(channel, discord.DMChannel):
            return "private"
        # Any non-DM channel: after a restart a thread may not be in discord.py's cache yet.
        if await self.threads.contains(str(getattr(channel, "id", ""))):
            return "private"
        return "group"

    async def normalize(self, message: discord.Message) -> InboundMessage:
        me = self.client.user
        kind = await self.chat_kind(message.channel)
        text = message.content
        addressed = kind == "private" or any(user.id == me.id for user in message.mentions)
        text = re.sub(rf"<@!?{me.id}>", "", text).strip()
        reference = message.reference
        if reference and isinstance(reference.resolved, discord.Message) and reference.resolved.author.id == me.id:
            addressed = True
        return InboundMessage(
            platform=PLATFORM, chat_id=str(message.channel.id), chat_kind=kind, user_id=str(message.author.id),
            user_name=message.author.display_name, text=text, addressed=addressed, message_id=str(message.id),
            reply_to=str(reference.message_id) if reference and reference.message_id else None,
        )  # fmt: skip

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        await self.in_order.run(str(message.channel.id), lambda: self._handle(message))

    async def _handle(self, message: discord.Message) -> None:
        normalized = await self.normalize(message)
        if message.attachments and normalized.addressed:
            decision = await self._take_files(message, normalized)
        elif message.attachments and not normalized.text:
            return  # files in chatter not addressed to the bot: never fetched
        else:
            decision = await self.desk.take(normalized)
        if decision and decision.delete_original:
            await self.delete_if_allowed(message)

    async def _take_files(self, message: discord.Message, normalized: InboundMessage) -> Decision | None:
        """Each file (the first MAX_FILES) to the front desk in turn, the text going with the
        last one as its caption: the agent reads the files, then what the user said about them;
        the user gets a refusal for each file not taken and one reply for the rest (the
        answer to the text, or one "we have your file")."""
        files = message.attachments[:MAX_FILES]
        if len(message.attachments) > MAX_FILES:
            log.info("discord: %d files in one message; the first %d taken", len(message.attachments), MAX_FILES)
        decision = None
        for index, attachment in enumerate(files):
            upload = await fetch_upload(PLATFORM, attachment.filename, attachment.size, self.desk.attachment_limit,
                                        attachment.read, (discord.DiscordException, aiohttp.ClientError,
                                                          asyncio.TimeoutError))  # fmt: skip
            last = index == len(files) - 1
            part = replace(normalized, text=normalized.text if last else "")
            decision = await self.desk.attachment(part, upload, acknowledge=last)
        return decision

    async def on_member_join(self, member: discord.Member) -> None:
        """A new member: the core checks the name for impostors; the warning goes to the
        server's system channel (leads are told either way)."""
        channel = member.guild.system_channel
        names = " ".join(dict.fromkeys(n for n in (member.global_name, member.name, member.nick) if n))
        await self.desk.member_joined(InboundMessage(
            platform=PLATFORM, chat_id=str(channel.id if channel else member.guild.id), chat_kind="group",
            user_id=str(member.id), user_name=names, text="", language_hint=str(member.guild.preferred_locale),
        ))  # fmt: skip

    async def delete_if_allowed(self, message: discord.Message) -> None:
        """Delete a message with a pasted secret where the bot has Manage Messages; the
        warning asks the user to delete it otherwise."""
        channel = message.channel
        me = message.guild.me if message.guild else None
        if me is None or not channel.permissions_for(me).manage_messages:
            self.missing_permission(f"Manage Messages in #{channel} (to delete pasted secrets)")
            return
        try:
            await message.delete()
        except discord.Forbidden:
            self.missing_permission(f"Manage Messages in #{channel} (to delete pasted secrets)")
        except discord.HTTPException as exc:
            log.warning("discord: could not delete a message with a secret (%s)", exc.status)

    # -- private chats -----------------------------------------------------------------------

    async def open_private(self, message: InboundMessage, token: str) -> PrivateChat | None:
        """A private thread for the user in the channel they wrote in, or a DM where the bot
        may not open threads (the conversation moves there at once, `token` is not needed);
        None when neither works."""
        channel = self.client.get_channel(int(message.chat_id))
        if isinstance(channel, discord.TextChannel):
            allowed = channel.permissions_for(channel.guild.me)
            if allowed.create_private_threads and allowed.send_messages_in_threads:
                try:
                    thread = await channel.create_thread(
                        name=f"support · {message.user_name or message.user_id}"[:100],
                        type=discord.ChannelType.private_thread, invitable=False,
                        auto_archive_duration=self.settings.thread_archive_minutes,
                    )  # fmt: skip
                    await self.threads.add(str(thread.id))
                    await thread.add_user(discord.Object(int(message.user_id)))
                    return PrivateChat(thread.mention, str(thread.id))
                except discord.Forbidden:
                    self.missing_permission(f"Create Private Threads in #{channel}")
            else:
                self.missing_permission(f"Create Private Threads and Send Messages in Threads in #{channel}")
        try:
            dm = await self.client.create_dm(discord.Object(int(message.user_id)))
        except discord.HTTPException as exc:
            log.warning("discord: could not open a DM either (%s)", exc.status)
            return None
        return PrivateChat(f"https://discord.com/channels/@me/{dm.id}", str(dm.id))

    def missing_permission(self, what: str) -> None:
        """Log once what to grant; never retry what Discord forbids."""
        if what not in self.warned:
            self.warned.add(what)
            log.warning("discord: missing permission: grant the bot %s", what)

    # -- outbound ----------------------------------------------------------------------------

    async def deliver(self, reply: OutboundReply, conversation: str, sender: str) -> None:
        """Send one outbox reply where the conversation lives, split at 2,000 characters, the
        agent's files attached to its last part (`_send_with_files`). discord.py itself waits
        out 429s; what still fails raises, so the reply stays in the outbox and is sent again.
        A 403 is logged once with the permission to grant."""
        channel = self.client.get_partial_messageable(int(reply.chat_id))
        files = await outgoing_files(self.desk, PLATFORM, reply.files)
        pieces = split_text(reply.text, MAX_TEXT) or ([""] if files else [])  # files alone: one message
        mentions = discord.AllowedMentions(everyone=False, roles=False, users=False, replied_user=True)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            reference = None
            if reply.reply_to and index == 0:
                reference = discord.MessageReference(message_id=int(reply.reply_to), channel_id=int(reply.chat_id),
                                                     fail_if_not_exists=False)  # fmt: skip
            extra = {"view": self.interactions.view(reply.buttons)} if last and reply.buttons else {}
            try:
                await self._send_with_files(channel, piece or None, files if last else [], reference=reference,
                                            allowed_mentions=mentions, **extra)  # fmt: skip
            except discord.Forbidden:
                self.missing_permission(f"Send Messages (and Send Messages in Threads) in channel {reply.chat_id}")
                await self.desk.undeliverable(conversation, PLATFORM)
                return
            except discord.NotFound:
                log.warning("discord: channel %s is gone; the reply is dropped", reply.chat_id)
                return

    async def _send_with_files(self, channel: discord.PartialMessageable, text: str | None,
                               files: list[OutgoingFile], **options: object) -> None:  # fmt: skip
        """`text` with `files` attached (each `discord.File` by its name). When Discord finds
        them too large together for the channel (413), the text goes alone and each file in a
        message of its own; one too large even alone is logged and left (sent again, it would
        be refused again)."""
        try:
            await channel.send(text, files=[_discord_file(kept) for kept in files], **options)
            return
        except discord.HTTPException as exc:
            if exc.status != 413 or not files:
                raise
        log.info("discord: a reply's files are too large together for channel %s; sent one a message", channel.id)
        if text:
            await channel.send(text, **options)
        for kept in files:
            try:
                await channel.send(file=_discord_file(kept))
            except discord.HTTPException as exc:
                if exc.status != 413:
                    raise
                log.warning("discord: a file of a reply (%s, %d bytes) is too large for channel %s; not sent",
                            kept.media_type, len(kept.data), channel.id)  # fmt: skip


def _discord_file(kept: OutgoingFile) -> discord.File:
    """An agent's file as discord.py uploads it (a fresh one each send: sending reads it)."""
    return discord.File(io.BytesIO(kept.data), filename=kept.name)
