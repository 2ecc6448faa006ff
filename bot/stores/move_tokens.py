"""One-time tokens that carry a conversation from a public chat to a private one: issued with
what the private chat needs (where it came from, the intent, its priority, the language),
spent once by the user they were issued to, gone after a day."""

from __future__ import annotations

import json
import secrets
from typing import Optional

from redis.asyncio import Redis

from bot.stores import keys

MOVE_TTL_SECONDS = 24 * 3600


class MoveTokens:
    """Issues and spends the tokens of private moves."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def issue(self, platform: str, user_id: str, move: dict[str, object]) -> str:
        """A new token for the user's move (`move` is handed back by `spend`)."""
        token = secrets.token_urlsafe(18)
        # The key names the user: someone else holding the link finds nothing and spends nothing.
        await self.redis.set(keys.move(platform, user_id, token), json.dumps(move), ex=MOVE_TTL_SECONDS)
        return token

    async def spend(self, platform: str, user_id: str, token: str) -> Optional[dict]:
        """The move the user's `token` was issued for, once; None when it is unknown, spent,
        expired or not the user's."""
        raw = await self.redis.getdel(keys.move(platform, user_id, token))
        return json.loads(raw) if raw is not None else None
