"""The bot's configuration: `config.yml` plus the environment.

Every setting has one name and one default here. Secrets never live in the file: platform
tokens and where Redis is (`REDIS_URL`, or Redis Sentinel's `REDIS_SENTINELS` and
`REDIS_MASTER_NAME`) come from the environment only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot.channel_settings import DiscordSettings, EmailSettings, TelegramSettings, XSettings
from bot.domain.attachments import FileSettings
from bot.domain.routing import RoutingError, RoutingSettings, parse_routing

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config.yml"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_MASTER_NAME = "mymaster"
# X needs all five (an app's bearer token and a user's OAuth 1.0a keys).
class ConfigError(ValueError):
    """A bad configuration: the message names the key and what is expected."""


@dataclass(frozen=True)
class NluSettings:
    confidence_threshold: float = 0.8
    margin_threshold: float = 0.1
    handoff_threshold: float = 0.35
    compromised_threshold: float = 0.25
    urgent_threshold: float = 0.4
    answer_threshold: float = 0.5
    suggest_threshold: float = 0.25


@dataclass(frozen=True)
class Limits:
    max_message_chars: int = 4000
    # A message accepted but not handled this long ago (its process died) is handled again.
    redelivery_seconds: int = 30


@dataclass(frozen=True)
class HandoffSettings:
    # "platform:user_id" of the users whose hand-offs take the vip lane.
    vip_users: tuple = ()
    # Minutes an agent spends on a conversation, for the expected wait users are told.
    avg_handle_minutes: float = 4.0
    # An agent with no sign of life for this long loses their conversations to the queue.
    agent_timeout_seconds: int = 90
    # Days an agent's token works after it is issued (`agents add/rotate` may say otherwise); 0: no end.
    agent_token_days: int = 90
    # Pickup targets per lane; past them a conversation is escalated.
    sla_urgent_seconds: int = 60
    sla_vip_seconds: int = 120
    sla_high_seconds: int = 300
    sla_normal_seconds: int = 600

    def sla_seconds(self, lane: str) -> int:
        return int(getattr(self, f"sla_{lane}_seconds"))


@dataclass(frozen=True)
class CommunitySettings:
    # Names new members must not imitate (besides "<exchange> support/admin" and the exchange's
    # own name): admins, moderators, official accounts.
    protected_names: tuple = ()
    # Post the "support will never DM you first" warning in the chat when an impostor joins
    # (leads are told either way).
    warn_in_chat: bool = True


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    # The web chat takes at most this many messages (and button presses) a minute from one
    # session, and from one IP address; more get 429 with Retry-After.
    rate_per_session_minute: int = 20
    rate_per_ip_minute: int = 120
    # Behind a reverse proxy, the client's address is the last X-Forwarded-For hop the proxy
    # added; only trust it when a proxy you run sets it.
    trust_forwarded_for: bool = False
    # Long polls (GET .../messages?wait=) held open at once: a session's extra one replaces its
    # oldest; over an address's cap 429, over the process's 503.
    polls_per_session: int = 2
    polls_per_address: int = 50
    polls_total: int = 5000
    # Worker processes sharing the port, each on its own core (0: one per core).
    workers: int = 0


@dataclass(frozen=True)
class RedisSettings:
    # A write that acknowledges a user's message or an agent's reply waits (WAIT) until this
    # many replicas have it, at most `replica_wait_ms`; 0 turns the wait off. Unset: 1 with
    # Redis Sentinel, 0 without (see `load_config`).
    wait_replicas: int = 0
    replica_wait_ms: int = 500


@dataclass(frozen=True)
class AuditSettings:
    # Entries of the audit trail (what agents, leads and operators did) older than this are
    # dropped as new ones are written.
    retention_days: int = 365


@dataclass(frozen=True)
class BackOfficeSettings:
    # The exchange's back office (docs/backoffice-api.yaml), on with BACKOFFICE_TOKEN: see config.yml.
    url: str = "http://127.0.0.1:8090"
    timeout_seconds: float = 2.0
    link_minutes: int = 10
    link_days: int = 90
    vip_from_tier: int = 1


@dataclass(frozen=True)
class Config:
    exchange_name: str = "ExampleX"
    links: dict[str, str] = field(default_factory=dict)
    languages: tuple[str, ...] = ("en", "zh", "es", "fr", "ru", "ja", "ko", "vi")
    default_language: str = "en"
    nlu: NluSettings = NluSettings()
    limits: Limits = Limits()
    web: WebSettings = WebSettings()
    handoff: HandoffSettings = HandoffSettings()
    telegram: TelegramSettings = TelegramSettings()
    discord: DiscordSettings = DiscordSettings()
    x: XSettings = XSettings()
    email: EmailSettings = EmailSettings()
    community: CommunitySettings = CommunitySettings()
    audit: AuditSettings = AuditSettings()
    backoffice: BackOfficeSettings = BackOfficeSettings()
    routing: RoutingSettings = RoutingSettings()
    attachments: FileSettings = FileSettings()
    redis_url: str = DEFAULT_REDIS_URL
    redis: RedisSettings = RedisSettings()
    # Redis Sentinel: (host, port) of each sentinel, and the name they monitor the master by.
    # When set, the bot asks them where the master is (and follows a failover); no REDIS_URL.
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_master_name: str = DEFAULT_MASTER_NAME

    @property
    def placeholders(self) -> dict[str, str]:
        """Values for the `{exchange}`, `{help_url}`, ... placeholders of answers."""
        values = {f"{key}_url": url for key, url in self.links.items()}
        values["exchange"] = self.exchange_name
        return values


def _section(raw: dict[str, Any], key: str, cls: type, where: str) -> Any:
    value = raw.get(key, {}) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}{key}: expected a mapping, got {type(value).__name__}")
    known = set(cls.__dataclass_fields__)
    unknown = set(value) - known
    if unknown:
        raise ConfigError(f"{where}{key}.{sorted(unknown)[0]}: unknown key (known: {', '.join(sorted(known))})")
    defaults = cls()
    kwargs = {}
    for name, given in value.items():
        expected = type(getattr(defaults, name))
        if expected is float and isinstance(given, int) and not isinstance(given, bool):
            given = float(given)
        if expected is tuple and isinstance(given, list):
            given = tuple(str(item) for item in given)
        if not isinstance(given, expected) or isinstance(given, bool) != (expected is bool):
            raise ConfigError(f"{where}{key}.{name}: expected {expected.__name__}, got {given!r}")
        kwargs[name] = given
    return cls(**kwargs)


def read_yaml(path: Path) -> Any:
    """A data file's YAML with libyaml's safe loader (the pure-Python one took seconds of a
    start-up over the texts and the training data), or the pure-Python one without libyaml."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _read_top_level(path: Path) -> dict[str, Any]:
    """The file's YAML mapping, or ConfigError saying why there is none."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return raw


def load_config(path: Path | str | None = None, env: dict[str, str] | None = None) -> Config:
    """Read and check `config.yml`; raise ConfigError naming the first bad key."""
    raw = _read_top_level(Path(path) if path else DEFAULT_CONFIG)
    env = os.environ if env is None else env
    known = {"exchange", "languages", "default_language", "nlu", "limits", "web", "handoff", "telegram", "discord", "x",
             "community", "redis", "audit", "backoffice", "routing", "attachments", "email"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{sorted(unknown)[0]}: unknown key (known: {', '.join(sorted(known))})")

    exchange = raw.get("exchange") or {}
    if not isinstance(exchange, dict) or not isinstance(exchange.get("name", ""), str):
        raise ConfigError("exchange.name: expected a string")
    links = exchange.get("links") or {}
    if not isinstance(links, dict) or not all(isinstance(v, str) for v in links.values()):
        raise ConfigError("exchange.links: expected a mapping of names to URLs")

    languages = raw.get("languages", list(Config.languages))
    if not isinstance(languages, list) or not languages or not all(isinstance(x, str) for x in languages):
        raise ConfigError("languages: expected a non-empty list of ISO 639-1 codes")
    default_language = raw.get("default_language", languages[0])
    if default_language not in languages:
        raise ConfigError(f"default_language: {default_language!r} is not one of languages {languages}")

    sentinels = parse_sentinels(env.get("REDIS_SENTINELS", ""))
    redis = _section(raw, "redis", RedisSettings, "")
    if redis.wait_replicas < 0 or redis.replica_wait_ms < 1:
        raise ConfigError("redis: wait_replicas must be 0 or more and replica_wait_ms 1 or more")
    if sentinels and "wait_replicas" not in (raw.get("redis") or {}):
        redis = replace(redis, wait_replicas=1)  # a failover must not lose what users were told we have
    return Config(
        exchange_name=exchange.get("name", Config.exchange_name),
        links=dict(links),
        languages=tuple(languages),
        default_language=default_language,
        nlu=_section(raw, "nlu", NluSettings, ""),
        limits=_section(raw, "limits", Limits, ""),
        web=_section(raw, "web", WebSettings, ""),
        handoff=_section(raw, "handoff", HandoffSettings, ""),
        telegram=_section(raw, "telegram", TelegramSettings, ""),
        discord=_section(raw, "discord", DiscordSettings, ""),
        x=_section(raw, "x", XSettings, ""),
        email=_section(raw, "email", EmailSettings, ""),
        community=_section(raw, "community", CommunitySettings, ""),
        audit=_section(raw, "audit", AuditSettings, ""),
        backoffice=_backoffice(raw),
        routing=_routing(raw, tuple(languages)),
        attachments=_attachments(raw),
        redis_url=env.get("REDIS_URL", DEFAULT_REDIS_URL),
        redis=redis,
        redis_sentinels=sentinels,
        redis_master_name=env.get("REDIS_MASTER_NAME") or DEFAULT_MASTER_NAME,
    )


def _backoffice(raw: dict[str, Any]) -> BackOfficeSettings:
    settings = _section(raw, "backoffice", BackOfficeSettings, "")
    if not settings.url.startswith(("http://", "https://")) or not 0 < settings.timeout_seconds <= 10 \
            or not 1 <= settings.link_minutes <= 60 or settings.link_days < 1:  # fmt: skip
        raise ConfigError("backoffice: url http(s)://..., timeout_seconds 0-10, link_minutes 1-60, link_days >= 1")
    return settings


def _attachments(raw: dict[str, Any]) -> FileSettings:
    settings = _section(raw, "attachments", FileSettings, "")
    if not 1_000 <= settings.max_bytes <= 100_000_000 or not (settings.folder or settings.s3_bucket) \
            or settings.keep_days < 1:  # fmt: skip
        raise ConfigError("attachments: max_bytes 1000-100000000, keep_days >= 1, and a folder or an s3_bucket")
    return settings


def _routing(raw: dict[str, Any], languages: tuple[str, ...]) -> RoutingSettings:
    try:
        return parse_routing(raw.get("routing"), languages)
    except RoutingError as error:
        raise ConfigError(str(error)) from None


def parse_sentinels(text: str) -> tuple[tuple[str, int], ...]:
    """`REDIS_SENTINELS`, "host:port,host:port,...", as (host, port) pairs; "" for none."""
    sentinels = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"REDIS_SENTINELS: {item!r} is not host:port (e.g. 10.0.0.5:26379,10.0.0.6:26379)")
        sentinels.append((host, int(port)))
    return tuple(sentinels)
