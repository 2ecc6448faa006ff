"""A stand-in for Discord's REST API (v10) and Gateway on 127.0.0.1, for running the real discord.py against.

Point discord.py at it with::

    discord.http.Route.BASE = standin.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(standin.gateway_url)

One guild ("ExampleX Community") with two text channels, the bot's role and a default human member. REST
answers are shaped like Discord's (JSON with `Content-Type: application/json`, 429s with `Via` and
`retry_after`, 403/404/400 with Discord's error codes); the Gateway speaks plain-text JSON frames (HELLO,
heartbeat ACKs, READY, GUILD_CREATE, dispatches) to any number of shards. Permissions are computed from the
roles and overwrites the way Discord does, so sending, thread creation and deleting answer 403 when the bot
lacks the permission. Message content is blanked for a shard that did not ask for the MESSAGE_CONTENT intent,
except in DMs and messages that mention the bot, as Discord does.
"""

from __future__ import annotations

import asyncio
import json
import math
import mimetypes
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import WSMsgType, web

from tests.conftest import free_port

BOT_ID = 1100000000000000001
APP_ID = BOT_ID
GUILD_ID = 1200000000000000001
BOT_ROLE_ID = 1200000000000000002
OWNER_ID = 1400000000000000099  # the guild's owner: a human, not the bot
DEFAULT_USER_ID = 1400000000000000001
PUBLIC_CHANNEL = 1300000000000000001
NO_THREADS_CHANNEL = 1300000000000000002

DISCORD_EPOCH_MS = 1420070400000

# permission bits
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
CHANGE_NICKNAME = 1 << 26
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
BOT_ROLE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | SEND_MESSAGES_IN_THREADS
    | CREATE_PRIVATE_THREADS
    | EMBED_LINKS
    | ATTACH_FILES
    | ADD_REACTIONS
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
)

# gateway intents
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15

# application flags: GATEWAY_GUILD_MEMBERS_LIMITED | GATEWAY_MESSAGE_CONTENT_LIMITED (intents switched on, < 100 guilds)
APP_FLAGS = (1 << 15) | (1 << 19)

TEXT, DM, PUBLIC_THREAD, PRIVATE_THREAD = 0, 1, 11, 12
THREAD_TYPES = (PUBLIC_THREAD, PRIVATE_THREAD)

_MENTION = re.compile(r"<@!?(\d{15,20})>")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _user(user_id: int, username: str, *, bot: bool = False) -> dict:
    data = {
        "id": str(user_id),
        "username": username,
        "discriminator": "7381" if bot else "0",
        "global_name": None if bot else username.capitalize(),
        "avatar": None,
        "banner": None,
        "accent_color": None,
        "public_flags": 0,
        "flags": 0,
        "avatar_decoration_data": None,
        "primary_guild": None,
        "collectibles": None,
    }
    if bot:
        data["bot"] = True
    return data


BOT_USER = _user(BOT_ID, "examplex-support", bot=True)


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    shard_id: int = 0
    shard_count: int = 1
    intents: int = 0
    seq: int = 0
    session_id: str | None = None
    ready: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def handles(self, guild_id: int | None) -> bool:
        if not self.ready:
            return False
        if guild_id is None:
            return self.shard_id == 0
        return (guild_id >> 22) % self.shard_count == self.shard_id


class DiscordStandIn:
    def __init__(self, manage_messages: bool = True, *, token: str | None = None) -> None:
        """`manage_messages`: whether the bot's role has Manage Messages. `token`: when set, only that bot token
        is accepted (401 on REST, close code 4004 on the Gateway); otherwise any token is."""
        self.port = free_port()
        self.manage_messages = manage_messages
        self.token = token
        self.calls: list[tuple[str, str, Any]] = []  # (method, path after /api/v10, JSON body or None)
        self.rate_limit_next = 0  # answer this many next create-message calls with 429
        self.max_upload_bytes = 10 * 1024 * 1024  # a message's files together (a server without boosts); over: 413
        self.retry_after = 1.0
        self.forbidden_channels: set[int] = set()  # create-message answers 403 50013 there
        self.closed_dms: set[int] = set()  # users who do not accept DMs: create-message answers 403 50007
        self.echo_bot_messages = True  # dispatch MESSAGE_CREATE for the bot's own messages, as Discord does
        self.identified = threading.Event()
        self.threads: dict[int, dict] = {}
        self.deleted: list[tuple[int, int]] = []
        self.commands: list[dict] = []
        self.guild_commands: dict[int, list[dict]] = {}
        self.shards_identified: list[list[int]] = []
        self.intents_identified: list[int] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._connections: list[_Connection] = []  # touched only on the server loop
        self._sessions: dict[str, tuple[int, int, int]] = {}  # session id -> shard id, shard count, intents
        self._last_snowflake = 0
        self._sent: list[dict] = []
        self._messages: dict[int, dict] = {}  # every message the stand-in knows: pushed, sent, synthesised
        self._responses: dict[str, list[dict]] = {}
        self._interactions: dict[str, dict] = {}  # interaction id -> {"token", "type", "channel_id", ...}
        self._tokens: dict[str, str] = {}  # interaction token -> interaction id
        self._users: dict[int, dict] = {
            BOT_ID: BOT_USER,
            DEFAULT_USER_ID: _user(DEFAULT_USER_ID, "ana"),
            OWNER_ID: _user(OWNER_ID, "examplex-admin"),
        }
        self._joined_at = _now()
        self._members: dict[int, list[int]] = {BOT_ID: [BOT_ROLE_ID], DEFAULT_USER_ID: []}  # user id -> role ids
        self._channels: dict[int, dict] = {
            PUBLIC_CHANNEL: self._text_channel(PUBLIC_CHANNEL, "support", 0, []),
            NO_THREADS_CHANNEL: self._text_channel(
                NO_THREADS_CHANNEL,
                "announcements",
                1,
                [
                    {
                        "id": str(BOT_ROLE_ID),
                        "type": 0,
                        "allow": "0",
                        "deny": str(CREATE_PRIVATE_THREADS | CREATE_PUBLIC_THREADS),
                    }
                ],
            ),
        }
        self._dm_by_user: dict[int, int] = {}
        self.cdn: dict[str, bytes] = {}  # path under /attachments/ -> a user's file, as Discord's CDN serves it
        self.downloads: list[str] = []  # the CDN paths fetched
        self.cdn_refuses = False  # answer 403, as the CDN does for an expired signed URL

    # ---- serving ---------------------------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def start(self) -> DiscordStandIn:
        threading.Thread(target=self._serve, daemon=True, name="discord-standin").start()
        if not self._ready.wait(10):
            raise RuntimeError("the Discord stand-in did not start")
        return self

    def stop(self) -> None:
        """Close every Gateway connection and stop serving."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return

        async def shutdown() -> None:
            for conn in list(self._connections):
                await conn.ws.close(code=1001)
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_get("/attachments/{path:.+}", self._cdn)
        self._runner = web.AppRunner(app)
        loop.run_until_complete(self._runner.setup())
        loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        loop.run_forever()

    # ---- guild model -----------------------------------------------------------------------------------------

    @staticmethod
    def _text_channel(channel_id: int, name: str, position: int, overwrites: list[dict]) -> dict:
        return {
            "id": str(channel_id),
            "type": TEXT,
            "guild_id": str(GUILD_ID),
            "name": name,
            "position": position,
            "permission_overwrites": overwrites,
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
            "default_auto_archive_duration": 1440,
        }

    def _roles(self) -> list[dict]:
        def role(role_id: int, name: str, permissions: int, position: int, **extra: Any) -> dict:
            return {
                "id": str(role_id),
                "name": name,
                "permissions": str(permissions),
                "position": position,
                "color": 0,
                "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                "hoist": False,
                "icon": None,
                "unicode_emoji": None,
                "managed": False,
                "mentionable": False,
                "flags": 0,
                **extra,
            }

        bot_permissions = BOT_ROLE_PERMISSIONS | (MANAGE_MESSAGES if self.manage_messages else 0)
        return [
            role(GUILD_ID, "@everyone", EVERYONE_PERMISSIONS, 0),
            role(BOT_ROLE_ID, "Support Bot", bot_permissions, 1, managed=True, tags={"bot_id": str(BOT_ID)}),
        ]

    def _member(self, user_id: int, *, with_user: bool = True) -> dict:
        data = {
            "roles": [str(r) for r in self._members.get(user_id, [])],
            "joined_at": self._joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "banner": None,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self._users[user_id]
        return data

    def _guild(self) -> dict:
        with self._lock:
            members = [self._member(uid) for uid in self._members]
            channels = [
                {k: v for k, v in c.items() if k != "guild_id"} for c in self._channels.values() if c["type"] == TEXT
            ]
            threads = [dict(c) for c in self._channels.values() if c["type"] in THREAD_TYPES]
        return {
            "id": str(GUILD_ID),
            "name": "ExampleX Community",
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(OWNER_ID),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "roles": self._roles(),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "nsfw_level": 0,
            "application_id": None,
            "system_channel_id": str(PUBLIC_CHANNEL),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "incidents_data": None,
            "hub_type": None,
            "lazy": True,
            "joined_at": self._joined_at,
            "large": False,
            "unavailable": False,
            # as many members as listed, so discord.py considers the guild chunked and asks for no chunks
            "member_count": len(members),
            "members": members,
            "channels": channels,
            "threads": threads,
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "embedded_activities": [],
        }

    def _permissions(self, user_id: int, channel_id: int) -> int:
        """What `user_id` may do in a guild channel or thread, computed as Discord does (threads use their
        parent's overwrites). Call with the lock held."""
        channel = self._channels.get(channel_id)
        if channel is not None and channel["type"] in THREAD_TYPES:
            channel = self._channels.get(int(channel["parent_id"]))
        if user_id == OWNER_ID:
            return ALL_PERMISSIONS
        roles = {int(r["id"]): int(r["permissions"]) for r in self._roles()}
        member_roles = self._members.get(user_id, [])
        base = roles[GUILD_ID]
        for role_id in member_roles:
            base |= roles.get(role_id, 0)
        if base & ADMINISTRATOR:
            return ALL_PERMISSIONS
        if channel is None:
            return base
        overwrites = {int(o["id"]): (int(o["allow"]), int(o["deny"])) for o in channel["permission_overwrites"]}
        allow, deny = overwrites.get(GUILD_ID, (0, 0))
        base = (base & ~deny) | allow
        allow = deny = 0
        for role_id in member_roles:
            role_allow, role_deny = overwrites.get(role_id, (0, 0))
            allow, deny = allow | role_allow, deny | role_deny
        base = (base & ~deny) | allow
        allow, deny = overwrites.get(user_id, (0, 0))
        base = (base & ~deny) | allow
        return base if base & VIEW_CHANNEL else 0

    def _ensure_user(self, user_id: int, username: str | None = None) -> dict:
        """Call with the lock held."""
        user = self._users.get(user_id)
        if user is None or (username is not None and user["username"] != username):
            user = self._users[user_id] = _user(user_id, username or f"user{str(user_id)[-4:]}")
        return user

    def _dm_channel_locked(self, user_id: int) -> dict:
        channel_id = self._dm_by_user.get(user_id)
        if channel_id is None:
            channel_id = self._dm_by_user[user_id] = self._snowflake_locked()
            self._channels[channel_id] = {
                "id": str(channel_id),
                "type": DM,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self._ensure_user(user_id)],
            }
        return self._channels[channel_id]

    def _snowflake_locked(self) -> int:
        value = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22 | (1 << 17)
        self._last_snowflake = max(value, self._last_snowflake + 1)
        return self._last_snowflake

    def _is_dm(self, channel_id: int) -> bool:
        channel = self._channels.get(channel_id)
        return channel is not None and channel["type"] == DM

    # ---- public helpers for tests ----------------------------------------------------------------------------

    def dm_channel(self, user_id: int) -> int:
        """The DM channel between the bot and `user_id` (the one `POST /users/@me/channels` answers)."""
        with self._lock:
            return int(self._dm_channel_locked(int(user_id))["id"])

    def push_message(
        self,
        channel_id: int,
        content: str,
        user_id: int = DEFAULT_USER_ID,
        *,
        mention_bot: bool = False,
        reply_to_bot: bool | int = False,
        reply_ping: bool = True,
        username: str = "ana",
        guild: bool | None = None,
        files: tuple[tuple[str, bytes], ...] = (),
    ) -> int:
        """A human's message arrives (MESSAGE_CREATE); returns its id.

        `reply_to_bot`: True replies to the bot's latest message in the channel (one is made up when there is
        none), an int replies to that message. Replies ping the author by default (`reply_ping`), which puts
        the bot in `mentions` as Discord does. `guild` None: DM channels are DMs, any other channel is a guild
        channel (an unknown channel id becomes a guild text channel)."""
        channel_id, user_id = int(channel_id), int(user_id)
        with self._lock:
            author = self._ensure_user(user_id, username)
            if guild is None:
                guild = not self._is_dm(channel_id)
            if channel_id not in self._channels:
                if guild:
                    self._channels[channel_id] = self._text_channel(channel_id, f"channel-{channel_id}", 9, [])
                else:
                    self._channels[channel_id] = {
                        "id": str(channel_id),
                        "type": DM,
                        "last_message_id": None,
                        "flags": 0,
                        "recipients": [author],
                    }
                    self._dm_by_user.setdefault(user_id, channel_id)
            if guild:
                self._members.setdefault(user_id, [])
            message_id = self._snowflake_locked()
            mentions: list[dict] = []
            if mention_bot:
                content = f"<@{BOT_ID}> {content}"
            for match in dict.fromkeys(int(m) for m in _MENTION.findall(content)):
                if match in self._users:
                    mentions.append(self._mention(match, guild))
            message = self._message_payload(message_id, channel_id, author, content, guild=guild)
            message["attachments"] = [self._user_attachment_locked(channel_id, name, data) for name, data in files]
            if guild:
                message["member"] = self._member(user_id, with_user=False)
            if reply_to_bot is not False:
                referenced = self._bot_message_to_reply(channel_id, reply_to_bot, guild)
                message["type"] = 19
                message["message_reference"] = {
                    "type": 0,
                    "message_id": referenced["id"],
                    "channel_id": str(channel_id),
                    **({"guild_id": str(GUILD_ID)} if guild else {}),
                }
                message["referenced_message"] = referenced
                if reply_ping and not any(int(m["id"]) == BOT_ID for m in mentions):
                    mentions.append(self._mention(BOT_ID, guild))
            message["mentions"] = mentions
            self._store_message(message)
        self._dispatch_from_thread("MESSAGE_CREATE", message, GUILD_ID if guild else None)
        return message_id

    def _user_attachment_locked(self, channel_id: int, name: str, data: bytes) -> dict:
        """A user's attachment as Discord sends it: a signed CDN URL with its id and name."""
        attachment_id = self._snowflake_locked()
        path = f"{channel_id}/{attachment_id}/{name}"
        self.cdn[path] = data
        url = f"http://127.0.0.1:{self.port}/attachments/{path}?ex=67a1b2c3&is=67a06143&hm={secrets.token_hex(16)}"
        return {"id": str(attachment_id), "filename": name, "size": len(data), "url": url, "proxy_url": url,
                "content_type": mimetypes.guess_type(name)[0] or "application/octet-stream"}  # fmt: skip

    async def _cdn(self, request: web.Request) -> web.Response:
        """`GET /attachments/<channel>/<attachment>/<name>`: a user's file, or 404 as the CDN answers."""
        path = request.match_info["path"]
        with self._lock:
            self.downloads.append(path)
            data = self.cdn.get(path)
        if self.cdn_refuses:
            return web.Response(status=403, text="This content is no longer available.")
        if data is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=data, content_type="application/octet-stream")

    def redeliver(self, message_id: int) -> None:
        """The same MESSAGE_CREATE again, as Discord replays events after a gateway resume."""
        with self._lock:
            message = self._messages[int(message_id)]
        guild = not self._is_dm(int(message["channel_id"]))
        self._dispatch_from_thread("MESSAGE_CREATE", message, GUILD_ID if guild else None)

    def push_member_join(self, user_id: int, username: str, global_name: str | None = None) -> None:
        """A new member joins the guild: GUILD_MEMBER_ADD (the client must have the members intent)."""
        with self._lock:
            user = {**_user(user_id, username), "global_name": global_name}
            self._users[user_id] = user
            self._members[user_id] = []
            member = {**self._member(user_id), "guild_id": str(GUILD_ID)}
        self._dispatch_from_thread("GUILD_MEMBER_ADD", member, GUILD_ID)

    def push_command(
        self,
        name: str,
        options: dict[str, str],
        channel_id: int,
        user_id: int = DEFAULT_USER_ID,
        locale: str = "en-US",
    ) -> str:
        """A user runs the global slash command `name` with string options (INTERACTION_CREATE type 2);
        returns the interaction id."""
        channel_id, user_id = int(channel_id), int(user_id)
        with self._lock:
            command = next((c for c in self.commands if c["name"] == name), None)
            data = {
                "id": command["id"] if command else str(self._snowflake_locked()),
                "name": name,
                "type": 1,
                "options": [{"name": k, "type": 3, "value": v} for k, v in options.items()],
            }
            payload = self._interaction_payload(2, data, channel_id, user_id, locale)
        self._dispatch_from_thread("INTERACTION_CREATE", payload, None if self._is_dm(channel_id) else GUILD_ID)
        return payload["id"]

    def push_button(
        self,
        custom_id: str,
        channel_id: int,
        message_id: int,
        user_id: int = DEFAULT_USER_ID,
        locale: str = "en-US",
    ) -> str:
        """A user presses the button `custom_id` under the bot's message `message_id` (INTERACTION_CREATE
        type 3); returns the interaction id."""
        channel_id, message_id, user_id = int(channel_id), int(message_id), int(user_id)
        with self._lock:
            message = self._messages.get(message_id)
            if message is None:  # a message sent before the stand-in knew of it: make one up
                message = self._message_payload(message_id, channel_id, BOT_USER, "", guild=not self._is_dm(channel_id))
                message["components"] = [
                    {"type": 1, "id": 1, "components": [{"type": 2, "id": 2, "style": 1, "custom_id": custom_id}]}
                ]
                self._store_message(message)
            data = {"custom_id": custom_id, "component_type": 2}
            for row in message.get("components", []):
                for component in row.get("components", []):
                    if component.get("custom_id") == custom_id and "id" in component:
                        data["id"] = component["id"]
            payload = self._interaction_payload(
                3, data, channel_id, user_id, locale, message=json.loads(json.dumps(message))
            )
        self._dispatch_from_thread("INTERACTION_CREATE", payload, None if self._is_dm(channel_id) else GUILD_ID)
        return payload["id"]

    def reconnect(self) -> None:
        """Ask every connected shard to reconnect and resume (op 7 RECONNECT)."""
        loop = self._loop
        assert loop is not None

        async def send() -> None:
            for conn in list(self._connections):
                await self._send(conn, {"op": 7, "d": None})

        asyncio.run_coroutine_threadsafe(send(), loop).result(10)

    def sent(self, channel_id: int | None = None) -> list[dict]:
        """Bodies of the messages the bot created, each with its new "id" and "channel_id"."""
        with self._lock:
            return [dict(m) for m in self._sent if channel_id is None or int(m["channel_id"]) == int(channel_id)]

    def wait_sent(self, channel_id: int, count: int = 1, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sent(channel_id)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.sent(channel_id)

    def responses(self, interaction_id: str) -> list[dict]:
        """Callbacks, follow-ups and edits of @original for an interaction, in order, each with "kind"."""
        with self._lock:
            return [dict(r) for r in self._responses.get(str(interaction_id), [])]

    def wait_responses(self, interaction_id: str, count: int = 1, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.responses(interaction_id)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.responses(interaction_id)

    # ---- payload builders (lock held) ------------------------------------------------------------------------

    def _mention(self, user_id: int, guild: bool) -> dict:
        data = dict(self._users[user_id])
        if guild and user_id in self._members:
            data["member"] = self._member(user_id, with_user=False)
        return data

    def _message_payload(self, message_id: int, channel_id: int, author: dict, content: str, *, guild: bool) -> dict:
        data = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": author,
            "content": content,
            "timestamp": _now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        if guild:
            data["guild_id"] = str(GUILD_ID)
        return data

    def _store_message(self, message: dict) -> None:
        self._messages[int(message["id"])] = message
        channel = self._channels.get(int(message["channel_id"]))
        if channel is not None:
            channel["last_message_id"] = message["id"]
            if channel["type"] in THREAD_TYPES:
                channel["message_count"] += 1
                channel["total_message_sent"] += 1

    def _bot_message_to_reply(self, channel_id: int, which: bool | int, guild: bool) -> dict:
        if which is True:
            found = [
                m
                for m in self._messages.values()
                if int(m["author"]["id"]) == BOT_ID and int(m["channel_id"]) == channel_id
            ]
            message = found[-1] if found else None
        else:
            message = self._messages.get(int(which))
        if message is None:
            message = self._message_payload(
                self._snowflake_locked(), channel_id, BOT_USER, "Earlier answer.", guild=guild
            )
            self._store_message(message)
        return {k: v for k, v in json.loads(json.dumps(message)).items() if k != "referenced_message"}

    def _interaction_payload(
        self, kind: int, data: dict, channel_id: int, user_id: int, locale: str, *, message: dict | None = None
    ) -> dict:
        interaction_id = str(self._snowflake_locked())
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        dm = self._is_dm(channel_id)
        if not dm and channel_id not in self._channels:
            self._channels[channel_id] = self._text_channel(channel_id, f"channel-{channel_id}", 9, [])
        channel = self._channels[channel_id]
        user = self._ensure_user(user_id)
        payload: dict[str, Any] = {
            "id": interaction_id,
            "application_id": str(APP_ID),
            "type": kind,
            "token": token,
            "version": 1,
            "data": data,
            "channel_id": str(channel_id),
            "channel": dict(channel),
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if dm:
            payload["user"] = user
            payload["context"] = 1
            payload["authorizing_integration_owners"] = {"0": str(GUILD_ID)}
            payload["app_permissions"] = str(
                VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY | ADD_REACTIONS
            )
        else:
            self._members.setdefault(user_id, [])
            payload["guild_id"] = str(GUILD_ID)
            payload["guild"] = {"id": str(GUILD_ID), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["context"] = 0
            payload["authorizing_integration_owners"] = {"0": str(GUILD_ID)}
            member = self._member(user_id)
            member["permissions"] = str(self._permissions(user_id, channel_id))
            payload["member"] = member
            payload["app_permissions"] = str(self._permissions(BOT_ID, channel_id))
        if message is not None:
            payload["message"] = message
        self._interactions[interaction_id] = {
            "token": token,
            "type": kind,
            "channel_id": channel_id,
            "guild": not dm,
            "user": user,
            "acknowledged": False,
            "original": message if kind == 3 else None,  # components: @original is the message the button is on
            "component_message": message,
        }
        self._tokens[token] = interaction_id
        self._responses[interaction_id] = []
        return payload

    # ---- gateway ---------------------------------------------------------------------------------------------

    async def _send(self, conn: _Connection, payload: dict) -> None:
        async with conn.lock:
            if payload.get("op") == 0:
                conn.seq += 1
                payload = {**payload, "s": conn.seq}
            elif "s" not in payload:
                payload = {**payload, "s": None, "t": None}
            if not conn.ws.closed:
                await conn.ws.send_str(json.dumps(payload))

    def _visible(self, conn: _Connection, event: str, data: dict) -> dict | None:
        """What `conn` receives of a dispatch, given the intents it identified with; None: nothing."""
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"):
            return data
        dm = "guild_id" not in data
        if not conn.intents & (INTENT_DIRECT_MESSAGES if dm else INTENT_GUILD_MESSAGES):
            return None
        if event == "MESSAGE_DELETE" or conn.intents & INTENT_MESSAGE_CONTENT or dm:
            return data
        if int(data.get("author", {}).get("id", 0)) == BOT_ID:
            return data
        if any(int(m["id"]) == BOT_ID for m in data.get("mentions", [])):
            return data
        return {**data, "content": "", "embeds": [], "attachments": [], "components": []}

    async def _dispatch(self, event: str, data: dict, guild_id: int | None) -> int:
        delivered = 0
        for conn in list(self._connections):
            if not conn.handles(guild_id):
                continue
            visible = self._visible(conn, event, data)
            if visible is not None:
                await self._send(conn, {"op": 0, "t": event, "d": visible})
                delivered += 1
        return delivered

    def _dispatch_from_thread(self, event: str, data: dict, guild_id: int | None) -> None:
        loop = self._loop
        if loop is None:
            raise RuntimeError("the Discord stand-in is not started")

        async def go() -> int:
            if not any(c.handles(guild_id) for c in self._connections):
                return -1
            return await self._dispatch(event, data, guild_id)

        if asyncio.run_coroutine_threadsafe(go(), loop).result(10) < 0:
            raise RuntimeError(f"no Gateway connection to deliver {event} to (has the client IDENTIFYed?)")

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.append(conn)
        try:
            await self._send(conn, {"op": 10, "d": {"heartbeat_interval": 41250, "_trace": ['["gateway-standin"]']}})
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                payload = json.loads(msg.data)
                op, data = payload.get("op"), payload.get("d")
                if op == 1:
                    await self._send(conn, {"op": 11})
                elif op == 2:
                    await self._identify(conn, data)
                elif op == 6:
                    await self._resume(conn, data)
                elif op == 8:
                    await self._member_chunk(conn, data)
        finally:
            self._connections.remove(conn)
        return ws

    async def _identify(self, conn: _Connection, data: dict) -> None:
        if self.token is not None and data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard = data.get("shard") or [0, 1]
        if not 0 <= shard[0] < shard[1]:
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        conn.shard_id, conn.shard_count = shard
        conn.intents = int(data.get("intents", 0))
        conn.session_id = secrets.token_hex(16)
        self._sessions[conn.session_id] = (conn.shard_id, conn.shard_count, conn.intents)
        with self._lock:
            self.shards_identified.append(list(shard))
            self.intents_identified.append(conn.intents)
        mine = (GUILD_ID >> 22) % conn.shard_count == conn.shard_id
        ready = {
            "v": 10,
            "user": {**BOT_USER, "verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"},
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}] if mine else [],
            "session_id": conn.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APP_ID), "flags": APP_FLAGS},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["local"],
            "user_settings": {},
            "auth": {},
            "_trace": ['["gateway-standin"]'],
        }
        if "shard" in data:
            ready["shard"] = list(shard)
        await self._send(conn, {"op": 0, "t": "READY", "d": ready})
        if mine and conn.intents & INTENT_GUILDS:
            await self._send(conn, {"op": 0, "t": "GUILD_CREATE", "d": self._guild()})
        conn.ready = True
        self.identified.set()

    async def _resume(self, conn: _Connection, data: dict) -> None:
        session = self._sessions.get(data.get("session_id") or "")
        if session is None:
            await self._send(conn, {"op": 9, "d": False})  # invalid session: identify afresh
            return
        conn.shard_id, conn.shard_count, conn.intents = session
        conn.session_id = data["session_id"]
        conn.seq = int(data.get("seq") or 0)
        conn.ready = True
        await self._send(conn, {"op": 0, "t": "RESUMED", "d": {"_trace": ['["gateway-standin"]']}})

    async def _member_chunk(self, conn: _Connection, data: dict) -> None:
        with self._lock:
            members = [self._member(uid) for uid in self._members]
        chunk = {
            "guild_id": str(GUILD_ID),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._send(conn, {"op": 0, "t": "GUILD_MEMBERS_CHUNK", "d": chunk})

    # ---- REST ------------------------------------------------------------------------------------------------

    @staticmethod
    def _json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(
            body=json.dumps(data).encode(),
            status=status,
            content_type="application/json",
            headers={"Via": "1.1 google", **(headers or {})},
        )

    @staticmethod
    def _no_content() -> web.Response:
        return web.Response(status=204, headers={"Via": "1.1 google"})

    def _error(self, status: int, message: str, code: int, errors: dict | None = None) -> web.Response:
        body: dict[str, Any] = {"message": message, "code": code}
        if errors is not None:
            body["errors"] = errors
        return self._json(body, status)

    def _invalid_form(self, errors: dict) -> web.Response:
        return self._error(400, "Invalid Form Body", 50035, errors)

    async def _body(self, request: web.Request) -> dict | list | None:
        if request.content_type == "application/json":
            raw = await request.read()
            return json.loads(raw) if raw else None
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            body = json.loads(str(form["payload_json"])) if "payload_json" in form else {}
            files = []  # files[n] parts, as discord.py uploads them: their field, name and bytes
            for name, part in form.items():
                if isinstance(part, web.FileField):
                    data = part.file.read()
                    files.append({"field": name, "filename": part.filename, "size": len(data), "data": data})
            if files:
                body["_files"] = files
            return body
        return None

    _ROUTES: list[tuple[str, re.Pattern[str], str]] = [
        (method, re.compile(f"^{pattern}$"), handler)
        for method, pattern, handler in [
            ("GET", r"/gateway(?:/bot)?", "_get_gateway"),
            ("GET", r"/users/@me", "_get_me"),
            ("GET", r"/users/(?P<user_id>\d+)", "_get_user"),
            ("POST", r"/users/@me/channels", "_create_dm"),
            ("GET", r"/(?:oauth2/)?applications/@me", "_get_application"),
            ("GET", r"/applications/(?P<app_id>\d+)/commands", "_get_commands"),
            ("PUT", r"/applications/(?P<app_id>\d+)/commands", "_put_commands"),
            ("GET", r"/applications/(?P<app_id>\d+)/guilds/(?P<guild_id>\d+)/commands", "_get_commands"),
            ("PUT", r"/applications/(?P<app_id>\d+)/guilds/(?P<guild_id>\d+)/commands", "_put_commands"),
            ("GET", r"/channels/(?P<channel_id>\d+)", "_get_channel"),
            ("POST", r"/channels/(?P<channel_id>\d+)/messages", "_create_message"),
            ("GET", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)", "_get_message"),
            ("PATCH", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)", "_edit_message"),
            ("DELETE", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)", "_delete_message"),
            ("PUT", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)/reactions/[^/]+/@me", "_react"),
            ("DELETE", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)/reactions/[^/]+/@me", "_react"),
            ("POST", r"/channels/(?P<channel_id>\d+)/typing", "_typing"),
            ("POST", r"/channels/(?P<channel_id>\d+)/threads", "_create_thread"),
            ("PUT", r"/channels/(?P<channel_id>\d+)/thread-members/(?P<user_id>\d+|@me)", "_add_thread_member"),
            ("GET", r"/guilds/(?P<guild_id>\d+)", "_get_guild"),
            ("GET", r"/guilds/(?P<guild_id>\d+)/channels", "_get_guild_channels"),
            ("GET", r"/guilds/(?P<guild_id>\d+)/members/(?P<user_id>\d+)", "_get_member"),
            ("POST", r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback", "_callback"),
            ("POST", r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)", "_followup"),
            ("GET", r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)/messages/(?P<message_id>\d+|@original)", "_wh_get"),
            ("PATCH", r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)/messages/(?P<message_id>\d+|@original)", "_wh_edit"),
            (
                "DELETE",
                r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)/messages/(?P<message_id>\d+|@original)",
                "_wh_delete",
            ),
        ]
    ]

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body = await self._body(request)
        with self._lock:
            index = len(self.calls)
            self.calls.append((request.method, path, body))
        response = await self._route(request, path, body)
        if response.status >= 400:
            with self._lock:
                self.calls[index] = (f"{request.method}:{response.status}", path, body)
        return response

    async def _route(self, request: web.Request, path: str, body: Any) -> web.Response:
        for method, pattern, handler in self._ROUTES:
            match = pattern.match(path)
            if match is None or method != request.method:
                continue
            if not path.startswith(("/webhooks/", "/interactions/")):
                auth = request.headers.get("Authorization", "")
                if not auth.startswith("Bot ") or (self.token is not None and auth != f"Bot {self.token}"):
                    return self._error(401, "401: Unauthorized", 0)
            return await getattr(self, handler)(request, body, **match.groupdict())
        if any(p.match(path) for _, p, _ in self._ROUTES):
            return self._error(405, "405: Method Not Allowed", 0)
        return self._error(404, "404: Not Found", 0)

    async def _get_gateway(self, request: web.Request, body: Any) -> web.Response:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return self._json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _get_me(self, request: web.Request, body: Any) -> web.Response:
        return self._json({**BOT_USER, "verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"})

    async def _get_user(self, request: web.Request, body: Any, user_id: str) -> web.Response:
        with self._lock:
            user = self._users.get(int(user_id))
        return self._json(user) if user else self._error(404, "Unknown User", 10013)

    async def _create_dm(self, request: web.Request, body: Any) -> web.Response:
        recipient = int((body or {}).get("recipient_id", 0))
        if not recipient:
            return self._invalid_form({"recipient_id": {"_errors": [{"code": "BASE_TYPE_REQUIRED"}]}})
        with self._lock:
            channel = dict(self._dm_channel_locked(recipient))
        return self._json(channel)

    async def _get_application(self, request: web.Request, body: Any) -> web.Response:
        with self._lock:
            owner = self._users[OWNER_ID]
        return self._json(
            {
                "id": str(APP_ID),
                "name": "ExampleX Support",
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": APP_FLAGS,
                "owner": owner,
                "team": None,
                "bot": BOT_USER,
                "rpc_origins": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "tags": [],
                "install_params": None,
                "integration_types_config": {"0": {}},
                "approximate_guild_count": 1,
                "hook": True,
                "is_monetized": False,
            }
        )

    async def _get_commands(
        self, request: web.Request, body: Any, app_id: str, guild_id: str | None = None
    ) -> web.Response:
        with self._lock:
            stored = self.guild_commands.get(int(guild_id), []) if guild_id else self.commands
            return self._json(list(stored))

    async def _put_commands(
        self, request: web.Request, body: Any, app_id: str, guild_id: str | None = None
    ) -> web.Response:
        if int(app_id) != APP_ID:
            return self._error(403, "Missing Access", 50001)
        if not isinstance(body, list):
            return self._invalid_form({"_errors": [{"code": "BASE_TYPE_ARRAY", "message": "Must be an array."}]})
        with self._lock:
            previous = {
                c["name"]: c["id"] for c in (self.guild_commands.get(int(guild_id), []) if guild_id else self.commands)
            }
            stored = []
            for command in body:
                entry = {
                    "type": 1,
                    "description": "",
                    "options": [],
                    "default_member_permissions": None,
                    "nsfw": False,
                    "integration_types": [0],
                    "contexts": None,
                    **command,
                    "id": previous.get(command["name"]) or str(self._snowflake_locked()),
                    "application_id": str(APP_ID),
                    "version": str(self._snowflake_locked()),
                }
                if guild_id:
                    entry["guild_id"] = guild_id
                stored.append(entry)
            if guild_id:
                self.guild_commands[int(guild_id)] = stored
            else:
                self.commands = stored
            return self._json(stored)

    async def _get_channel(self, request: web.Request, body: Any, channel_id: str) -> web.Response:
        with self._lock:
            channel = self._channels.get(int(channel_id))
            return self._json(dict(channel)) if channel else self._error(404, "Unknown Channel", 10003)

    def _validate_message(self, body: dict) -> dict | None:
        """Discord's limits on a message body: the "errors" of a 400 50035, or None."""
        errors: dict[str, Any] = {}
        content = body.get("content")
        if content is not None and len(str(content)) > 2000:
            errors["content"] = {
                "_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]
            }
        rows = body.get("components") or []
        if len(rows) > 5 and not body.get("flags", 0) & (1 << 15):
            errors["components"] = {
                "_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 5 or fewer in length."}]
            }
        for r, row in enumerate(rows):
            for c, component in enumerate(row.get("components", [])):
                problems = {}
                if len(str(component.get("custom_id", ""))) > 100:
                    problems["custom_id"] = {
                        "_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 100 or fewer in length."}]
                    }
                if len(str(component.get("label", ""))) > 80:
                    problems["label"] = {
                        "_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 80 or fewer in length."}]
                    }
                if problems:
                    errors.setdefault("components", {}).setdefault(str(r), {"components": {}})["components"][str(c)] = (
                        problems
                    )
        for e, embed in enumerate(body.get("embeds") or []):
            if len(str(embed.get("description", ""))) > 4096:
                errors.setdefault("embeds", {})[str(e)] = {
                    "description": {
                        "_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 4096 or fewer in length."}]
                    }
                }
        return errors or None

    @staticmethod
    def _number_components(components: list[dict]) -> list[dict]:
        """The components as Discord echoes them: each with a numeric "id"."""
        counter = 0

        def number(items: list[dict]) -> list[dict]:
            nonlocal counter
            out = []
            for item in items:
                counter += 1
                item = {**item, "id": item.get("id", counter)}
                if "components" in item:
                    item["components"] = number(item["components"])
                out.append(item)
            return out

        return number(json.loads(json.dumps(components)))

    def _bot_message(self, channel_id: int, body: dict, *, guild: bool) -> dict:
        """A message authored by the bot, built from a create-message body (lock held)."""
        message = self._message_payload(
            self._snowflake_locked(), channel_id, BOT_USER, str(body.get("content") or ""), guild=guild
        )
        message["embeds"] = [{"type": "rich", **e} for e in body.get("embeds") or []]
        message["components"] = self._number_components(body.get("components") or [])
        message["flags"] = int(body.get("flags") or 0)
        message["tts"] = bool(body.get("tts", False))
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        message["mentions"] = [
            self._mention(uid, guild)
            for uid in dict.fromkeys(int(m) for m in _MENTION.findall(message["content"]))
            if uid in self._users
        ]
        message["attachments"] = [
            {
                "id": str(self._snowflake_locked()),
                "filename": a.get("filename", "file"),
                "size": next((f["size"] for f in body.get("_files", []) if f["filename"] == a.get("filename")), 0),
                "url": f"http://127.0.0.1:{self.port}/attachments/{channel_id}/{a.get('filename', 'file')}",
                "proxy_url": f"http://127.0.0.1:{self.port}/attachments/{channel_id}/{a.get('filename', 'file')}",
                "content_type": "application/octet-stream",
            }
            for a in body.get("attachments") or []
        ]
        return message

    async def _create_message(self, request: web.Request, body: Any, channel_id: str) -> web.Response:
        cid = int(channel_id)
        body = body if isinstance(body, dict) else {}
        with self._lock:
            if self.rate_limit_next:
                self.rate_limit_next -= 1
                retry_after = float(self.retry_after)
                rate_limited = True
            else:
                rate_limited = False
        if rate_limited:
            return self._json(
                {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
                429,
                {
                    "Retry-After": str(math.ceil(retry_after)),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "X-RateLimit-Bucket": f"create-message-{cid}",
                    "X-RateLimit-Scope": "user",
                },
            )
        with self._lock:
            channel = self._channels.get(cid)
            if channel is None:
                return self._error(404, "Unknown Channel", 10003)
            dm = channel["type"] == DM
            if dm and int(channel["recipients"][0]["id"]) in self.closed_dms:
                return self._error(403, "Cannot send messages to this user", 50007)
            if not dm:
                needed = SEND_MESSAGES_IN_THREADS if channel["type"] in THREAD_TYPES else SEND_MESSAGES
                if cid in self.forbidden_channels or not self._permissions(BOT_ID, cid) & needed:
                    return self._error(403, "Missing Permissions", 50013)
            elif cid in self.forbidden_channels:
                return self._error(403, "Missing Permissions", 50013)
            if sum(f["size"] for f in body.get("_files", [])) > self.max_upload_bytes:
                return self._error(413, "Request entity too large", 40005)
            if not (body.get("content") or body.get("embeds") or body.get("components") or body.get("attachments")):
                return self._error(400, "Cannot send an empty message", 50006)
            errors = self._validate_message(body)
            if errors:
                return self._invalid_form(errors)
            message = self._bot_message(cid, body, guild=not dm)
            reference = body.get("message_reference")
            if reference and reference.get("message_id"):
                referenced = self._messages.get(int(reference["message_id"]))
                if referenced is None:
                    if reference.get("fail_if_not_exists", True):
                        return self._invalid_form(
                            {
                                "message_reference": {
                                    "_errors": [
                                        {"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}
                                    ]
                                }
                            }
                        )
                else:
                    message["type"] = 19
                    message["message_reference"] = {
                        "type": 0,
                        "message_id": referenced["id"],
                        "channel_id": referenced["channel_id"],
                        **({"guild_id": referenced["guild_id"]} if "guild_id" in referenced else {}),
                    }
                    message["referenced_message"] = {k: v for k, v in referenced.items() if k != "referenced_message"}
            self._store_message(message)
            self._sent.append({**body, "id": message["id"], "channel_id": str(cid)})
            echo = dict(message)
            if not dm:
                echo["member"] = self._member(BOT_ID, with_user=False)
        if self.echo_bot_messages:
            await self._dispatch("MESSAGE_CREATE", echo, None if dm else GUILD_ID)
        return self._json(
            message,
            headers={
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "4",
                "X-RateLimit-Reset": f"{time.time() + 5:.3f}",
                "X-RateLimit-Reset-After": "5.000",
                "X-RateLimit-Bucket": f"create-message-{cid}",
            },
        )

    async def _get_message(self, request: web.Request, body: Any, channel_id: str, message_id: str) -> web.Response:
        with self._lock:
            message = self._messages.get(int(message_id))
            if message is None or int(message["channel_id"]) != int(channel_id):
                return self._error(404, "Unknown Message", 10008)
            return self._json(message)

    async def _edit_message(self, request: web.Request, body: Any, channel_id: str, message_id: str) -> web.Response:
        body = body if isinstance(body, dict) else {}
        with self._lock:
            message = self._messages.get(int(message_id))
            if message is None or int(message["channel_id"]) != int(channel_id):
                return self._error(404, "Unknown Message", 10008)
            if int(message["author"]["id"]) != BOT_ID:
                return self._error(403, "Cannot edit a message authored by another user", 50005)
            errors = self._validate_message(body)
            if errors:
                return self._invalid_form(errors)
            self._apply_edit(message, body)
            updated = dict(message)
        await self._dispatch("MESSAGE_UPDATE", updated, GUILD_ID if "guild_id" in updated else None)
        return self._json(updated)

    def _apply_edit(self, message: dict, body: dict) -> None:
        if "content" in body:
            message["content"] = body["content"] or ""
        if "embeds" in body:
            message["embeds"] = [{"type": "rich", **e} for e in body["embeds"] or []]
        if "components" in body:
            message["components"] = self._number_components(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            message["flags"] = int(body["flags"])
        message["flags"] &= ~(1 << 7)  # no longer "thinking"
        message["edited_timestamp"] = _now()

    async def _delete_message(self, request: web.Request, body: Any, channel_id: str, message_id: str) -> web.Response:
        cid, mid = int(channel_id), int(message_id)
        with self._lock:
            message = self._messages.get(mid)
            if message is None or int(message["channel_id"]) != cid:
                return self._error(404, "Unknown Message", 10008)
            if int(message["author"]["id"]) != BOT_ID:
                if self._is_dm(cid):
                    return self._error(403, "Cannot execute action on a DM channel", 50003)
                if not self._permissions(BOT_ID, cid) & MANAGE_MESSAGES:
                    return self._error(403, "Missing Permissions", 50013)
            del self._messages[mid]
            self.deleted.append((cid, mid))
            guild = "guild_id" in message
        event = {"id": str(mid), "channel_id": str(cid), **({"guild_id": str(GUILD_ID)} if guild else {})}
        await self._dispatch("MESSAGE_DELETE", event, GUILD_ID if guild else None)
        return self._no_content()

    async def _react(self, request: web.Request, body: Any, channel_id: str, message_id: str) -> web.Response:
        with self._lock:
            if int(message_id) not in self._messages:
                return self._error(404, "Unknown Message", 10008)
        return self._no_content()

    async def _typing(self, request: web.Request, body: Any, channel_id: str) -> web.Response:
        with self._lock:
            if int(channel_id) not in self._channels:
                return self._error(404, "Unknown Channel", 10003)
        return self._no_content()

    async def _create_thread(self, request: web.Request, body: Any, channel_id: str) -> web.Response:
        cid = int(channel_id)
        body = body if isinstance(body, dict) else {}
        kind = int(body.get("type") or PRIVATE_THREAD)
        with self._lock:
            parent = self._channels.get(cid)
            if parent is None:
                return self._error(404, "Unknown Channel", 10003)
            if parent["type"] != TEXT or kind not in THREAD_TYPES:
                return self._error(400, "Cannot execute action on this channel type", 50024)
            needed = CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else CREATE_PUBLIC_THREADS
            if not self._permissions(BOT_ID, cid) & needed:
                return self._error(403, "Missing Permissions", 50013)
            name = str(body.get("name") or "")
            if not 1 <= len(name) <= 100:
                return self._invalid_form(
                    {"name": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be between 1 and 100."}]}}
                )
            thread_id = self._snowflake_locked()
            now = _now()
            thread = {
                "id": str(thread_id),
                "type": kind,
                "guild_id": str(GUILD_ID),
                "parent_id": str(cid),
                "owner_id": str(BOT_ID),
                "name": name,
                "last_message_id": None,
                "rate_limit_per_user": body.get("rate_limit_per_user") or 0,
                "flags": 0,
                "permission_overwrites": [],
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": int(body.get("auto_archive_duration") or 4320),
                    "archive_timestamp": now,
                    "locked": False,
                    "invitable": bool(body.get("invitable", True)) if kind == PRIVATE_THREAD else True,
                    "create_timestamp": now,
                },
                "member_count": 1,
                "message_count": 0,
                "total_message_sent": 0,
                "member": {"id": str(thread_id), "user_id": str(BOT_ID), "join_timestamp": now, "flags": 1},
            }
            self._channels[thread_id] = thread
            self.threads[thread_id] = {"parent_id": cid, "name": name, "type": kind, "members": set()}
            answer = dict(thread)
        await self._dispatch("THREAD_CREATE", {**answer, "newly_created": True}, GUILD_ID)
        return self._json(answer, 201)

    async def _add_thread_member(self, request: web.Request, body: Any, channel_id: str, user_id: str) -> web.Response:
        tid = int(channel_id)
        uid = BOT_ID if user_id == "@me" else int(user_id)
        with self._lock:
            thread = self._channels.get(tid)
            if thread is None:
                return self._error(404, "Unknown Channel", 10003)
            if thread["type"] not in THREAD_TYPES:
                return self._error(400, "Cannot execute action on this channel type", 50024)
            record = self.threads.setdefault(
                tid,
                {
                    "parent_id": int(thread["parent_id"]),
                    "name": thread["name"],
                    "type": thread["type"],
                    "members": set(),
                },
            )
            if uid != BOT_ID and uid not in record["members"]:
                record["members"].add(uid)
                thread["member_count"] += 1
        return self._no_content()

    async def _get_guild(self, request: web.Request, body: Any, guild_id: str) -> web.Response:
        if int(guild_id) != GUILD_ID:
            return self._error(404, "Unknown Guild", 10004)
        guild = self._guild()
        for key in ("members", "channels", "threads", "presences", "voice_states", "joined_at", "large", "lazy"):
            guild.pop(key, None)
        return self._json(guild)

    async def _get_guild_channels(self, request: web.Request, body: Any, guild_id: str) -> web.Response:
        if int(guild_id) != GUILD_ID:
            return self._error(404, "Unknown Guild", 10004)
        with self._lock:
            return self._json([dict(c) for c in self._channels.values() if c["type"] == TEXT])

    async def _get_member(self, request: web.Request, body: Any, guild_id: str, user_id: str) -> web.Response:
        with self._lock:
            if int(guild_id) != GUILD_ID:
                return self._error(404, "Unknown Guild", 10004)
            if int(user_id) not in self._members:
                return self._error(404, "Unknown Member", 10007)
            return self._json(self._member(int(user_id)))

    # ---- interactions ----------------------------------------------------------------------------------------

    def _interaction_message(self, interaction_id: str, data: dict, *, followup: bool) -> dict:
        """A message sent through an interaction (lock held)."""
        state = self._interactions[interaction_id]
        message = self._bot_message(state["channel_id"], data, guild=state["guild"])
        message["webhook_id"] = str(APP_ID)
        message["application_id"] = str(APP_ID)
        message["type"] = 20 if state["type"] == 2 and not followup else 0
        message["interaction_metadata"] = {
            "id": interaction_id,
            "type": state["type"],
            "user": state["user"],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
        }
        return message

    async def _callback(self, request: web.Request, body: Any, interaction_id: str, token: str) -> web.Response:
        body = body if isinstance(body, dict) else {}
        with self._lock:
            state = self._interactions.get(interaction_id)
            if state is None or state["token"] != token:
                return self._error(404, "Unknown interaction", 10062)
            if state["acknowledged"]:
                return self._error(400, "Interaction has already been acknowledged.", 40060)
            kind = int(body.get("type", 0))
            data = body.get("data") or {}
            if kind in (4, 7):
                errors = self._validate_message(data)
                if errors:
                    return self._invalid_form({"data": errors})
            state["acknowledged"] = True
            self._responses[interaction_id].append({**body, "kind": "callback"})
            resource: dict | None = None
            if kind == 4:
                message = self._interaction_message(interaction_id, data, followup=False)
                state["original"] = message
                if not message["flags"] & 64:
                    self._store_message(message)
                resource = {"type": kind, "message": message}
            elif kind == 5:
                message = self._interaction_message(interaction_id, {}, followup=False)
                message["flags"] = (1 << 7) | (int(data.get("flags") or 0) & 64)
                state["original"] = message
                resource = {"type": kind, "message": message}
            elif kind == 7 and state["component_message"] is not None:
                message = self._messages.get(int(state["component_message"]["id"]), state["component_message"])
                self._apply_edit(message, data)
                state["original"] = message
                resource = {"type": kind, "message": message}
            elif kind == 6 and state["component_message"] is not None:
                state["original"] = self._messages.get(
                    int(state["component_message"]["id"]), state["component_message"]
                )
            answer: dict[str, Any] = {
                "interaction": {
                    "id": interaction_id,
                    "type": state["type"],
                    "activity_instance_id": None,
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(resource and resource["message"]["flags"] & 64),
                }
            }
            if resource is not None:
                answer["interaction"]["response_message_id"] = resource["message"]["id"]
                answer["resource"] = json.loads(json.dumps(resource))
        if request.query.get("with_response", "").lower() in ("1", "true"):
            return self._json(answer)
        return self._no_content()

    def _interaction_for_token(self, app_id: str, token: str) -> str | None:
        interaction_id = self._tokens.get(token)
        if int(app_id) != APP_ID or interaction_id is None:
            return None
        return interaction_id

    async def _followup(self, request: web.Request, body: Any, app_id: str, token: str) -> web.Response:
        body = body if isinstance(body, dict) else {}
        with self._lock:
            interaction_id = self._interaction_for_token(app_id, token)
            if interaction_id is None or not self._interactions[interaction_id]["acknowledged"]:
                return self._error(404, "Unknown Webhook", 10015)
            if sum(f["size"] for f in body.get("_files", [])) > self.max_upload_bytes:
                return self._error(413, "Request entity too large", 40005)
            if not (body.get("content") or body.get("embeds") or body.get("components") or body.get("attachments")):
                return self._error(400, "Cannot send an empty message", 50006)
            errors = self._validate_message(body)
            if errors:
                return self._invalid_form(errors)
            message = self._interaction_message(interaction_id, body, followup=True)
            if not message["flags"] & 64:
                self._store_message(message)
            else:
                self._messages[int(message["id"])] = message
            self._responses[interaction_id].append({**body, "kind": "followup", "id": message["id"]})
        if request.query.get("wait", "").lower() in ("1", "true"):
            return self._json(message)
        return self._no_content()

    def _webhook_message(self, interaction_id: str, message_id: str) -> dict | None:
        if message_id == "@original":
            return self._interactions[interaction_id]["original"]
        message = self._messages.get(int(message_id))
        if message is None or message.get("interaction_metadata", {}).get("id") != interaction_id:
            return None
        return message

    async def _wh_get(self, request: web.Request, body: Any, app_id: str, token: str, message_id: str) -> web.Response:
        with self._lock:
            interaction_id = self._interaction_for_token(app_id, token)
            if interaction_id is None:
                return self._error(404, "Unknown Webhook", 10015)
            message = self._webhook_message(interaction_id, message_id)
            return self._json(message) if message else self._error(404, "Unknown Message", 10008)

    async def _wh_edit(self, request: web.Request, body: Any, app_id: str, token: str, message_id: str) -> web.Response:
        body = body if isinstance(body, dict) else {}
        with self._lock:
            interaction_id = self._interaction_for_token(app_id, token)
            if interaction_id is None:
                return self._error(404, "Unknown Webhook", 10015)
            message = self._webhook_message(interaction_id, message_id)
            if message is None:
                return self._error(404, "Unknown Message", 10008)
            errors = self._validate_message(body)
            if errors:
                return self._invalid_form(errors)
            kind = "edit_original" if message_id == "@original" else "edit_followup"
            self._responses[interaction_id].append({**body, "kind": kind})
            self._apply_edit(message, body)
            if not message["flags"] & 64 and int(message["id"]) not in self._messages:
                self._store_message(message)
            return self._json(message)

    async def _wh_delete(
        self, request: web.Request, body: Any, app_id: str, token: str, message_id: str
    ) -> web.Response:
        with self._lock:
            interaction_id = self._interaction_for_token(app_id, token)
            if interaction_id is None:
                return self._error(404, "Unknown Webhook", 10015)
            message = self._webhook_message(interaction_id, message_id)
            if message is None:
                return self._error(404, "Unknown Message", 10008)
            kind = "delete_original" if message_id == "@original" else "delete_followup"
            self._responses[interaction_id].append({"kind": kind})
            self._messages.pop(int(message["id"]), None)
            self.deleted.append((int(message["channel_id"]), int(message["id"])))
            if message_id == "@original":
                self._interactions[interaction_id]["original"] = None
        return self._no_content()
