"""Support agents: who they are, what they speak, what their role allows, who is on shift.

A token is shown once, when the agent is added; Redis keeps only its SHA-256. Roles: `agent`
(the queue and their own conversations) and `lead` (everything, plus reports).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from redis.asyncio import Redis

from bot.stores import keys

ROLES = ("agent", "lead")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
ON_SHIFT_KEY = keys.AGENTS_SEEN


@dataclass(frozen=True)
class Agent:
    name: str
    languages: tuple[str, ...]
    role: str

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AgentStore:
    """Agents in Redis: `sb:agent:<name>` and a token-hash index."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def add(self, name: str, languages: Iterable[str], role: str = "agent") -> str:
        """Create or re-key an agent; returns the new token (the only time it is seen)."""
        if not NAME.match(name):
            raise ValueError("an agent name is 1-32 lowercase letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        languages = tuple(dict.fromkeys(lang.strip() for lang in languages if lang.strip()))
        if not languages:
            raise ValueError("an agent speaks at least one language")
        token = "sbt_" + secrets.token_urlsafe(32)
        old = await self.redis.hget(keys.agent(name), "token_sha256")
        async with self.redis.pipeline(transaction=True) as pipe:
            if old:
                pipe.delete(keys.agent_token(old.decode()))
            pipe.hset(keys.agent(name), mapping={
                "name": name, "languages": ",".join(languages), "role": role,
                "token_sha256": _digest(token), "created_at": time.time(),
            })  # fmt: skip
            pipe.set(keys.agent_token(_digest(token)), name)
            pipe.sadd(keys.AGENTS, name)
            await pipe.execute()
        return token

    async def get(self, name: str) -> Optional[Agent]:
        raw = await self.redis.hgetall(keys.agent(name))
        if not raw:
            return None
        data = {k.decode(): v.decode() for k, v in raw.items()}
        return Agent(data["name"], tuple(data["languages"].split(",")), data["role"])

    async def authenticate(self, token: str) -> Optional[Agent]:
        """The agent a bearer token belongs to, or None."""
        if not token or len(token) > 200:
            return None
        name = await self.redis.get(keys.agent_token(_digest(token)))
        return await self.get(name.decode()) if name else None

    async def all(self) -> list[Agent]:
        names = sorted(n.decode() for n in await self.redis.smembers(keys.AGENTS))
        return [a for a in [await self.get(n) for n in names] if a]

    async def seen(self, name: str) -> None:
        """A sign of life: every authenticated API call counts as a heartbeat."""
        await self.redis.zadd(ON_SHIFT_KEY, {name: time.time()})

    async def on_shift(self, within_seconds: float) -> list[Agent]:
        since = time.time() - within_seconds
        names = [n.decode() for n in await self.redis.zrangebyscore(ON_SHIFT_KEY, since, "+inf")]
        return [a for a in [await self.get(n) for n in names] if a]

    async def vanished(self, within_seconds: float) -> list[str]:
        """Agents whose last sign of life is older than `within_seconds`."""
        until = time.time() - within_seconds
        return [n.decode() for n in await self.redis.zrangebyscore(ON_SHIFT_KEY, "-inf", until)]
