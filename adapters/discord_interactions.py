"""Discord's interactions: the slash commands (`/support`, `/help`, `/ticket`) and the buttons
under the bot's replies.

An interaction must be acknowledged within 3 s: slower work is deferred first. A button carries
its action in its custom id ("sb:<action>"), so a press is understood by any replica, after
any restart; what follows a press takes the outbox.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from bot.domain.messages import Button, Decision, InboundMessage
from bot.domain.text_split import split_text
from bot.services.front_desk import FrontDesk, Refusal

# An interaction must be answered within 3 s: slower work is deferred first.
ANSWER_WITHIN_SECONDS = 2.0


class Interactions:
    """The slash commands and buttons of one Discord client, answered through the front desk."""

    def __init__(self, desk: FrontDesk, client: discord.Client, chat_kind: Callable[[object], Awaitable[str]],
                 platform: str, max_text: int) -> None:  # fmt: skip
        self.desk = desk
        self.chat_kind = chat_kind  # private or group, as the channel sees the chat
        self.platform = platform
        self.max_text = max_text
        self.tree = app_commands.CommandTree(client)
        self._commands()
        self.button_type = self._button_type()
        client.add_dynamic_items(self.button_type)

    def _commands(self) -> None:
        @self.tree.command(name="support", description="Ask support a question")
        @app_commands.describe(question="What do you need help with?")
        async def support(interaction: discord.Interaction, question: str) -> None:
            message = await self.from_interaction(interaction, question)
            await self.respond(interaction, lambda: self.desk.answer(message))

        @self.tree.command(name="help", description="Search the help center")
        @app_commands.describe(words="What to look for, e.g. withdrawal fees")
        async def help_search(interaction: discord.Interaction, words: str) -> None:
            message = await self.from_interaction(interaction, f"/help {words}")
            await self.respond(interaction, lambda: self.desk.answer(message))

        @self.tree.command(name="ticket", description="The status of your support tickets (only you see it)")
        async def ticket(interaction: discord.Interaction) -> None:
            message = await self.from_interaction(interaction, "")
            await self.respond(interaction, lambda: self.desk.answer_for_user_only(message, "ticket_status"),
                               only_user=True)  # fmt: skip

    async def from_interaction(self, interaction: discord.Interaction, text: str) -> InboundMessage:
        """A slash command or button press as a message; its locale is the language hint."""
        return InboundMessage(
            platform=self.platform, chat_id=str(interaction.channel_id),
            chat_kind=await self.chat_kind(interaction.channel), user_id=str(interaction.user.id),
            user_name=interaction.user.display_name, text=text, language_hint=str(interaction.locale),
        )  # fmt: skip

    async def respond(self, interaction: discord.Interaction, work: Callable[[], Awaitable[Decision | Refusal]],
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
        decision = await task
        if isinstance(decision, Refusal):
            text, view, only_user = decision.reply, None, True
        else:
            text = decision.reply_text or "\u2026"
            view = self.view(decision.reply.buttons) if decision.reply and decision.reply.buttons else None
            only_user = only_user or bool(decision.secret_kinds)
        extra = {"view": view} if view else {}
        send = interaction.followup.send if deferred else interaction.response.send_message
        await send(split_text(text, self.max_text)[0], ephemeral=only_user, **extra)

    def _button_type(self) -> type:
        """Buttons under the bot's replies carry their action in the custom id ("sb:<action>"),
        so a press is understood by any replica, after any restart."""
        interactions = self

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
                await interactions.desk.press(await interactions.from_interaction(interaction, ""), self.action)

        return ActionButton

    def view(self, buttons: tuple[Button, ...]) -> discord.ui.View:
        view = discord.ui.View(timeout=None)
        for button in buttons:
            view.add_item(self.button_type(button.label, button.action))
        view.stop()  # presses are handled by the dynamic item, not by this object kept in memory
        return view
