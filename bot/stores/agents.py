"""Support agents: who they are, what they speak, what their role allows, who is on shift, and
the tokens they call the API with.

A token is shown once, when it is issued (`add`, `rotate`); Redis keeps only its SHA-256 (the
tokens are 32 random bytes: a plain hash is enough, there is nothing to guess from it). A token
may expire (`expires_in_days` when issued) and a lead may revoke it. Roles: `agent` (the queue
and their own conversations) and `lead` (everything, plus reports).

`SignInFailures` counts refused tokens per client address, so that guessing is throttled on
every replica alike.
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

from bot.domain.hidden_characters import refuse_hidden_characters
from bot.domain.routing import TEAM_NAME
from bot.stores import keys

ROLES = ("agent", "lead")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
ON_SHIFT_KEY = keys.AGENTS_SEEN
DAY_SECONDS = 86400
# Refused tokens from one address before it must wait (429), and the window they count in.
MAX_FAILED_SIGNINS = 10
FAILURE_WINDOW_SECONDS = 60
# How long a hand-off's wait estimate may use the agents on shift as read before: they change
# when an agent starts or stops, not with every message.
ON_SHIFT_CACHED_SECONDS = 2.0


PRESENCES = ("online", "away", "offline")


@dataclass(frozen=True)
class Agent:
    name: str
    languages: tuple[str, ...]
    role: str
    token_expires_at: Optional[float] = None  # None: the token does not expire (or was revoked)
    teams: tuple[str, ...] = ()  # none: every team's queue
    max_open: Optional[int] = None  # None: routing.max_open_per_agent
    presence: str = "online"  # away and offline agents are offered no new work

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"

    def in_team(self, team: str) -> bool:
        return not self.teams or team in self.teams

    def available_for(self, team: str) -> bool:
        """Whether this agent (on shift) counts as available for `team`: online, not a lead,
        working it (room aside)."""
        return self.presence == "online" and self.in_team(team) and not self.is_lead


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _languages(languages: Iterable[str]) -> tuple[str, ...]:
    """The agent's language codes, or ValueError saying what is wrong with them."""
    codes = tuple(dict.fromkeys(lang.strip() for lang in languages if lang.strip()))
    if not codes:
        raise ValueError("an agent speaks at least one language")
    for code in codes:
        refuse_hidden_characters(code, "a language")
        if not LANGUAGE.match(code):
            raise ValueError(f"{code!r} is not a language code (like en, zh or pt-BR)")
    return codes


def _teams(teams: Iterable[str]) -> tuple[str, ...]:
    """Team names, or ValueError (names as in config.yml's routing.teams)."""
    names = tuple(dict.fromkeys(t.strip() for t in teams if t.strip()))
    for name in names:
        if not TEAM_NAME.match(name):
            raise ValueError(f"{name!r} is not a team name (lowercase letters, digits, '-', '_')")
    return names


def _agent(data: dict[str, str]) -> Agent:
    expires = float(data.get("token_expires_at") or 0) or None
    return Agent(data["name"], tuple(data["languages"].split(",")), data["role"], expires,
                 tuple(t for t in data.get("teams", "").split(",") if t), int(data.get("max_open") or 0) or None,
                 data.get("presence") or "online")  # fmt: skip


class AgentStore:
    """Agents in Redis: `sb:agent:<name>` and a token-hash index."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.failures = SignInFailures(redis)
        self._on_shift: dict[float, tuple[float, list[Agent]]] = {}  # within -> (read until, agents)

    async def add(self, name: str, languages: Iterable[str], role: str = "agent",
                  expires_in_days: Optional[float] = None, teams: Iterable[str] = (),
                  max_open: Optional[int] = None) -> str:  # fmt: skip
        """Create or re-key an agent; returns the new token (the only time it is seen), which
        expires after `expires_in_days` when given. `teams`: the teams whose queues they work
        (none: all); `max_open`: their maximum of open conversations (None: the default)."""
        if not NAME.match(name):
            raise ValueError("an agent name is 1-32 lowercase letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        record = {"name": name, "languages": ",".join(_languages(languages)), "role": role, "created_at": time.time(),
                  **_routing_fields(teams, max_open)}  # fmt: skip
        return await self._issue(name, record, expires_in_days)

    async def set_routing(self, name: str, teams: Iterable[str], max_open: Optional[int]) -> bool:
        """The teams an agent works and their maximum; False when there is no such agent."""
        fields = _routing_fields(teams, max_open)
        if not NAME.match(name) or await self._record(name) is None:
            return False
        await self.redis.hset(keys.agent(name), mapping=fields)
        return True

    async def set_presence(self, name: str, presence: str) -> None:
        """online, away or offline (away and offline agents are offered no new work)."""
        if presence not in PRESENCES:
            raise ValueError(f"presence must be one of {', '.join(PRESENCES)}")
        await self.redis.hset(keys.agent(name), "presence", presence)

    async def rotate(self, name: str, expires_in_days: Optional[float] = None) -> Optional[str]:
        """A new token for an existing agent (the old one stops working at once); None when
        there is no such agent."""
        if not NAME.match(name) or await self._record(name) is None:
            return None
        return await self._issue(name, {}, expires_in_days)

    async def revoke(self, name: str) -> bool:
        """The agent's token stops working (the agent stays, to be given a new one); False
        when there is no such agent or it holds no token."""
        record = await self._record(name) if NAME.match(name) else None
        if not record or not record.get("token_sha256"):
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.agent_token(record["token_sha256"]))
            pipe.hdel(keys.agent(name), "token_sha256", "token_expires_at")
            await pipe.execute()
        return True

    async def _issue(self, name: str, record: dict, expires_in_days: Optional[float]) -> str:
        """A new token for `name` (its record updated with `record`); the old one is dropped."""
        token = "sbt_" + secrets.token_urlsafe(32)
        ttl = int(expires_in_days * DAY_SECONDS) if expires_in_days and expires_in_days > 0 else None
        old = await self.redis.hget(keys.agent(name), "token_sha256")
        async with self.redis.pipeline(transaction=True) as pipe:
            if old:
                pipe.delete(keys.agent_token(old.decode()))
            pipe.hset(keys.agent(name), mapping={**record, "token_sha256": _digest(token),
                                                 "token_expires_at": time.time() + ttl if ttl else ""})  # fmt: skip
            pipe.set(keys.agent_token(_digest(token)), name, ex=ttl)  # Redis drops an expired token's index
            pipe.sadd(keys.AGENTS, name)
            await pipe.execute()
        return token

    async def _record(self, name: str) -> Optional[dict[str, str]]:
        raw = await self.redis.hgetall(keys.agent(name))
        return {k.decode(): v.decode() for k, v in raw.items()} if raw else None

    async def get(self, name: str) -> Optional[Agent]:
        record = await self._record(name)
        return _agent(record) if record else None

    async def authenticate(self, token: str) -> Optional[Agent]:
        """The agent a bearer token belongs to, or None (unknown, replaced, revoked or expired)."""
        if not token or len(token) > 200:
            return None
        digest = _digest(token)
        name = await self.redis.get(keys.agent_token(digest))
        record = await self._record(name.decode()) if name else None
        if record is None or record.get("token_sha256") != digest:
            return None
        agent = _agent(record)
        if agent.token_expires_at is not None and agent.token_expires_at <= time.time():
            return None
        return agent

    async def all(self) -> list[Agent]:
        names = sorted(n.decode() for n in await self.redis.smembers(keys.AGENTS))
        return [a for a in [await self.get(n) for n in names] if a]

    async def seen(self, name: str) -> None:
        """A sign of life: every authenticated API call counts as a heartbeat."""
        await self.redis.zadd(ON_SHIFT_KEY, {name: time.time()})

    async def on_shift(self, within_seconds: float) -> list[Agent]:
        """The agents seen within the last `within_seconds`."""
        since = time.time() - within_seconds
        names = [n.decode() for n in await self.redis.zrangebyscore(ON_SHIFT_KEY, since, "+inf")]
        async with self.redis.pipeline(transaction=False) as pipe:  # one round trip for every record
            for name in names:
                pipe.hgetall(keys.agent(name))
            records = await pipe.execute() if names else []
        return [_agent({k.decode(): v.decode() for k, v in raw.items()}) for raw in records if raw]

    async def on_shift_recently(self, within_seconds: float) -> list[Agent]:
        """`on_shift`, as read at most `ON_SHIFT_CACHED_SECONDS` ago in this process: for the
        wait a hand-off announces, not for who may act."""
        read_until, agents = self._on_shift.get(within_seconds, (0.0, []))
        if time.monotonic() >= read_until:
            agents = await self.on_shift(within_seconds)
            self._on_shift[within_seconds] = (time.monotonic() + ON_SHIFT_CACHED_SECONDS, agents)
        return agents

    async def vanished(self, within_seconds: float) -> list[str]:
        """Agents whose last sign of life is older than `within_seconds`."""
        until = time.time() - within_seconds
        return [n.decode() for n in await self.redis.zrangebyscore(ON_SHIFT_KEY, "-inf", until)]


def _routing_fields(teams: Iterable[str], max_open: Optional[int]) -> dict[str, str]:
    if max_open is not None and not 1 <= max_open <= 100:
        raise ValueError("max_open is 1 to 100 open conversations")
    return {"teams": ",".join(_teams(teams)), "max_open": str(max_open or "")}


class SignInFailures:
    """Refused tokens per client address, in Redis so that every replica counts the same: after
    `limit` in a window of `window_seconds` (which starts with the first), the address waits
    until the window ends."""

    def __init__(self, redis: Redis, limit: int = MAX_FAILED_SIGNINS,
                 window_seconds: int = FAILURE_WINDOW_SECONDS) -> None:  # fmt: skip
        self.redis = redis
        self.limit = limit
        self.window_seconds = window_seconds

    async def blocked_for(self, address: str) -> int:
        """Seconds until `address` may present a token again; 0 when it may now."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(keys.signin_failures(address[:100]))
            pipe.ttl(keys.signin_failures(address[:100]))
            count, ttl = await pipe.execute()
        if count is None or int(count) < self.limit:
            return 0
        return ttl if ttl > 0 else self.window_seconds

    async def note(self, address: str) -> tuple[int, int]:
        """Count one refused token from `address`: (refused in this window, seconds left in it)."""
        key = keys.signin_failures(address[:100])
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=self.window_seconds, nx=True)
            pipe.incr(key)
            pipe.ttl(key)
            _, count, ttl = await pipe.execute()
        return count, ttl if ttl > 0 else self.window_seconds
