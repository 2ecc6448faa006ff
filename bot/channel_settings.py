"""The platforms' sections of `config.yml` (telegram, discord, x): one dataclass each, every
setting with its default; read by `bot/config.py`, handed to each platform's channel."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TelegramSettings:
    # On only when true; TELEGRAM_TOKEN must then be in the environment.
    enabled: bool = False
    # The Bot API's address: a self-hosted Bot API server (or the tests' stand-in) goes here.
    base_url: str = "https://api.telegram.org/bot"
    # Where users' files are downloaded from (PTB adds the token and the file's path); a
    # self-hosted Bot API server (or the tests' stand-in) serves them under its own address.
    base_file_url: str = "https://api.telegram.org/file/bot"
    # Webhook mode (at /telegram/webhook) instead of long polling; needs TELEGRAM_WEBHOOK_SECRET.
    webhook_url: str = ""
    poll_interval_seconds: float = 0.0


@dataclass(frozen=True)
class DiscordSettings:
    # On only when true; DISCORD_TOKEN must then be in the environment.
    enabled: bool = False
    # Discord's REST API and Gateway: a proxy (or the tests' stand-in) goes here.
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    # 0: one Gateway connection. N > 0: an AutoShardedClient with N shards (large bots).
    shards: int = 0
    # Which of those shards this replica runs (empty: all); replicas split them between them.
    shard_ids: tuple = ()
    # Register /support and /ticket with Discord on start.
    sync_commands: bool = True
    # Private support threads archive after this much quiet (60, 1440, 4320 or 10080).
    thread_archive_minutes: int = 1440
    # Check new members' names for impostors (needs the privileged Server Members intent).
    watch_new_members: bool = False


@dataclass(frozen=True)
class XSettings:
    # On only when true; the five X_* credentials must then be in the environment.
    enabled: bool = False
    # X's API host: tweepy has it built in; a proxy (or the tests' stand-in) goes here.
    api_base_url: str = "https://api.twitter.com"
    # How often the leader replica polls mentions and DMs (user-context rate limits allow ~2 s).
    poll_interval_seconds: float = 15.0
    # The polling leader's lock lasts this long after its last renewal (a successor's wait).
    leader_lock_seconds: int = 30
    # Loop guard: user ids never answered (other bots); at most this many public replies a user an hour.
    ignore_users: tuple = ()
    max_replies_per_user_hour: int = 20


@dataclass(frozen=True)
class EmailSettings:
    # On only when true; SB_MAIL_USER and SB_MAIL_PASSWORD (the support mailbox's login) must
    # then be in the environment.
    enabled: bool = False
    address: str = "support@example.com"  # what the bot's mail comes from, and users write to
    imap_host: str = "imap.example.com"
    imap_port: int = 993
    imap_tls: bool = True  # IMAP over TLS (993); false only for a server on this machine
    smtp_host: str = "smtp.example.com"
    smtp_port: int = 587
    smtp_starttls: bool = True
    folder: str = "INBOX"
    # Without IMAP IDLE, how often the mailbox is read; with it, the longest wait between reads.
    poll_seconds: float = 30.0
    # The reading leader's lock lasts this long after its last renewal (one replica reads).
    leader_lock_seconds: int = 60
    # Loop guard: mail from one address beyond this many an hour is not answered.
    max_mails_per_address_hour: int = 10
