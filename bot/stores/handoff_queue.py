"""The hand-off queue: tickets, lanes by priority, routing by language, atomic claims.

Layout in Redis: one sorted set per lane and language, `sb:q:<lane>:<lang>`, scored by the
time the conversation was queued (first in, first out inside a lane). Lanes are taken
strictly in order: urgent, vip, high, normal.

Why Lua rather than streams with consumer groups: a claim has to choose across several
lanes and languages (the agent's own, plus those no agent on shift speaks) and take the
oldest of the most urgent, then mark the conversation and its ticket as owned, all or
nothing. A consumer group hands out entries of one stream in arrival order and cannot pick
across streams by priority; a Lua script runs the whole choice and the update as one atomic
step inside Redis, so two agents can never own one conversation, and a crash between
"popped" and "marked" cannot happen. A vanished agent's conversations go back with their
original score, which puts them at the head of their lane again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from redis.asyncio import Redis

from bot.stores import keys
from bot.stores.batched_script import BatchedScript
from bot.stores.conversations import ASSIGNED, BOT, QUEUED, RESOLVED, ConversationStore
from bot.stores.durability import replicated

LANES = ("urgent", "vip", "high", "normal")
TICKET_FIRST = 1000
EVENTS_CHANNEL = keys.EVENTS

# KEYS: none (every key is derived inside; one Redis, no cluster slots to respect).
# ARGV: cid, lane, language, now, intent. Publishes "queued" when it opens a ticket.
_ENQUEUE = """
local ck = 'sb:conv:' .. ARGV[1]
local state = redis.call('HGET', ck, 'state')
if state == 'queued' or state == 'assigned' then
  return {redis.call('HGET', ck, 'ticket'), 0}
end
local ticket = 'T-' .. redis.call('INCR', 'sb:ticket:seq')
redis.call('HSET', ck, 'state', 'queued', 'lane', ARGV[2], 'language', ARGV[3], 'queued_at', ARGV[4],
           'updated_at', ARGV[4], 'intent', ARGV[5], 'ticket', ticket, 'agent', '', 'claimed_at', '',
           'tags', ARGV[5] .. ',' .. ARGV[2])
redis.call('HDEL', ck, 'sla_breached_at')
redis.call('HSET', 'sb:ticket:' .. ticket, 'id', ticket, 'conversation', ARGV[1], 'status', 'queued',
           'lane', ARGV[2], 'intent', ARGV[5], 'opened_at', ARGV[4])
local user = redis.call('HGET', ck, 'platform') .. ':' .. redis.call('HGET', ck, 'user_id')
redis.call('ZADD', 'sb:user-tickets:' .. user, ARGV[4], ticket)
redis.call('ZADD', 'sb:q:' .. ARGV[2] .. ':' .. ARGV[3], ARGV[4], ARGV[1])
redis.call('PUBLISH', 'sb:events', cjson.encode({type = 'queued', at = tonumber(ARGV[4]), conversation = ARGV[1],
                                                 ticket = ticket, lane = ARGV[2], language = ARGV[3]}))
return {ticket, 1}
"""

# Give a queued conversation to an agent: shared by both claim scripts.
_ASSIGN = """
local function assign(cid, agent, now)
  local ck = 'sb:conv:' .. cid
  redis.call('HSET', ck, 'state', 'assigned', 'agent', agent, 'claimed_at', now, 'updated_at', now)
  redis.call('SADD', 'sb:agent:' .. agent .. ':convs', cid)
  local ticket = redis.call('HGET', ck, 'ticket')
  if ticket then
    redis.call('HSET', 'sb:ticket:' .. ticket, 'status', 'assigned', 'agent', agent)
    redis.call('HSETNX', 'sb:ticket:' .. ticket, 'claimed_at', now)
  end
  redis.call('PUBLISH', 'sb:events', cjson.encode({type = 'claimed', at = tonumber(now), conversation = cid,
                                                   agent = agent, ticket = ticket}))
  return cid
end
"""

# ARGV: agent, now, n_lanes, lanes..., languages...
_CLAIM = """
local agent, now, n_lanes = ARGV[1], ARGV[2], tonumber(ARGV[3])
for l = 4, 3 + n_lanes do
  local best, best_score, best_key = nil, nil, nil
  for i = 4 + n_lanes, #ARGV do
    local key = 'sb:q:' .. ARGV[l] .. ':' .. ARGV[i]
    local head = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if head[1] and (best_score == nil or tonumber(head[2]) < best_score) then
      best, best_score, best_key = head[1], tonumber(head[2]), key
    end
  end
  if best then
    redis.call('ZREM', best_key, best)
    return assign(best, agent, now)
  end
end
return false
"""

# One named conversation, if it still waits (the console's click-to-claim). ARGV: cid, agent, now
_CLAIM_ONE = _ASSIGN + """
local ck = 'sb:conv:' .. ARGV[1]
local state, lane, lang = unpack(redis.call('HMGET', ck, 'state', 'lane', 'language'))
if state ~= 'queued' or redis.call('ZREM', 'sb:q:' .. lane .. ':' .. lang, ARGV[1]) == 0 then return false end
return assign(ARGV[1], ARGV[2], ARGV[3])
"""

# Back to the queue with the original score (the head of its lane). ARGV: cid, expected agent or ''
_REQUEUE = """
local ck = 'sb:conv:' .. ARGV[1]
local state, agent = unpack(redis.call('HMGET', ck, 'state', 'agent'))
if state ~= 'assigned' or (ARGV[2] ~= '' and agent ~= ARGV[2]) then return 0 end
local lane, lang, score, ticket = unpack(redis.call('HMGET', ck, 'lane', 'language', 'queued_at', 'ticket'))
redis.call('ZADD', 'sb:q:' .. lane .. ':' .. lang, score, ARGV[1])
redis.call('HSET', ck, 'state', 'queued', 'agent', '', 'claimed_at', '')
redis.call('SREM', 'sb:agent:' .. agent .. ':convs', ARGV[1])
if ticket then redis.call('HSET', 'sb:ticket:' .. ticket, 'status', 'queued', 'agent', '') end
return 1
"""

# Close an owned conversation. ARGV: cid, agent, new state (resolved|bot), now
_CLOSE = """
local ck = 'sb:conv:' .. ARGV[1]
local state, agent, ticket = unpack(redis.call('HMGET', ck, 'state', 'agent', 'ticket'))
if state ~= 'assigned' or agent ~= ARGV[2] then return 0 end
redis.call('HSET', ck, 'state', ARGV[3], 'agent', '', 'last_agent', agent, 'updated_at', ARGV[4])
redis.call('SREM', 'sb:agent:' .. agent .. ':convs', ARGV[1])
if ticket then redis.call('HSET', 'sb:ticket:' .. ticket, 'status', 'resolved', 'resolved_at', ARGV[4]) end
return 1
"""

# Hand an owned conversation to another agent. ARGV: cid, from, to
_TRANSFER = """
local ck = 'sb:conv:' .. ARGV[1]
local state, agent, ticket = unpack(redis.call('HMGET', ck, 'state', 'agent', 'ticket'))
if state ~= 'assigned' or agent ~= ARGV[2] then return 0 end
redis.call('HSET', ck, 'agent', ARGV[3])
redis.call('SREM', 'sb:agent:' .. ARGV[2] .. ':convs', ARGV[1])
redis.call('SADD', 'sb:agent:' .. ARGV[3] .. ':convs', ARGV[1])
if ticket then redis.call('HSET', 'sb:ticket:' .. ticket, 'agent', ARGV[3]) end
return 1
"""


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


class HandoffQueue:
    """Opens tickets, queues conversations by lane and language, and hands them to agents."""

    def __init__(self, redis: Redis, conversations: ConversationStore, languages: Iterable[str]) -> None:
        self.redis = redis
        self.conversations = conversations
        self.languages = tuple(languages)
        self._enqueue = redis.register_script(_ENQUEUE)
        self._claim = BatchedScript(redis, _CLAIM, prelude=_ASSIGN)  # agents claiming at once: one script call
        self._claim_one = redis.register_script(_CLAIM_ONE)
        self._requeue = redis.register_script(_REQUEUE)
        self._close = redis.register_script(_CLOSE)
        self._transfer = redis.register_script(_TRANSFER)

    async def setup(self) -> None:
        """Ticket numbers start at T-1001."""
        await self.redis.set(keys.TICKET_SEQ, TICKET_FIRST, nx=True)

    async def enqueue(self, cid: str, lane: str, language: str, intent: str) -> tuple[str, bool]:
        """Open a ticket and queue the conversation; (ticket, newly opened). A conversation
        already with people keeps its ticket."""
        if lane not in LANES:
            raise ValueError(f"unknown lane {lane!r}")
        # The script also tells the consoles ("queued"): one round trip.
        ticket, opened = await self._enqueue(args=[cid, lane, language, time.time(), intent])
        await replicated(self.redis)  # the ticket the user is told survives a failover
        ticket = ticket.decode() if isinstance(ticket, bytes) else ticket
        return ticket, bool(opened)

    async def claim_next(self, agent: str, languages: Iterable[str]) -> Optional[str]:
        """Atomically take the oldest conversation of the most urgent lane in `languages`;
        the conversation's id, or None when nothing waits."""
        cid = await self._claim(args=[agent, time.time(), len(LANES), *LANES, *dict.fromkeys(languages)])
        if not cid:
            return None
        return cid.decode() if isinstance(cid, bytes) else cid  # the script published "claimed"

    async def claim(self, cid: str, agent: str) -> bool:
        """Atomically take the conversation `cid` if it is still waiting; False if it is not
        (another agent was first, or it left the queue)."""
        return bool(await self._claim_one(args=[cid, agent, time.time()]))

    async def requeue(self, cid: str, agent: str = "") -> bool:
        """Back to the head of its lane (transfer to the queue, or a vanished agent)."""
        done = bool(await self._requeue(args=[cid, agent]))
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
        done = bool(await self._transfer(args=[cid, from_agent, to_agent]))
        if done:
            await self.publish("transferred", conversation=cid, agent=to_agent)
        return done

    async def bump(self, cid: str, lane: str, language: str) -> None:
        """To the head of its lane (an SLA escalation); its age for reports is kept on the
        conversation (`queued_at`)."""
        key = keys.queue(lane, language)
        head = await self.redis.zrange(key, 0, 0, withscores=True)
        if head and head[0][0].decode() != cid:
            await self.redis.zadd(key, {cid: head[0][1] - 0.001}, xx=True)

    async def waiting(self) -> list[QueuedEntry]:
        """Everything queued, most urgent lane first, oldest first inside a lane."""
        entries = []
        for lane in LANES:
            lane_entries = []
            for lang in self.languages:
                for member, score in await self.redis.zrange(keys.queue(lane, lang), 0, -1, withscores=True):
                    lane_entries.append(QueuedEntry(member.decode(), lane, lang, score))
            entries += sorted(lane_entries, key=lambda e: e.queued_at)
        return entries

    async def position(self, cid: str, lane: str, language: str) -> int:
        """1 for next in line, counting the more urgent lanes of the same language."""
        async with self.redis.pipeline(transaction=False) as pipe:  # one round trip
            for other in LANES[: LANES.index(lane)]:
                pipe.zcard(keys.queue(other, language))
            pipe.zrank(keys.queue(lane, language), cid)
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


__all__ = ["LANES", "HandoffQueue", "Ticket", "QueuedEntry", "QUEUED", "ASSIGNED"]
