"""The hand-off queue: tickets, teams, lanes by priority, routing by language, atomic claims.

Layout in Redis: one sorted set per team, lane and language, `sb:q:<team>:<lane>:<lang>`,
scored by the time the conversation was queued (first in, first out inside a lane). Lanes are
taken strictly in order: urgent, vip, high, normal.

Why Lua rather than streams with consumer groups: a claim has to choose across several teams,
lanes and languages (the agent's own, plus those no agent on shift speaks), take the oldest of
the most urgent, check the agent's room, then mark the conversation and its ticket as owned,
all or nothing. A consumer group hands out entries of one stream in arrival order and cannot
pick across streams by priority; a Lua script (`queue_scripts.py`) runs the whole choice and
the update as one atomic step inside Redis, so two agents can never own one conversation, no
agent holds more than their maximum, and a crash between "popped" and "marked" cannot happen.
A vanished agent's conversations go back with their original score, which puts them at the
head of their lane again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from redis.asyncio import Redis

from bot.domain.routing import LANES
from bot.stores import keys, queue_scripts
from bot.stores.batched_script import BatchedScript
from bot.stores.conversations import ASSIGNED, BOT, QUEUED, RESOLVED, ConversationStore
from bot.stores.durability import replicated

TICKET_FIRST = 1000
EVENTS_CHANNEL = keys.EVENTS
FULL = "!full"  # what the claim scripts answer for an agent at their maximum


class AtCapacity(Exception):
    """The agent holds as many open conversations as they may (`max_open`)."""


@dataclass(frozen=True)
class Ticket:
    id: str
    conversation: str
    status: str
    lane: str
    intent: str
    opened_at: float


@dataclass(frozen=True)
class QueuedEntry:
    conversation: str
    lane: str
    language: str
    queued_at: float
    team: str = "general"


@dataclass(frozen=True)
class Queued:
    """What a hand-off became: its ticket, whether it was opened now, and the agent it went
    straight to ("" when it waits in the queue)."""

    ticket: str
    opened: bool
    agent: str = ""


@dataclass(frozen=True)
class Returning:
    """Send a returning user back to their last agent: if their last ticket closed after
    `closed_since` (-1: never) and the agent was seen after `seen_since`."""

    closed_since: float
    seen_since: float


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _claimed(reply: object) -> Optional[str]:
    """A claim script's answer: the conversation's id, None for nothing, AtCapacity for FULL."""
    cid = _text(reply) if reply else ""
    if cid == FULL:
        raise AtCapacity()
    return cid or None


class HandoffQueue:
    """Opens tickets, queues conversations by team, lane and language, and hands them to agents."""

    def __init__(self, redis: Redis, conversations: ConversationStore, languages: Iterable[str],
                 teams: Iterable[str] = ("general",), max_open: int = 8) -> None:  # fmt: skip
        """`teams`: every team's name, the fallback (which takes the queues from before teams)
        last or named by `setup`; `max_open`: an agent's maximum unless their record says."""
        self.redis = redis
        self.conversations = conversations
        self.languages = tuple(languages)
        self.teams = tuple(teams)
        self.max_open = max_open
        self._enqueue = redis.register_script(queue_scripts.ENQUEUE)
        # Agents claiming at once: one script call.
        self._claim = BatchedScript(redis, queue_scripts.CLAIM_NEXT, prelude=queue_scripts.HELPERS)
        self._claim_one = redis.register_script(queue_scripts.CLAIM_ONE)
        self._requeue = redis.register_script(queue_scripts.REQUEUE)
        self._close = redis.register_script(queue_scripts.CLOSE)
        self._transfer = redis.register_script(queue_scripts.TRANSFER)
        self._migrate = redis.register_script(queue_scripts.MIGRATE)

    async def setup(self, fallback_team: str = "") -> None:
        """Ticket numbers start at T-1001; conversations queued before there were teams join
        the fallback team's queues."""
        await self.redis.set(keys.TICKET_SEQ, TICKET_FIRST, nx=True)
        await self._migrate(args=[fallback_team or self.teams[-1], *LANES, "--", *self.languages])

    async def enqueue(self, cid: str, lane: str, language: str, intent: str, team: str = "",
                      returning: Optional[Returning] = None) -> Queued:  # fmt: skip
        """Open a ticket and queue the conversation in `team` (the last team without one). A
        conversation already with people keeps its ticket. With `returning`, a user whose
        last ticket closed since then goes straight to the agent who closed it, if that agent
        is in the team, online and has room."""
        if lane not in LANES:
            raise ValueError(f"unknown lane {lane!r}")
        back = returning or Returning(-1, 0)
        # The script also tells the consoles ("queued"): one round trip.
        ticket, opened, agent = await self._enqueue(args=[cid, lane, language, time.time(), intent,
                                                          team or self.teams[-1], back.closed_since,
                                                          back.seen_since, self.max_open])  # fmt: skip
        await replicated(self.redis)  # the ticket the user is told survives a failover
        return Queued(_text(ticket), bool(opened), _text(agent))

    async def claim_next(self, agent: str, languages: Iterable[str], teams: Iterable[str] = ()) -> Optional[str]:
        """Atomically take the oldest conversation of the most urgent lane in `teams` (every
        team without) and `languages`; the conversation's id, or None when nothing waits.
        AtCapacity when the agent holds their maximum."""
        teams = tuple(teams) or self.teams
        cid = await self._claim(args=[agent, time.time(), self.max_open, len(LANES), *LANES, len(teams), *teams,
                                      *dict.fromkeys(languages)])  # fmt: skip
        return _claimed(cid)  # the script published "claimed"

    async def claim(self, cid: str, agent: str) -> bool:
        """Atomically take the conversation `cid` if it is still waiting; False if it is not
        (another agent was first, or it left the queue); AtCapacity at the agent's maximum."""
        return _claimed(await self._claim_one(args=[cid, agent, time.time(), self.max_open])) is not None

    async def requeue(self, cid: str, agent: str = "", declined: bool = False) -> bool:
        """Back to the head of its lane (transfer to the queue, a vanished agent, or an offer
        not accepted in time: `declined`, the next offer goes to someone else)."""
        done = bool(await self._requeue(args=[cid, agent, "declined" if declined else ""]))
        if done:
            await self.publish("queued", conversation=cid, requeued=True)
        return done

    async def resolve(self, cid: str, agent: str) -> bool:
        done = bool(await self._close(args=[cid, agent, RESOLVED, time.time()]))
        if done:
            await self.publish("resolved", conversation=cid, agent=agent)
        return done

    async def release(self, cid: str, agent: str) -> bool:
        """Hand the conversation back to the bot (its ticket is resolved)."""
        done = bool(await self._close(args=[cid, agent, BOT, time.time()]))
        if done:
            await self.publish("released", conversation=cid, agent=agent)
        return done

    async def transfer(self, cid: str, from_agent: str, to_agent: str) -> bool:
        """To another agent; False unless `from_agent` holds it, AtCapacity when the other
        agent holds their maximum."""
        done = await self._transfer(args=[cid, from_agent, to_agent, self.max_open])
        if done == -1:
            raise AtCapacity(to_agent)
        if done:
            await self.publish("transferred", conversation=cid, agent=to_agent)
        return bool(done)

    async def bump(self, entry: QueuedEntry) -> None:
        """To the head of its lane (an SLA escalation); its age for reports is kept on the
        conversation (`queued_at`)."""
        key = keys.queue(entry.team, entry.lane, entry.language)
        head = await self.redis.zrange(key, 0, 0, withscores=True)
        if head and head[0][0].decode() != entry.conversation:
            await self.redis.zadd(key, {entry.conversation: head[0][1] - 0.001}, xx=True)

    async def waiting(self, teams: Iterable[str] = ()) -> list[QueuedEntry]:
        """Everything queued in `teams` (all without), most urgent lane first, oldest first
        inside a lane."""
        teams = tuple(teams) or self.teams
        where = [(lane, team, lang) for lane in LANES for team in teams for lang in self.languages]
        async with self.redis.pipeline(transaction=False) as pipe:  # one round trip
            for lane, team, lang in where:
                pipe.zrange(keys.queue(team, lane, lang), 0, -1, withscores=True)
            found = await pipe.execute()
        entries = [QueuedEntry(member.decode(), lane, lang, score, team)
                   for (lane, team, lang), members in zip(where, found, strict=True) for member, score in members]
        return sorted(entries, key=lambda e: (LANES.index(e.lane), e.queued_at))  # fmt: skip

    async def position(self, cid: str, team: str, lane: str, language: str) -> int:
        """1 for next in line, counting the more urgent lanes of the same team and language."""
        async with self.redis.pipeline(transaction=False) as pipe:  # one round trip
            for other in LANES[: LANES.index(lane)]:
                pipe.zcard(keys.queue(team, other, language))
            pipe.zrank(keys.queue(team, lane, language), cid)
            *ahead, rank = await pipe.execute()
        return sum(ahead) + (rank if rank is not None else 0) + 1

    async def user_tickets(self, platform: str, user_id: str) -> list[Ticket]:
        """The user's own tickets, newest first."""
        ids = await self.redis.zrevrange(keys.user_tickets(platform, user_id), 0, 9)
        tickets = []
        for tid in ids:
            raw = {k.decode(): v.decode() for k, v in (await self.redis.hgetall(keys.ticket(tid.decode()))).items()}
            if raw:
                tickets.append(Ticket(raw["id"], raw["conversation"], raw["status"], raw.get("lane", ""),
                                      raw.get("intent", ""), float(raw.get("opened_at") or 0)))  # fmt: skip
        return tickets

    async def ticket_conversation(self, tid: str) -> str:
        """The conversation the ticket `tid` was opened for; "" for no such ticket."""
        raw = await self.redis.hget(keys.ticket(tid), "conversation")
        return raw.decode() if raw else ""

    async def rate(self, tid: str, rating: int) -> None:
        """The user's rating (1-5) of how the ticket was handled."""
        await self.redis.hset(keys.ticket(tid), "rating", str(rating))

    async def note_first_reply(self, tid: str, at: float) -> None:
        """When a person first replied on the ticket (kept once, for the reports)."""
        await self.redis.hsetnx(keys.ticket(tid), "first_reply_at", at)

    async def owned_by(self, agent: str) -> list[str]:
        return sorted(m.decode() for m in await self.redis.smembers(keys.agent_conversations(agent)))

    async def publish(self, kind: str, **fields: object) -> None:
        await self.redis.publish(EVENTS_CHANNEL, json.dumps({"type": kind, "at": time.time(), **fields}))


__all__ = ["LANES", "AtCapacity", "HandoffQueue", "Queued", "QueuedEntry", "Returning", "Ticket", "QUEUED", "ASSIGNED"]
