"""What the e-mail channel keeps in Redis: which replica reads the mailbox, each thread's
threading facts (so a reply lands in the user's thread in their mail client), each address's
state (unsubscribed, bounced) and the per-address counts of the loop guard.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

from redis.asyncio import Redis

from bot.stores import keys
from bot.stores.channel_state import LEAD, RESIGN

THREAD_TTL_SECONDS = 90 * 24 * 3600  # as long as an idle conversation is kept
MAX_REFERENCES = 20


def thread_digest(root: str) -> str:
    """A fixed-length name for a thread's first message id (ids are long and any characters)."""
    return hashlib.sha256(root.encode()).hexdigest()[:32]


@dataclass
class MailThread:
    """One thread: who, about what, and the ids a reply names to join it."""

    root: str  # the first message's id: the conversation's chat
    address: str
    name: str = ""
    subject: str = ""
    last_id: str = ""  # the latest message's id, either way: a reply's In-Reply-To
    references: list[str] = field(default_factory=list)
    ticket: str = ""
    # A thread the bot started to follow a user of another platform (platform, chat, user): the
    # user's answers by e-mail go to that conversation.
    origin: list[str] = field(default_factory=list)

    def joined(self, message_id: str) -> None:
        """A message added to the thread (the user's, or the bot's sent reply)."""
        if message_id:
            self.last_id = message_id
            self.references = [*(r for r in self.references if r != message_id), message_id][-MAX_REFERENCES:]


class MailState:
    """See the module's docstring."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._lead = redis.register_script(LEAD)
        self._resign = redis.register_script(RESIGN)

    async def lead(self, consumer: str, seconds: float) -> bool:
        """Whether this replica reads the mailbox now (the lock taken or renewed)."""
        return bool(await self._lead(keys=[keys.MAIL_LEADER], args=[consumer, int(seconds * 1000)]))

    async def resign(self, consumer: str) -> None:
        await self._resign(keys=[keys.MAIL_LEADER], args=[consumer])

    async def thread(self, root: str) -> MailThread | None:
        raw = await self.redis.hgetall(keys.mail_thread(thread_digest(root)))
        if not raw:
            return None
        f = {k.decode(): v.decode() for k, v in raw.items()}
        return MailThread(root, f.get("address", ""), f.get("name", ""), f.get("subject", ""), f.get("last_id", ""),
                          json.loads(f.get("references") or "[]"), f.get("ticket", ""),
                          json.loads(f.get("origin") or "[]"))  # fmt: skip

    async def save(self, thread: MailThread) -> None:
        key = keys.mail_thread(thread_digest(thread.root))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"address": thread.address, "name": thread.name, "subject": thread.subject,
                                    "last_id": thread.last_id, "references": json.dumps(thread.references),
                                    "ticket": thread.ticket, "origin": json.dumps(thread.origin)})  # fmt: skip
            pipe.expire(key, THREAD_TTL_SECONDS)
            await pipe.execute()

    async def count_mail(self, address: str) -> int:
        """One more mail from `address` this hour; how many so far."""
        key = keys.mail_count(address, int(time.time() // 3600))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2 * 3600)
            count, _ = await pipe.execute()
        return int(count)

    async def address_state(self, address: str) -> dict[str, str]:
        """{"unsubscribed": when, "bounced": when, "conversation": the last one mailed}; each optional."""
        raw = await self.redis.hgetall(keys.mail_address(address))
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def mark_address(self, address: str, **fields: str) -> None:
        """Set (a value) or clear ("") the address's state fields."""
        key = keys.mail_address(address)
        set_now = {k: v for k, v in fields.items() if v}
        cleared = [k for k, v in fields.items() if not v]
        async with self.redis.pipeline(transaction=True) as pipe:
            if set_now:
                pipe.hset(key, mapping=set_now)
            if cleared:
                pipe.hdel(key, *cleared)
            pipe.expire(key, THREAD_TTL_SECONDS)
            await pipe.execute()
