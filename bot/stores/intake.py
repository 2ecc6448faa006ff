"""The intake stream, `sb:inbox`: every accepted message, redacted, from the moment it is
accepted until it was handled. What is still there after a while had a handler that died;
one replica takes each such entry (a short lock) and handles it again.

Exactly once: a message with an idempotency key (`InboundMessage.once_key`: the platform's
own id) is accepted once. Its mark (`keys.once`) reads "accepted" from then on and "replied"
once its reply was queued or recorded, in the same step as the reply (`Outbox.put`,
`WebChatSessions.append_exchange`). A platform's redelivery, the page's resend after a lost
response and a recovery after a crash therefore neither handle it twice nor answer it twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.domain.messages import InboundMessage
from bot.stores import keys
from bot.stores.durability import replicated
from bot.stores.together import Write

log = logging.getLogger(__name__)
RECOVERY_LOCK_SECONDS = 120
# An answered message (its mark reads "replied") leaves the stream up to this long after it was
# handled, with the others answered meanwhile, in one XDEL instead of a round trip each; a crash
# in between only lets the recovery find it answered, and it deletes it then.
ANSWERED_BATCH_SECONDS = 0.2
# How long a message's mark is kept: longer than any platform retries or a page resends
# (Telegram retries a webhook for minutes; a page resends until it gets an answer).
ONCE_SECONDS = 6 * 3600
REPLIED = "replied"
# KEYS: the inbox, the message's mark ("" without a key). ARGV: the message, the mark's life.
ACCEPT = """
if KEYS[2] ~= '' and not redis.call('SET', KEYS[2], 'accepted', 'NX', 'EX', ARGV[2]) then return false end
return redis.call('XADD', KEYS[1], '*', 'message', ARGV[1])
"""
# Claim the right to reply to a message: once. KEYS: the mark. ARGV: the mark's life.
CLAIM = """
if redis.call('GET', KEYS[1]) == 'replied' then return 0 end
redis.call('SET', KEYS[1], 'replied', 'EX', ARGV[1])
return 1
"""


class IntakeStream:
    """Accepted messages not yet handled."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._accept = redis.register_script(ACCEPT)
        self._claim = redis.register_script(CLAIM)
        self._answered: list[str] = []
        self._deleting: asyncio.Task | None = None

    async def accept(self, message: InboundMessage) -> str | None:
        """Keep `message` (already redacted) until `done`; the entry's id, or None when a
        message with the same idempotency key was accepted before (do nothing again)."""
        mark = keys.once(message.once_key) if message.once_key else ""
        body = json.dumps(vars(message), ensure_ascii=False)  # its fields, all plain: asdict's deep copy cost 4x
        entry = await Write(self._accept, (keys.INBOX, mark), (body, ONCE_SECONDS)).run()
        if entry is None:
            return None
        await replicated(self.redis)  # accepted means on a replica too: a failover keeps it
        return entry.decode() if isinstance(entry, bytes) else entry

    async def claim_reply(self, once_key: str) -> bool:
        """True the first time the reply to the message keyed `once_key` is about to be given
        (a reply returned to the caller, not queued); False when it was given already."""
        if not once_key:
            return True
        return bool(await self._claim(keys=[keys.once(once_key)], args=[ONCE_SECONDS]))

    async def replied(self, once_key: str) -> bool:
        """Whether the message keyed `once_key` was answered already."""
        return bool(once_key) and await self.redis.get(keys.once(once_key)) == REPLIED.encode()

    async def done(self, entry: str, answered: bool = False) -> None:
        """The message of `entry` was handled. `answered`: its reply was given under its
        idempotency key (marked "replied"), so its deletion may wait a moment and go with the
        others' (`ANSWERED_BATCH_SECONDS`)."""
        if not answered:
            await self.redis.xdel(keys.INBOX, entry)
            return
        self._answered.append(entry)
        if self._deleting is None:
            self._deleting = asyncio.create_task(self._delete_answered())

    async def _delete_answered(self) -> None:
        try:
            while self._answered:  # those answered while a batch was being deleted go next
                await asyncio.sleep(ANSWERED_BATCH_SECONDS)
                await self.flush()
        except (RedisError, OSError):
            log.warning("inbox: answered entries not deleted (Redis unavailable); the recovery will")
        finally:
            self._deleting = None

    async def flush(self) -> None:
        """Delete the answered entries waiting for the next batch now (at shutdown)."""
        entries, self._answered = self._answered, []
        if entries:
            await self.redis.xdel(keys.INBOX, *entries)

    async def older_than(self, seconds: float, count: int = 100) -> list[tuple[str, InboundMessage]]:
        """Entries accepted more than `seconds` ago (their handler died), oldest first."""
        cutoff_ms = int((time.time() - seconds) * 1000)
        found = await self.redis.xrange(keys.INBOX, "-", f"{cutoff_ms}-0", count=count)
        return [(entry.decode(), InboundMessage(**json.loads(fields[b"message"]))) for entry, fields in found]

    async def take_over(self, entry: str) -> bool:
        """True for the one replica that recovers `entry` (for a while); False for the others."""
        return bool(await self.redis.set(keys.inbox_lock(entry), 1, nx=True, ex=RECOVERY_LOCK_SECONDS))
