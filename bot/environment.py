"""What the environment must hold for the platforms a configuration turns on: their tokens
(read from the environment only, never from a file), where to get them, and the checks that
stop start-up with a clear message before anything connects."""

from __future__ import annotations

import os

from bot.config import Config, ConfigError

X_CREDENTIALS = ("X_BEARER_TOKEN", "X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_SECRET")

# What each platform needs from the environment when it is enabled, and where to get it.
PLATFORM_SECRETS = {
    "telegram": (("TELEGRAM_TOKEN",), "the bot's token from @BotFather"),
    "discord": (("DISCORD_TOKEN",), "the bot's token from the Developer Portal (Bot > Reset Token)"),
    "x": (X_CREDENTIALS, "the app's bearer token and the account's OAuth 1.0a keys from the developer portal"),
    "email": (("SB_MAIL_USER", "SB_MAIL_PASSWORD"), "the support mailbox's login (IMAP and SMTP)"),
}


def check_environment(config: Config, env: dict[str, str] | None = None) -> list[str]:
    """What the environment must hold for `config` to run: ConfigError naming the first missing
    variable (never a value); returns the enabled platforms."""
    env = os.environ if env is None else env
    enabled = [name for name in PLATFORM_SECRETS if getattr(config, name).enabled]
    for name in enabled:
        variables, where = PLATFORM_SECRETS[name]
        missing = [v for v in variables if not env.get(v)]
        if missing:
            raise ConfigError(f"{name}.enabled is true, but {', '.join(missing)} is not in the environment ({where})")
    if config.telegram.enabled and config.telegram.webhook_url and not env.get("TELEGRAM_WEBHOOK_SECRET"):
        raise ConfigError("telegram.webhook_url is set, but TELEGRAM_WEBHOOK_SECRET is not in the environment "
                          "(any long random string; Telegram sends it back with every update)")  # fmt: skip
    return enabled


def idle_credentials(config: Config, env: dict[str, str] | None = None) -> list[str]:
    """Platforms whose credentials are in the environment while the platform is disabled."""
    env = os.environ if env is None else env
    return [name for name, (variables, _) in PLATFORM_SECRETS.items()
            if not getattr(config, name).enabled and any(env.get(v) for v in variables)]  # fmt: skip


def backoffice_credentials(env: dict[str, str] | None = None) -> tuple[str, bytes] | None:
    """(BACKOFFICE_TOKEN, BACKOFFICE_SIGNING_SECRET) when the back office is on, None when no
    token is set (account features off); ConfigError when the token has no signing secret."""
    env = os.environ if env is None else env
    token = env.get("BACKOFFICE_TOKEN", "")
    if not token:
        return None
    secret = env.get("BACKOFFICE_SIGNING_SECRET", "")
    if not secret:
        raise ConfigError("BACKOFFICE_TOKEN is set, but BACKOFFICE_SIGNING_SECRET is not in the environment "
                          "(the key the back office signs its events to the bot with)")  # fmt: skip
    return token, secret.encode()
