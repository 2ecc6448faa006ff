"""What Redis holds about one platform user, found and removed key family by key family: the
mechanics of a data request. Which families there are, and what an erasure keeps of each for
the reports, is decided in `bot/services/privacy.py` (its docstring lists every key).

Finding a user's conversations reads every conversation record (their ids hash the chat as
well as the user, and nothing indexes them by user): a data request is rare, a few seconds
for a large store are fine, and SCAN never blocks Redis for long.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from redis.asyncio import Redis

from bot.stores import keys
from bot.stores.conversations import IDLE_TTL_SECONDS

SCAN_COUNT = 1000
# Replace list items by value, atomically (a list may be pushed and trimmed meanwhile, which
# moves indexes): ARGV holds pairs (old item, new item); an empty new item removes the old one.
_REPLACE_ITEMS = """
local wanted = {}
for i = 1, #ARGV, 2 do wanted[ARGV[i]] = ARGV[i + 1] end
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local changed = 0
for i, item in ipairs(items) do
  local new = wanted[item]
  if new then
    redis.call('LSET', KEYS[1], i - 1, new == '' and '\\0erased' or new)
    changed = changed + 1
  end
end
redis.call('LREM', KEYS[1], 0, '\\0erased')
return changed
"""


def _glob_escaped(part: str) -> str:
    """`part` matched literally inside a SCAN pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in part)


def _decoded(raw: dict) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


class PersonalData:
    """Reads and removes one user's records; knows the layout of every key family."""

    def __init__(self, redis: Redis, languages: Iterable[str]) -> None:
        self.redis = redis
        self.languages = tuple(languages)
        self._replace_items = redis.register_script(_REPLACE_ITEMS)

    # -- finding -------------------------------------------------------------------------------
    async def conversation_ids(self, platform: str, user_id: str) -> list[str]:
        """The ids of the user's conversations, in every chat."""
        found = []
        async for batch in self._scan_batches(f"{keys.CONVERSATION_PREFIX}{keys.ANY}"):
            records = [key for key in batch if not key.endswith(b":log")]
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in records:
                    pipe.hmget(key, "platform", "user_id")
                owners = await pipe.execute()
            wanted = [platform.encode(), user_id.encode()]
            found += [key.decode()[len(keys.CONVERSATION_PREFIX):]
                      for key, owner in zip(records, owners, strict=True) if owner == wanted]  # fmt: skip
        return sorted(found)

    async def conversation(self, cid: str) -> dict[str, str]:
        """The conversation's record as stored ({} when it is gone)."""
        return _decoded(await self.redis.hgetall(keys.conversation(cid)))

    async def transcript(self, cid: str) -> list[dict]:
        return [json.loads(line) for line in await self.redis.lrange(keys.conversation(cid) + ":log", 0, -1)]

    async def ticket_ids(self, platform: str, user_id: str) -> list[str]:
        return [t.decode() for t in await self.redis.zrange(keys.user_tickets(platform, user_id), 0, -1)]

    async def ticket(self, tid: str) -> dict[str, str]:
        return _decoded(await self.redis.hgetall(keys.ticket(tid)))

    async def list_items(self, key: str) -> list[tuple[str, dict]]:
        """Every item of a JSON list (the feedback, a filed list), as stored and decoded."""
        return [(raw.decode(), json.loads(raw)) for raw in await self.redis.lrange(key, 0, -1)]

    async def stream_entries(self, key: str) -> list[tuple[str, dict[str, str]]]:
        """Every entry of a stream (the intake, an outbox, a web chat session), oldest first."""
        return [(entry.decode(), _decoded(fields)) for entry, fields in await self.redis.xrange(key, "-", "+")]

    async def moves(self, platform: str, user_id: str) -> dict[str, dict]:
        """The user's unspent private-move tokens: key -> the move."""
        found = {}
        async for batch in self._scan_batches(keys.move(platform, _glob_escaped(user_id), keys.ANY)):
            for key in batch:
                raw = await self.redis.get(key)
                if raw is not None:
                    found[key.decode()] = json.loads(raw)
        return found

    async def discord_threads(self, chat_ids: Iterable[str]) -> list[str]:
        """Which of `chat_ids` are private support threads the bot opened on Discord."""
        return [c for c in chat_ids if await self.redis.sismember(keys.DISCORD_THREADS, c)]

    async def account_link(self, platform: str, user_id: str) -> dict[str, str]:
        """The exchange account the user linked (ref, linked_at, chat_id), or {}."""
        return _decoded(await self.redis.hgetall(keys.account_link(platform, user_id)))

    async def x_parked(self, user_id: str) -> list[list[str]]:
        return [json.loads(raw) for raw in await self.redis.lrange(keys.x_parked(user_id), 0, -1)]

    async def session_counters(self, session: str) -> list[str]:
        """The web chat session's send counters (a minute each), its uploads' progress marks
        and whether its page is open."""
        return [*await self._keys(keys.webchat_rate("session", _glob_escaped(session), keys.ANY)),
                *await self._keys(keys.webchat_upload(_glob_escaped(session), keys.ANY)),
                keys.webchat_seen(session)]  # fmt: skip

    async def message_marks(self, platform: str, chat_id: str) -> list[str]:
        """The idempotency marks of the messages of one chat (`keys.once`)."""
        return await self._keys(keys.once(f"{platform}:{_glob_escaped(chat_id)}:{keys.ANY}"))

    async def x_reply_counters(self, user_id: str) -> list[str]:
        """The X user's answered-mentions counters (an hour each)."""
        return await self._keys(keys.x_replies(_glob_escaped(user_id), keys.ANY))

    async def _keys(self, pattern: str) -> list[str]:
        return [key.decode() async for batch in self._scan_batches(pattern) for key in batch]

    async def _scan_batches(self, pattern: str):
        cursor = 0
        while True:
            cursor, batch = await self.redis.scan(cursor, match=pattern, count=SCAN_COUNT)
            if batch:
                yield batch
            if cursor == 0:
                return

    # -- removing ------------------------------------------------------------------------------
    async def replace_conversation(self, record: dict[str, str], stub_id: str, stub: dict[str, str],
                                   lines: list[dict]) -> None:  # fmt: skip
        """The conversation `record` becomes `stub_id`, holding only `stub` and `lines`: its
        record and transcript deleted, its ticket pointed at the stub, and it taken out of the
        queue, the agents' sets and its incident's group, in one transaction."""
        cid = record["id"]
        old = keys.conversation(cid)
        ttl = await self.redis.ttl(old)
        ttl = ttl if ttl and ttl > 0 else IDLE_TTL_SECONDS
        agents = [a.decode() for a in await self.redis.smembers(keys.AGENTS)]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(old, old + ":log")
            if stub:
                pipe.hset(keys.conversation(stub_id), mapping=stub)
                pipe.expire(keys.conversation(stub_id), ttl)
            if lines:
                pipe.rpush(keys.conversation(stub_id) + ":log", *(json.dumps(line) for line in lines))
                pipe.expire(keys.conversation(stub_id) + ":log", ttl)
            if record.get("ticket"):
                pipe.hset(keys.ticket(record["ticket"]), "conversation", stub_id)
            if record.get("state") == "queued":
                pipe.zrem(keys.queue(record.get("team", ""), record.get("lane", ""), record.get("language", "")), cid)
            pipe.zrem(keys.OFFERS, cid)
            for agent in agents:
                pipe.srem(keys.agent_conversations(agent), cid)
            if record.get("incident"):
                pipe.srem(keys.incident_grouped(record["incident"]), cid)
            await pipe.execute()

    async def replace_items(self, key: str, replacements: dict[str, str]) -> int:
        """In the list `key`, each item equal to a key of `replacements` becomes its value, or
        goes when the value is ""; how many changed."""
        if not replacements:
            return 0
        pairs = [part for old, new in replacements.items() for part in (old, new)]
        return int(await self._replace_items(keys=[key], args=pairs))

    async def delete_entries(self, key: str, entry_ids: list[str]) -> int:
        """Stream entries removed (an outbox's consumers acknowledge a deleted entry unread)."""
        return int(await self.redis.xdel(key, *entry_ids)) if entry_ids else 0

    async def delete_keys(self, names: Iterable[str]) -> int:
        names = list(names)
        return int(await self.redis.delete(*names)) if names else 0
