"""Work pushed to agents rather than pulled: auto-assignment (a team's next waiting
conversation offered to its agent with the most room), offers accepted or lapsing, and
conversations moved to another team (overflow). Each step is one Lua script, so that it can
never give an agent more than their maximum nor one conversation to two agents, whatever runs
beside it (claims, other replicas' sweeps).

Offers: an auto-assigned conversation is the agent's at once (it counts against their
maximum) and is marked `offered_at` until they accept it (the console's Accept, or a reply);
`sb:offers` holds the unaccepted ones by when they were made, for the sweep that sends a
lapsed one back to the head of its lane and on to the next agent.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from redis.asyncio import Redis

from bot.domain.routing import LANES
from bot.stores import keys, queue_scripts

# The next waiting conversation of a team offered to the best agent for it: an agent (leads
# are offered nothing), online, on shift, in the team, with room, speaking the language (or
# the language is one no such agent speaks), not one who let this conversation's offer lapse;
# the most room wins, then who has waited longest since their last assignment.
# Nothing waiting in the team's queues: false at once, before any agent is read (this runs
# each second per auto-assigning team).
# ARGV: team, now, seen since, default max, lanes..., '--', languages... Returns {cid, agent}
# or false.
_OFFER_NEXT = queue_scripts.HELPERS + """
local team, now, seen_since, default_max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local lanes, langs, dash = {}, {}, false
for i = 5, #ARGV do
  if ARGV[i] == '--' then dash = true
  elseif dash then langs[#langs + 1] = ARGV[i]
  else lanes[#lanes + 1] = ARGV[i] end
end
local heads = {}
for _, lane in ipairs(lanes) do
  for _, lang in ipairs(langs) do
    local key = 'sb:q:' .. team .. ':' .. lane .. ':' .. lang
    if redis.call('EXISTS', key) == 1 then heads[#heads + 1] = key end
  end
end
if #heads == 0 then return false end
local agents, spoken = {}, {}
for _, name in ipairs(redis.call('ZRANGEBYSCORE', 'sb:agents:seen', seen_since, '+inf')) do
  local languages, presence, max_open, last, role, teams = unpack(redis.call('HMGET', 'sb:agent:' .. name,
    'languages', 'presence', 'max_open', 'last_assigned_at', 'role', 'teams'))
  local online = not presence or presence == '' or presence == 'online'
  if languages and role ~= 'lead' and online and works_team(teams, team) then
    for lang in string.gmatch(languages, '[^,]+') do spoken[lang] = true end
    local room = (tonumber(max_open) or default_max) - redis.call('SCARD', 'sb:agent:' .. name .. ':convs')
    if room > 0 then
      agents[#agents + 1] = {name = name, languages = ',' .. languages .. ',', room = room,
                             last = tonumber(last) or 0}
    end
  end
end
if #agents == 0 then return false end
local function best_for(cid, lang)
  local declined = redis.call('HGET', 'sb:conv:' .. cid, 'declined') or ''
  local best = nil
  for _, a in ipairs(agents) do
    if (not spoken[lang] or string.find(a.languages, ',' .. lang .. ',', 1, true))
       and not string.find(declined, ',' .. a.name .. ',', 1, true)
       and (best == nil or a.room > best.room or (a.room == best.room and a.last < best.last)) then
      best = a
    end
  end
  return best
end
for _, lane in ipairs(lanes) do
  local pick, pick_score, pick_agent, pick_key = nil, nil, nil, nil
  for _, lang in ipairs(langs) do
    local key = 'sb:q:' .. team .. ':' .. lane .. ':' .. lang
    local entries = redis.call('ZRANGE', key, 0, 4, 'WITHSCORES')
    for i = 1, #entries, 2 do
      local score = tonumber(entries[i + 1])
      if pick_score ~= nil and score >= pick_score then break end
      local agent = best_for(entries[i], lang)
      if agent then
        pick, pick_score, pick_agent, pick_key = entries[i], score, agent.name, key
        break
      end
    end
  end
  if pick then
    redis.call('ZREM', pick_key, pick)
    assign(pick, pick_agent, now, 'offered')
    redis.call('HSET', 'sb:conv:' .. pick, 'offered_at', now)
    redis.call('ZADD', 'sb:offers', now, pick)
    return {pick, pick_agent}
  end
end
return false
"""

# The agent takes an offered conversation. ARGV: cid, agent. Returns 1 when there was an offer.
_ACCEPT = """
local ck = 'sb:conv:' .. ARGV[1]
local agent, offered = unpack(redis.call('HMGET', ck, 'agent', 'offered_at'))
if agent ~= ARGV[2] or not offered then return 0 end
redis.call('HDEL', ck, 'offered_at')
redis.call('ZREM', 'sb:offers', ARGV[1])
return 1
"""

# A waiting conversation to another team's queue (same lane, language and place in time).
# ARGV: cid, from team, to team. Returns 1 when it moved.
_MOVE_TEAM = """
local ck = 'sb:conv:' .. ARGV[1]
local state, team, lane, lang, ticket = unpack(redis.call('HMGET', ck, 'state', 'team', 'lane', 'language', 'ticket'))
if state ~= 'queued' or team ~= ARGV[2] then return 0 end
local score = redis.call('ZSCORE', 'sb:q:' .. team .. ':' .. lane .. ':' .. lang, ARGV[1])
if not score then return 0 end
redis.call('ZREM', 'sb:q:' .. team .. ':' .. lane .. ':' .. lang, ARGV[1])
redis.call('ZADD', 'sb:q:' .. ARGV[3] .. ':' .. lane .. ':' .. lang, score, ARGV[1])
redis.call('HSET', ck, 'team', ARGV[3], 'overflowed_from', ARGV[2])
if ticket then redis.call('HSET', 'sb:ticket:' .. ticket, 'team', ARGV[3], 'overflowed_from', ARGV[2]) end
return 1
"""


@dataclass(frozen=True)
class Offer:
    conversation: str
    agent: str


class Assignment:
    """Offers conversations to agents, takes acceptances, finds lapsed offers, moves teams."""

    def __init__(self, redis: Redis, languages: Iterable[str], max_open: int = 8) -> None:
        self.redis = redis
        self.languages = tuple(languages)
        self.max_open = max_open
        self._offer_next = redis.register_script(_OFFER_NEXT)
        self._accept = redis.register_script(_ACCEPT)
        self._move_team = redis.register_script(_MOVE_TEAM)

    async def offer_next(self, team: str, seen_since: float) -> Optional[Offer]:
        """Offer the team's next waiting conversation to its best available agent; None when
        nothing waits or no one can take it."""
        found = await self._offer_next(args=[team, time.time(), seen_since, self.max_open, *LANES, "--",
                                             *self.languages])  # fmt: skip
        if not found:
            return None
        cid, agent = (v.decode() if isinstance(v, bytes) else v for v in found)
        return Offer(cid, agent)

    async def accept(self, cid: str, agent: str) -> bool:
        """The agent took the conversation offered to them; False when it was no offer of theirs."""
        return bool(await self._accept(args=[cid, agent]))

    async def lapsed(self, offered_before: float) -> list[str]:
        """Conversations offered before `offered_before` and not accepted."""
        return [m.decode() for m in await self.redis.zrangebyscore(keys.OFFERS, "-inf", offered_before)]

    async def move_team(self, cid: str, from_team: str, to_team: str) -> bool:
        """A waiting conversation from one team's queue to another's, keeping its place in time."""
        return bool(await self._move_team(args=[cid, from_team, to_team]))
