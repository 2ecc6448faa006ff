"""Discord, through discord.py: guild channels, private support threads, DMs, slash commands.

On when DISCORD_TOKEN is in the environment. The bot needs the Message Content intent, which
is privileged: enable it under Developer Portal > Bot > Privileged Gateway Intents, or Discord
refuses the connection (logged with that advice). In each support channel it needs View
Channel, Send Messages, Read Message History, Create Private Threads and Send Messages in
Threads; with Manage Messages it also deletes pasted secrets. `discord.shards` > 0 runs an
AutoShardedClient with that many shards.

In a guild channel the bot acts when mentioned, replied to, or called by `/support`; `/help`
searches the help center; `/ticket` answers with a reply only the user sees. An escalation
opens a private thread for the user (a DM where threads are not allowed), where the ticket
and the agent's replies live.

This module translates and decides nothing: events become `InboundMessage`s for the inbox,
outbox replies become messages in the channel, thread or DM the conversation lives in.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable

import discord
import yarl
from discord import app_commands

from adapters.in_order import PerChat
from bot.config import DiscordSettings
from bot.domain.messages import Button, Decision, InboundMessage, OutboundReply
from bot.domain.pipeline import BadMessage
from bot.domain.text_split import split_text
from bot.services.inbox import Inbox
from bot.stores import keys

PLATFORM = "discord"
MAX_TEXT = 2000
# Support threads the bot opened (any replica, any restart): messages in them are private.
THREADS_KEY = keys.DISCORD_THREADS
# An interaction must be answered within 3 s: slower work is deferred first.
ANSWER_WITHIN_SECONDS = 2.0
log = logging.getLogger(__name__)


class DiscordAdapter:
    """The Discord channel: receives gateway events, delivers the discord outbox."""

    def __init__(self, inbox: Inbox, settings: DiscordSettings, token: str) -> None:
        self.inbox = inbox
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
        self.tree = app_commands.CommandTree(self.client)
        self._commands()
        self.button_type = self._button_type()
        self.client.add_dynamic_items(self.button_type)
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
                await self.tree.sync()
            except discord.HTTPException as exc:
                log.warning("discord: could not register slash commands (%s)", exc.status)
        self.inbox.private_openers[PLATFORM] = self.open_private
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

    # -- inbound ---------------------------------------------------------------------------

    async def chat_kind(self, channel: object) -> str:
        """DMs and the bot's own support threads are private; every other channel is public."""
        if isinstance(channel, discord.DMChannel):
            return "private"
        # Any non-DM channel: after a restart a thread may not be in discord.py's cache yet.
        if await self.inbox.redis.sismember(THREADS_KEY, str(getattr(channel, "id", ""))):
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
        if not normalized.text and message.attachments:
            if normalized.addressed:
                files = ", ".join(f"{a.content_type or 'file'} {a.url}" for a in message.attachments)
                await self.inbox.attachment(normalized, files)
            return
        try:
            decision = await self.inbox.handle(normalized, reply_inline=False)
        except BadMessage as exc:
            if normalized.addressed:
                text = self.inbox.pipeline.error_reply(exc)
                reply = OutboundReply(PLATFORM, normalized.chat_id, text, (), normalized.message_id)
                await self.inbox.outbox.put(reply)
            return
        if decision.delete_original:
            await self.delete_if_allowed(message)

    async def on_member_join(self, member: discord.Member) -> None:
        """A new member: the core checks the name for impostors; the warning goes to the
        server's system channel (leads are told either way)."""
        channel = member.guild.system_channel
        names = " ".join(dict.fromkeys(n for n in (member.global_name, member.name, member.nick) if n))
        await self.inbox.member_joined(InboundMessage(
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

    def _commands(self) -> None:
        @self.tree.command(name="support", description="Ask support a question")
        @app_commands.describe(question="What do you need help with?")
        async def support(interaction: discord.Interaction, question: str) -> None:
            message = await self.from_interaction(interaction, question)
            await self.respond(interaction, lambda: self.inbox.handle(message, reply_inline=True))

        @self.tree.command(name="help", description="Search the help center")
        @app_commands.describe(words="What to look for, e.g. withdrawal fees")
        async def help_search(interaction: discord.Interaction, words: str) -> None:
            message = await self.from_interaction(interaction, f"/help {words}")
            await self.respond(interaction, lambda: self.inbox.handle(message, reply_inline=True))

        @self.tree.command(name="ticket", description="The status of your support tickets (only you see it)")
        async def ticket(interaction: discord.Interaction) -> None:
            message = await self.from_interaction(interaction, "")
            await self.respond(interaction, lambda: self.inbox.answer_for_user_only(message, "ticket_status"),
                               only_user=True)  # fmt: skip

    async def from_interaction(self, interaction: discord.Interaction, text: str) -> InboundMessage:
        """A slash command or button press as a message; its locale is the language hint."""
        return InboundMessage(
            platform=PLATFORM, chat_id=str(interaction.channel_id), chat_kind=await self.chat_kind(interaction.channel),
            user_id=str(interaction.user.id), user_name=interaction.user.display_name, text=text,
            language_hint=str(interaction.locale),
        )  # fmt: skip

    async def respond(self, interaction: discord.Interaction, work: Callable[[], Awaitable[Decision]],
                      only_user: bool = False) -> None:  # fmt: skip
        """Answer a slash command with the decision's reply: at once when the work is quick,
        else deferred first (Discord drops interactions not acknowledged within 3 s). A
        warning about a pasted secret is shown to the user alone."""
        task = asyncio.ensure_future(work())
        deferred = False
        try:
            decision = await asyncio.wait_for(asyncio.shield(task), ANSWER_WITHIN_SECONDS)
        except asyncio.TimeoutError:
            await interaction.response.defer(thinking=True, ephemeral=only_user)
            deferred = True
        try:
            decision = await task
        except BadMessage as exc:
            text, view, only_user = self.inbox.pipeline.error_reply(exc, str(interaction.locale)), None, True
        else:
            text = decision.reply_text or "\u2026"
            view = self.view(decision.reply.buttons) if decision.reply and decision.reply.buttons else None
            only_user = only_user or bool(decision.secret_kinds)
        extra = {"view": view} if view else {}
        if deferred:
            await interaction.followup.send(split_text(text, MAX_TEXT)[0], ephemeral=only_user, **extra)
        else:
            await interaction.response.send_message(split_text(text, MAX_TEXT)[0], ephemeral=only_user, **extra)

    def _button_type(self) -> type:
        """Buttons under the bot's replies carry their action in the custom id ("sb:<action>"),
        so a press is understood by any replica, after any restart."""
        adapter = self

        class ActionButton(discord.ui.DynamicItem[discord.ui.Button], template=r"sb:(?P<action>[\w:-]{1,90})"):
            def __init__(self, label: str, action: str) -> None:
                super().__init__(discord.ui.Button(label=label[:80], custom_id=f"sb:{action}"))
                self.action = action

            @classmethod
            async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                                     match: re.Match[str]) -> ActionButton:  # fmt: skip
                return cls(item.label or "", match["action"])

            async def callback(self, interaction: discord.Interaction) -> None:
                await interaction.response.defer()  # acknowledged at once; any reply takes the outbox
                await adapter.inbox.press(await adapter.from_interaction(interaction, ""), self.action)

        return ActionButton

    def view(self, buttons: tuple[Button, ...]) -> discord.ui.View:
        view = discord.ui.View(timeout=None)
        for button in buttons:
            view.add_item(self.button_type(button.label, button.action))
        view.stop()  # presses are handled by the dynamic item, not by this object kept in memory
        return view

    # -- private chats -----------------------------------------------------------------------

    async def open_private(self, message: InboundMessage) -> tuple[str, str] | None:
        """A private thread for the user in the channel they wrote in, or a DM where the bot
        may not open threads; (chat id, mention of it) or None when neither works."""
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
                    await self.inbox.redis.sadd(THREADS_KEY, str(thread.id))
                    await thread.add_user(discord.Object(int(message.user_id)))
                    return str(thread.id), thread.mention
                except discord.Forbidden:
                    self.missing_permission(f"Create Private Threads in #{channel}")
            else:
                self.missing_permission(f"Create Private Threads and Send Messages in Threads in #{channel}")
        try:
            dm = await self.client.create_dm(discord.Object(int(message.user_id)))
        except discord.HTTPException as exc:
            log.warning("discord: could not open a DM either (%s)", exc.status)
            return None
        return str(dm.id), f"https://discord.com/channels/@me/{dm.id}"

    def missing_permission(self, what: str) -> None:
        """Log once what to grant; never retry what Discord forbids."""
        if what not in self.warned:
            self.warned.add(what)
            log.warning("discord: missing permission: grant the bot %s", what)

    # -- outbound ----------------------------------------------------------------------------

    async def deliver(self, reply: OutboundReply, conversation: str, sender: str) -> None:
        """Send one outbox reply where the conversation lives, split at 2,000 characters.
        discord.py itself waits out 429s; what still fails raises, so the reply stays in the
        outbox and is sent again. A 403 is logged once with the permission to grant."""
        channel = self.client.get_partial_messageable(int(reply.chat_id))
        pieces = split_text(reply.text, MAX_TEXT)
        mentions = discord.AllowedMentions(everyone=False, roles=False, users=False, replied_user=True)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            reference = None
            if reply.reply_to and index == 0:
                reference = discord.MessageReference(message_id=int(reply.reply_to), channel_id=int(reply.chat_id),
                                                     fail_if_not_exists=False)  # fmt: skip
            extra = {"view": self.view(reply.buttons)} if last and reply.buttons else {}
            try:
                await channel.send(piece, reference=reference, allowed_mentions=mentions, **extra)
            except discord.Forbidden:
                self.missing_permission(f"Send Messages (and Send Messages in Threads) in channel {reply.chat_id}")
                if conversation:
                    await self.inbox.conversations.update(conversation, undeliverable=PLATFORM)
                return
            except discord.NotFound:
                log.warning("discord: channel %s is gone; the reply is dropped", reply.chat_id)
                return
