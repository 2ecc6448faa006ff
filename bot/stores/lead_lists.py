"""The lists leads read: "was this helpful?" answers and ratings (`sb:feedback`, oldest first,
for the reports), and what users filed or the bot noticed (suggestions and bug reports,
phishing reports, new members imitating staff), newest first and capped."""

from __future__ import annotations

import json

from redis.asyncio import Redis

from bot.stores import keys

FILED_KEPT = 10_000  # entries kept per filed list


class LeadLists:
    """Appends to the leads' lists (the lead routes and the reports read them)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def add_feedback(self, entry: dict[str, object]) -> None:
        """One "was this helpful?" answer or rating."""
        await self.redis.rpush(keys.FEEDBACK, json.dumps(entry))

    async def file(self, key: str, item: dict[str, object]) -> None:
        """`item` at the head of the filed list `key` (`keys.filed(...)`, `keys.IMPOSTORS`)."""
        await self.redis.lpush(key, json.dumps(item, ensure_ascii=False))
        await self.redis.ltrim(key, 0, FILED_KEPT - 1)
