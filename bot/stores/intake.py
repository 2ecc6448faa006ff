"""The intake stream, `sb:inbox`: every accepted message, redacted, from the moment it is
accepted until it was handled. What is still there after a while had a handler that died;
one replica takes each such entry (a short lock) and handles it again."""

from __future__ import annotations

import json
import time
from dataclasses import asdict

from redis.asyncio import Redis

from bot.domain.messages import InboundMessage
from bot.stores import keys
from bot.stores.durability import replicated

RECOVERY_LOCK_SECONDS = 120


class IntakeStream:
    """Accepted messages not yet handled."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def accept(self, message: InboundMessage) -> str:
        """Keep `message` (already redacted) until `done`; the entry's id."""
        entry = await self.redis.xadd(keys.INBOX, {"message": json.dumps(asdict(message), ensure_ascii=False)})
        await replicated(self.redis)  # accepted means on a replica too: a failover keeps it
        return entry.decode() if isinstance(entry, bytes) else entry

    async def done(self, entry: str) -> None:
        """The message of `entry` was handled."""
        await self.redis.xdel(keys.INBOX, entry)

    async def older_than(self, seconds: float, count: int = 100) -> list[tuple[str, InboundMessage]]:
        """Entries accepted more than `seconds` ago (their handler died), oldest first."""
        cutoff_ms = int((time.time() - seconds) * 1000)
        found = await self.redis.xrange(keys.INBOX, "-", f"{cutoff_ms}-0", count=count)
        return [(entry.decode(), InboundMessage(**json.loads(fields[b"message"]))) for entry, fields in found]

    async def take_over(self, entry: str) -> bool:
        """True for the one replica that recovers `entry` (for a while); False for the others."""
        return bool(await self.redis.set(keys.inbox_lock(entry), 1, nx=True, ex=RECOVERY_LOCK_SECONDS))
