"""Incident mode: when many users ask the same thing at once (withdrawals delayed on one
network, say), a lead declares an incident; questions on its topic get its status message, and
hand-offs on it are grouped on the incident instead of flooding the queue. Resolving it sends
the final word to everyone grouped.

The bot also watches each intent's rate: five minutes well above the usual hour suggest an
incident to leads (`incident_suggested` on the event stream), once per half hour per intent.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Optional

from redis.asyncio import Redis

from bot.domain.hidden_characters import refuse_hidden_characters
from bot.stores import keys

INCIDENTS = keys.INCIDENTS
SUGGESTIONS = keys.INCIDENT_SUGGESTIONS
# A spike: at least SPIKE_MIN questions of one intent in SPIKE_WINDOW minutes, and SPIKE_FACTOR
# times its usual rate over the hour before.
SPIKE_WINDOW, SPIKE_MIN, SPIKE_FACTOR, BASELINE_MINUTES = 5, 10, 4.0, 60
SUGGEST_EVERY_SECONDS = 1800
# What a status message may hold of the control characters: line breaks and tabs.
TEXT_LAYOUT = "\n\r\t"


def check_texts(texts: dict[str, str], what: str) -> None:
    """Raise ValueError when a message users will be sent (`what`: "status", "final") hides
    control or bidi characters: a lead's paste must not reorder what thousands read."""
    for language, text in texts.items():
        refuse_hidden_characters(text, f"{what} ({language})", allowed=TEXT_LAYOUT)


@dataclass
class Incident:
    id: str
    intents: list[str]
    status: dict[str, str]  # language -> the status message
    created_by: str
    created_at: float
    expires_at: Optional[float] = None
    grouped: list[str] = field(default_factory=list)  # conversations waiting on it (filled by `listed`)

    def status_in(self, language: str, default_language: str) -> str:
        return self.status.get(language) or self.status.get(default_language) or next(iter(self.status.values()))

    def active(self, now: float) -> bool:
        return self.expires_at is None or self.expires_at > now


class IncidentStore:
    """Incidents in Redis (any replica sees a lead's incident at once)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def declare(self, intents: list[str], status: dict[str, str], lead: str,
                      expires_in_minutes: Optional[float] = None) -> Incident:  # fmt: skip
        check_texts(status, "status")
        now = time.time()
        incident = Incident(f"I-{secrets.token_hex(4)}", intents, status, lead, now,
                            now + expires_in_minutes * 60 if expires_in_minutes else None)  # fmt: skip
        await self.redis.hset(INCIDENTS, incident.id, json.dumps(asdict(incident), ensure_ascii=False))
        return incident

    async def active(self) -> list[Incident]:
        now = time.time()
        found = []
        for raw in (await self.redis.hgetall(INCIDENTS)).values():
            incident = Incident(**json.loads(raw))
            if incident.active(now):
                found.append(incident)
        return sorted(found, key=lambda i: i.created_at)

    async def listed(self) -> list[Incident]:
        """The active incidents with the conversations grouped on each (for leads; the hot path
        of every message needs only `active`)."""
        incidents = await self.active()
        for incident in incidents:
            incident.grouped = sorted(m.decode() for m in await self.redis.smembers(_grouped(incident.id)))
        return incidents

    async def for_intent(self, intent: Optional[str]) -> Optional[Incident]:
        """The active incident whose topic is `intent`, if any."""
        if not intent:
            return None
        return next((i for i in await self.active() if intent in i.intents), None)

    async def get(self, incident_id: str) -> Optional[Incident]:
        return next((i for i in await self.active() if i.id == incident_id), None)

    async def group(self, incident: Incident, conversation: str) -> None:
        await self.redis.sadd(_grouped(incident.id), conversation)

    async def resolve(self, incident_id: str) -> list[str]:
        """End the incident; the conversations that were grouped on it."""
        grouped = [m.decode() for m in await self.redis.smembers(_grouped(incident_id))]
        await self.redis.hdel(INCIDENTS, incident_id)
        await self.redis.delete(_grouped(incident_id))
        return grouped

    async def count(self, intent: str) -> Optional[dict]:
        """Count one question of `intent`; a suggestion (intent, count, usual) when its rate
        has just spiked, else None."""
        minute = int(time.time() // 60)
        key = keys.intent_rate(intent, minute)
        this_minute = await self.redis.incr(key)
        await self.redis.expire(key, (BASELINE_MINUTES + SPIKE_WINDOW + 5) * 60)
        if this_minute < SPIKE_MIN // SPIKE_WINDOW:
            return None  # too few this minute for any spike: skip the look back
        counters = [keys.intent_rate(intent, minute - back) for back in range(SPIKE_WINDOW + BASELINE_MINUTES)]
        counts = [int(v or 0) for v in await self.redis.mget(counters)]
        recent, usual = sum(counts[:SPIKE_WINDOW]), sum(counts[SPIKE_WINDOW:]) * SPIKE_WINDOW / BASELINE_MINUTES
        if recent < max(SPIKE_MIN, SPIKE_FACTOR * usual) or await self.for_intent(intent):
            return None
        if not await self.redis.set(keys.incident_suggested(intent), 1, nx=True, ex=SUGGEST_EVERY_SECONDS):
            return None
        suggestion = {"at": time.time(), "intent": intent, "count": recent, "minutes": SPIKE_WINDOW,
                      "usual": round(usual, 1)}  # fmt: skip
        await self.redis.lpush(SUGGESTIONS, json.dumps(suggestion))
        await self.redis.ltrim(SUGGESTIONS, 0, 99)
        return suggestion

    async def suggestions(self) -> list[dict]:
        return [json.loads(x) for x in await self.redis.lrange(SUGGESTIONS, 0, 19)]


def _grouped(incident_id: str) -> str:
    return keys.incident_grouped(incident_id)
