"""The hand-off queue's atomic steps, as Lua run inside Redis (`handoff_queue.py` and
`assignment.py` call them). Each reads and changes everything its step touches at once: two
agents never own one conversation, an agent never holds more than their maximum, and a crash
between "taken from the queue" and "marked as owned" cannot happen.

Keys are built inside from the arguments (one Redis, no cluster slots to respect); their
layouts are `bot/stores/keys.py`'s: a queue is `sb:q:<team>:<lane>:<language>`, scored by when
the conversation was queued. Agents' hashes hold `teams` (comma-separated; empty: every team),
`languages`, `presence` (online, away, offline; empty: online), `max_open` (empty: the
default passed in) and `last_assigned_at`.
"""

from __future__ import annotations

# Shared local functions: whether an agent works a team (from their `teams` field, or their
# name), whether they may take one more conversation now, and giving a
# queued conversation to an agent (the ticket too; "claimed" tells the consoles).
HELPERS = """
local function has_room(agent, default_max)
  local max_open = tonumber(redis.call('HGET', 'sb:agent:' .. agent, 'max_open')) or default_max
  return redis.call('SCARD', 'sb:agent:' .. agent .. ':convs') < max_open
end
local function works_team(teams, team)
  return not teams or teams == '' or string.find(',' .. teams .. ',', ',' .. team .. ',', 1, true) ~= nil
end
local function in_team(agent, team)
  return works_team(redis.call('HGET', 'sb:agent:' .. agent, 'teams'), team)
end
local function available(agent, seen_since, default_max)
  local seen = redis.call('ZSCORE', 'sb:agents:seen', agent)
  if not seen or tonumber(seen) < seen_since then return false end
  local presence = redis.call('HGET', 'sb:agent:' .. agent, 'presence')
  if presence and presence ~= '' and presence ~= 'online' then return false end
  return has_room(agent, default_max)
end
local function assign(cid, agent, now, how)
  local ck = 'sb:conv:' .. cid
  redis.call('HSET', ck, 'state', 'assigned', 'agent', agent, 'claimed_at', now, 'updated_at', now)
  redis.call('SADD', 'sb:agent:' .. agent .. ':convs', cid)
  redis.call('HSET', 'sb:agent:' .. agent, 'last_assigned_at', now)
  local ticket = redis.call('HGET', ck, 'ticket')
  if ticket then
    redis.call('HSET', 'sb:ticket:' .. ticket, 'status', 'assigned', 'agent', agent)
    redis.call('HSETNX', 'sb:ticket:' .. ticket, 'claimed_at', now)
  end
  redis.call('PUBLISH', 'sb:events', cjson.encode({type = 'claimed', at = tonumber(now),
                                                   conversation = cid, agent = agent, ticket = ticket, how = how}))
  return cid
end
"""

# ARGV: cid, lane, language, now, intent, team, returning since (a close after this sends the
# user back to their last agent, if available, and for an urgent hand-off only in the team;
# -1: never), seen since, default max. Returns {ticket, opened, the agent it went straight to
# or ''}. Publishes "queued" when it queues the conversation.
ENQUEUE = HELPERS + """
local cid, lane, lang, now, intent, team = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local ck = 'sb:conv:' .. cid
local state = redis.call('HGET', ck, 'state')
if state == 'queued' or state == 'assigned' then
  return {redis.call('HGET', ck, 'ticket'), 0, ''}
end
local ticket = 'T-' .. redis.call('INCR', 'sb:ticket:seq')
redis.call('HSET', ck, 'state', 'queued', 'lane', lane, 'language', lang, 'queued_at', now, 'updated_at', now,
           'intent', intent, 'ticket', ticket, 'agent', '', 'claimed_at', '', 'team', team,
           'tags', intent .. ',' .. lane)
redis.call('HDEL', ck, 'sla_breached_at', 'declined', 'overflowed_from', 'offered_at')
redis.call('HSET', 'sb:ticket:' .. ticket, 'id', ticket, 'conversation', cid, 'status', 'queued', 'lane', lane,
           'intent', intent, 'opened_at', now, 'team', team)
local user = redis.call('HGET', ck, 'platform') .. ':' .. redis.call('HGET', ck, 'user_id')
redis.call('ZADD', 'sb:user-tickets:' .. user, now, ticket)
local last, closed = unpack(redis.call('HMGET', ck, 'last_agent', 'closed_at'))
if last and last ~= '' and (tonumber(closed) or 0) > tonumber(ARGV[7]) and tonumber(ARGV[7]) >= 0
   and (lane ~= 'urgent' or in_team(last, team)) and available(last, tonumber(ARGV[8]), tonumber(ARGV[9])) then
  assign(cid, last, now, 'returning')
  return {ticket, 1, last}
end
redis.call('ZADD', 'sb:q:' .. team .. ':' .. lane .. ':' .. lang, now, cid)
redis.call('PUBLISH', 'sb:events', cjson.encode({type = 'queued', at = tonumber(now), conversation = cid,
                                                 ticket = ticket, lane = lane, language = lang, team = team}))
return {ticket, 1, ''}
"""

# The oldest conversation of the most urgent lane in the agent's teams and languages, if the
# agent has room. ARGV: agent, now, default max, n lanes, lanes..., n teams, teams...,
# languages... Returns the conversation's id, false when nothing waits, '!full' at capacity.
CLAIM_NEXT = """
local agent, now = ARGV[1], ARGV[2]
if not has_room(agent, tonumber(ARGV[3])) then return '!full' end
local n_lanes = tonumber(ARGV[4])
local n_teams = tonumber(ARGV[5 + n_lanes])
local first_lang = 6 + n_lanes + n_teams
for l = 5, 4 + n_lanes do
  local best, best_score, best_key = nil, nil, nil
  for t = 6 + n_lanes, 5 + n_lanes + n_teams do
    for i = first_lang, #ARGV do
      local key = 'sb:q:' .. ARGV[t] .. ':' .. ARGV[l] .. ':' .. ARGV[i]
      local head = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
      if head[1] and (best_score == nil or tonumber(head[2]) < best_score) then
        best, best_score, best_key = head[1], tonumber(head[2]), key
      end
    end
  end
  if best then
    redis.call('ZREM', best_key, best)
    return assign(best, agent, now, 'claimed')
  end
end
return false
"""

# One named conversation, if it still waits and the agent has room (click-to-claim).
# ARGV: cid, agent, now, default max. Returns the id, false, or '!full'.
CLAIM_ONE = HELPERS + """
local ck = 'sb:conv:' .. ARGV[1]
local state, team, lane, lang = unpack(redis.call('HMGET', ck, 'state', 'team', 'lane', 'language'))
if state ~= 'queued' then return false end
if not has_room(ARGV[2], tonumber(ARGV[4])) then return '!full' end
if redis.call('ZREM', 'sb:q:' .. team .. ':' .. lane .. ':' .. lang, ARGV[1]) == 0 then return false end
return assign(ARGV[1], ARGV[2], ARGV[3], 'claimed')
"""

# Back to the queue with the original score (the head of its lane); an agent who let an offer
# lapse is remembered so that the next offer goes to someone else (and an offer accepted in
# the meantime stays).
# ARGV: cid, expected agent or '', 'declined' to remember the agent or ''. Returns 1 or 0.
REQUEUE = """
local ck = 'sb:conv:' .. ARGV[1]
local state, agent, team, lane, lang, score, ticket, declined = unpack(redis.call('HMGET', ck, 'state', 'agent',
  'team', 'lane', 'language', 'queued_at', 'ticket', 'declined'))
if state ~= 'assigned' or (ARGV[2] ~= '' and agent ~= ARGV[2]) then return 0 end
if ARGV[3] == 'declined' and not redis.call('HGET', ck, 'offered_at') then return 0 end  -- accepted meanwhile
redis.call('ZADD', 'sb:q:' .. team .. ':' .. lane .. ':' .. lang, score, ARGV[1])
redis.call('HSET', ck, 'state', 'queued', 'agent', '', 'claimed_at', '')
redis.call('HDEL', ck, 'offered_at')
redis.call('ZREM', 'sb:offers', ARGV[1])
if ARGV[3] == 'declined' then
  redis.call('HSET', ck, 'declined', (declined or '') .. ',' .. agent .. ',')
end
redis.call('SREM', 'sb:agent:' .. agent .. ':convs', ARGV[1])
if ticket then redis.call('HSET', 'sb:ticket:' .. ticket, 'status', 'queued', 'agent', '') end
return 1
"""

# Close an owned conversation. ARGV: cid, agent, new state (resolved|bot), now
CLOSE = """
local ck = 'sb:conv:' .. ARGV[1]
local state, agent, ticket = unpack(redis.call('HMGET', ck, 'state', 'agent', 'ticket'))
if state ~= 'assigned' or agent ~= ARGV[2] then return 0 end
redis.call('HSET', ck, 'state', ARGV[3], 'agent', '', 'last_agent', agent, 'updated_at', ARGV[4], 'closed_at', ARGV[4])
redis.call('HDEL', ck, 'offered_at')
redis.call('ZREM', 'sb:offers', ARGV[1])
redis.call('SREM', 'sb:agent:' .. agent .. ':convs', ARGV[1])
if ticket then redis.call('HSET', 'sb:ticket:' .. ticket, 'status', 'resolved', 'resolved_at', ARGV[4]) end
return 1
"""

# Hand an owned conversation to another agent, if they have room. ARGV: cid, from, to, default
# max. Returns 1, 0 (not the sender's) or -1 (the receiver is at their maximum).
TRANSFER = HELPERS + """
local ck = 'sb:conv:' .. ARGV[1]
local state, agent, ticket = unpack(redis.call('HMGET', ck, 'state', 'agent', 'ticket'))
if state ~= 'assigned' or agent ~= ARGV[2] then return 0 end
if ARGV[3] ~= ARGV[2] and not has_room(ARGV[3], tonumber(ARGV[4])) then return -1 end
redis.call('HSET', ck, 'agent', ARGV[3])
redis.call('HDEL', ck, 'offered_at')
redis.call('ZREM', 'sb:offers', ARGV[1])
redis.call('SREM', 'sb:agent:' .. ARGV[2] .. ':convs', ARGV[1])
redis.call('SADD', 'sb:agent:' .. ARGV[3] .. ':convs', ARGV[1])
if ticket then redis.call('HSET', 'sb:ticket:' .. ticket, 'agent', ARGV[3]) end
return 1
"""

# Queues from before teams (`sb:q:<lane>:<language>`) into the fallback team's, once.
# ARGV: fallback team, lanes..., then '--', languages...
MIGRATE = """
local team, lanes, langs, seen_dash = ARGV[1], {}, {}, false
for i = 2, #ARGV do
  if ARGV[i] == '--' then seen_dash = true elseif seen_dash then langs[#langs + 1] = ARGV[i]
  else lanes[#lanes + 1] = ARGV[i] end
end
local moved = 0
for _, lane in ipairs(lanes) do
  for _, lang in ipairs(langs) do
    local old = 'sb:q:' .. lane .. ':' .. lang
    local entries = redis.call('ZRANGE', old, 0, -1, 'WITHSCORES')
    for i = 1, #entries, 2 do
      redis.call('ZADD', 'sb:q:' .. team .. ':' .. lane .. ':' .. lang, entries[i + 1], entries[i])
      redis.call('HSET', 'sb:conv:' .. entries[i], 'team', team)
      moved = moved + 1
    end
    redis.call('DEL', old)
  end
end
return moved
"""
