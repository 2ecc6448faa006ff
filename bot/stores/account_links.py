"""Which exchange account a platform user linked (by the back office's opaque `account_ref`),
and the links asked for and not yet confirmed.

A link request is bound to one platform user and one chat, lives `link_minutes`, and is
spent by its first confirmation. A confirmation is taken only when its event is new (event
ids are kept `EVENT_SECONDS`), its request is still waiting, and it names the request's own
platform user: one Lua step, so two confirmations racing cannot both link.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from redis.asyncio import Redis

from bot.stores import keys

EVENT_SECONDS = 3600  # longer than the 300 s a signature is good for: a replay inside it is refused
# KEYS: the request, the user's link, the ref's owner, the event's mark. ARGV: platform, user,
# ref, now, the link's life, the event mark's life.
CONFIRM = """
if not redis.call('SET', KEYS[4], 1, 'NX', 'EX', ARGV[6]) then return {'replayed'} end
local platform = redis.call('HGET', KEYS[1], 'platform')
if not platform then return {'unknown'} end
if platform ~= ARGV[1] or redis.call('HGET', KEYS[1], 'user_id') ~= ARGV[2] then return {'foreign'} end
local chat = redis.call('HGET', KEYS[1], 'chat_id')
local conversation = redis.call('HGET', KEYS[1], 'conversation')
redis.call('DEL', KEYS[1])
local old = redis.call('HGET', KEYS[2], 'ref') or ''
redis.call('HSET', KEYS[2], 'ref', ARGV[3], 'linked_at', ARGV[4], 'chat_id', chat)
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('SET', KEYS[3], ARGV[1] .. ':' .. ARGV[2], 'EX', ARGV[5])
return {'linked', chat, conversation, old}
"""


@dataclass(frozen=True)
class Confirmation:
    outcome: str  # linked | replayed | unknown (expired, spent or never asked) | foreign
    chat_id: str = ""
    conversation: str = ""


class AccountLinks:
    """Account links and link requests in Redis."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._confirm = redis.register_script(CONFIRM)

    async def requested(self, request_id: str, platform: str, user_id: str, chat_id: str, conversation: str,
                        seconds: int) -> None:  # fmt: skip
        """Keep a link request bound to this user and chat until it is confirmed or expires."""
        key = keys.link_request(request_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"platform": platform, "user_id": user_id, "chat_id": chat_id,
                                    "conversation": conversation})  # fmt: skip
            pipe.expire(key, seconds)
            await pipe.execute()

    async def confirm(self, request_id: str, platform: str, user_id: str, ref: str, event_id: str,
                      link_seconds: int) -> Confirmation:  # fmt: skip
        """Link `ref` to the user the request was made for, once (see the module)."""
        found = await self._confirm(
            keys=[keys.link_request(request_id), keys.account_link(platform, user_id), keys.account_ref(ref),
                  keys.backoffice_event(event_id)],
            args=[platform, user_id, ref, int(time.time()), link_seconds, EVENT_SECONDS])  # fmt: skip
        outcome = [v.decode() if isinstance(v, bytes) else str(v) for v in found]
        if outcome[0] != "linked":
            return Confirmation(outcome[0])
        if outcome[3] and outcome[3] != ref:
            await self.redis.delete(keys.account_ref(outcome[3]))  # the link it replaces
        return Confirmation("linked", outcome[1], outcome[2])

    async def ref_of(self, platform: str, user_id: str) -> Optional[str]:
        """The account_ref the user linked, if any."""
        ref = await self.redis.hget(keys.account_link(platform, user_id), "ref")
        return ref.decode() if ref else None

    async def unlink(self, platform: str, user_id: str) -> Optional[str]:
        """Remove the user's link; the account_ref it had, if any."""
        ref = await self.ref_of(platform, user_id)
        await self.redis.delete(keys.account_link(platform, user_id), *([keys.account_ref(ref)] if ref else []))
        return ref

    async def revoked(self, ref: str, event_id: str) -> Optional[tuple[str, str]]:
        """The exchange removed the link `ref`: forget it. Its (platform, user id), or None
        for a replayed event or a ref no one here has."""
        if not await self.redis.set(keys.backoffice_event(event_id), 1, nx=True, ex=EVENT_SECONDS):
            return None
        owner = await self.redis.get(keys.account_ref(ref))
        if not owner:
            return None
        platform, _, user_id = owner.decode().partition(":")
        if await self.ref_of(platform, user_id) == ref:
            await self.unlink(platform, user_id)
        else:
            await self.redis.delete(keys.account_ref(ref))
        return platform, user_id
