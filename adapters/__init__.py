"""One module per platform, and the table the bot builds its channels from.

`CHANNELS` maps a platform's name to how its channel is built from what the composition root
hands over (`ChannelKit`: the front desk, the configuration, the environment's tokens, the
channels' stores). The web chat is always on; the others when `check_environment` finds them
enabled. A platform's module, and its library, are imported only when its channel is built.
"""

from __future__ import annotations

from bot.environment import X_CREDENTIALS
from bot.services.channels import Channel, ChannelBuilder, ChannelKit


def _webchat(kit: ChannelKit) -> Channel:
    from adapters.webchat import WebChat

    return WebChat(kit.desk, kit.config.web, kit.state.webchat, kit.env.get("WEBCHAT_SESSION_SECRET"))


def _telegram(kit: ChannelKit) -> Channel:
    from adapters.telegram import TelegramAdapter

    return TelegramAdapter(kit.desk, kit.config.telegram, kit.env["TELEGRAM_TOKEN"],
                           kit.env.get("TELEGRAM_WEBHOOK_SECRET", ""))  # fmt: skip


def _discord(kit: ChannelKit) -> Channel:
    from adapters.discord import DiscordAdapter

    return DiscordAdapter(kit.desk, kit.config.discord, kit.env["DISCORD_TOKEN"], kit.state.discord_threads)


def _x(kit: ChannelKit) -> Channel:
    from adapters.x import XAdapter

    credentials = {name: kit.env[name] for name in X_CREDENTIALS}
    return XAdapter(kit.desk, kit.config.x, credentials, kit.consumer, kit.state.x)


def _email(kit: ChannelKit) -> Channel:
    from adapters.email import EmailChannel

    return EmailChannel(kit.desk, kit.config.email, kit.env["SB_MAIL_USER"], kit.env["SB_MAIL_PASSWORD"],
                        kit.consumer, kit.state.mail)  # fmt: skip


CHANNELS: dict[str, ChannelBuilder] = {"webchat": _webchat, "telegram": _telegram, "discord": _discord, "x": _x,
                                       "email": _email}  # fmt: skip
