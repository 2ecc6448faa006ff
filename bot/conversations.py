"""Conversations in Redis: one per user per chat.

This holds what the pipeline needs from a conversation's past (its last language); the
hand-off states, tickets and transcripts build on the same keys.
"""

from __future__ import annotations

from typing import Optional

from redis.asyncio import Redis

KEY_PREFIX = "sb:conv:"
IDLE_TTL_SECONDS = 30 * 24 * 3600


class ConversationStore:
    """Reads and writes conversation records in Redis hashes."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    @staticmethod
    def key(conversation_key: str) -> str:
        return KEY_PREFIX + conversation_key

    async def last_language(self, conversation_key: str) -> Optional[str]:
        value = await self.redis.hget(self.key(conversation_key), "language")
        return value.decode() if isinstance(value, bytes) else value

    async def remember_language(self, conversation_key: str, language: str) -> None:
        key = self.key(conversation_key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, "language", language)
            pipe.expire(key, IDLE_TTL_SECONDS)
            await pipe.execute()
