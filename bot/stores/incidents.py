"""Incident mode: when many users ask the same thing at once (withdrawals delayed on one
network, say), a lead declares an incident; questions on its topic get its status message, and
hand-offs on it are grouped on the incident instead of flooding the queue. Resolving it sends
the final word to everyone grouped.

The bot also watches each intent's rate: five minutes well above the usual hour suggest an
incident to leads (`incident_suggested` on the event stream), once per half hour per intent. The
counts are sent to Redis in batches, every `COUNT_BATCH_SECONDS`, not with every message.

Every message asks which incidents are active, and they change a few times a day: the hot path
(`for_intent`) reads them at most once per `CACHED_SECONDS` per process. A lead's declaration or
resolution on this replica is seen at once (it clears the cache); another replica's within
`CACHED_SECONDS`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Optional

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.domain.hidden_characters import refuse_hidden_characters
from bot.stores import keys

log = logging.getLogger(__name__)
INCIDENTS = keys.INCIDENTS
SUGGESTIONS = keys.INCIDENT_SUGGESTIONS
# A spike: at least SPIKE_MIN questions of one intent in SPIKE_WINDOW minutes, and SPIKE_FACTOR
# times its usual rate over the hour before.
SPIKE_WINDOW, SPIKE_MIN, SPIKE_FACTOR, BASELINE_MINUTES = 5, 10, 4.0, 60
SUGGEST_EVERY_SECONDS = 1800
# Questions are counted in this process and sent to Redis together this often: one round trip
# a batch instead of one a message (issue 17).
COUNT_BATCH_SECONDS = 0.5
CACHED_SECONDS = 1.5
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
        self._cached: list[Incident] = []  # every incident stored, expired ones included
        self._cached_until = 0.0  # time.monotonic() after which `_cached` is read again
        self._changes = 0  # declarations and resolutions here: a read they overtook is not kept
        self._counted: Counter[tuple[str, int]] = Counter()  # (intent, minute) -> questions not sent yet
        self._counting: asyncio.Task | None = None
        self._on_spike: Callable[[dict], Awaitable[object]] | None = None

    async def declare(self, intents: list[str], status: dict[str, str], lead: str,
                      expires_in_minutes: Optional[float] = None) -> Incident:  # fmt: skip
        check_texts(status, "status")
        now = time.time()
        incident = Incident(f"I-{secrets.token_hex(4)}", intents, status, lead, now,
                            now + expires_in_minutes * 60 if expires_in_minutes else None)  # fmt: skip
        await self.redis.hset(INCIDENTS, incident.id, json.dumps(asdict(incident), ensure_ascii=False))
        self._changed()
        return incident

    async def active(self) -> list[Incident]:
        """The active incidents, oldest first, as Redis has them now."""
        return _active(await self._stored())

    async def _stored(self) -> list[Incident]:
        return [Incident(**json.loads(raw)) for raw in (await self.redis.hgetall(INCIDENTS)).values()]

    async def _recent(self) -> list[Incident]:
        """The active incidents as read at most `CACHED_SECONDS` ago (see the module)."""
        if time.monotonic() < self._cached_until:
            return _active(self._cached)
        changes = self._changes
        stored = await self._stored()
        if changes == self._changes:
            self._cached, self._cached_until = stored, time.monotonic() + CACHED_SECONDS
        return _active(stored)

    def _changed(self) -> None:
        self._changes += 1
        self._cached_until = 0.0

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
        return next((i for i in await self._recent() if intent in i.intents), None)

    async def get(self, incident_id: str) -> Optional[Incident]:
        return next((i for i in await self.active() if i.id == incident_id), None)

    async def group(self, incident: Incident, conversation: str) -> None:
        await self.redis.sadd(_grouped(incident.id), conversation)

    async def resolve(self, incident_id: str) -> list[str]:
        """End the incident; the conversations that were grouped on it."""
        grouped = [m.decode() for m in await self.redis.smembers(_grouped(incident_id))]
        await self.redis.hdel(INCIDENTS, incident_id)
        self._changed()
        await self.redis.delete(_grouped(incident_id))
        return grouped

    def count(self, intent: str) -> None:
        """Count one question of `intent`, with no round trip of its own: the counts go to
        Redis together every `COUNT_BATCH_SECONDS` (see `send_counts`), and a spike found then
        goes to the `when_spiking` callback."""
        self._counted[(intent, int(time.time() // 60))] += 1
        if self._counting is None:
            self._counting = asyncio.create_task(self._send_counts_in_batches())

    def when_spiking(self, callback: Callable[[dict], Awaitable[object]]) -> None:
        """Call `callback` with a suggestion (intent, count, usual) when an intent spikes."""
        self._on_spike = callback

    async def _send_counts_in_batches(self) -> None:
        try:
            while self._counted:  # what was counted while a batch was sent goes next
                await asyncio.sleep(COUNT_BATCH_SECONDS)
                await self.send_counts()
        except (RedisError, OSError):
            log.warning("incidents: questions' counts not sent (Redis unavailable)")
        finally:
            self._counting = None

    async def send_counts(self) -> list[dict]:
        """Send the counts made since the last batch (one round trip); for an intent busy
        enough this minute, read its last hour and suggest an incident if it spiked. The
        suggestions made."""
        counted, self._counted = self._counted, Counter()
        if not counted:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for (intent, minute), n in counted.items():
                pipe.incrby(keys.intent_rate(intent, minute), n)
                pipe.expire(keys.intent_rate(intent, minute), (BASELINE_MINUTES + SPIKE_WINDOW + 5) * 60)
            totals = (await pipe.execute())[::2]
        latest: dict[str, tuple[int, int]] = {}  # intent -> (its latest minute, that minute's count)
        for (intent, minute), total in zip(counted, totals, strict=True):
            if minute >= latest.get(intent, (0, 0))[0]:
                latest[intent] = (minute, total)
        suggestions = []
        for intent, (minute, this_minute) in latest.items():
            if this_minute >= SPIKE_MIN // SPIKE_WINDOW:  # else too few this minute for any spike
                suggestion = await self._suggest_if_spiking(intent, minute, this_minute)
                suggestions += [suggestion] if suggestion else []
        for suggestion in suggestions:
            if self._on_spike is not None:
                await self._on_spike(suggestion)
        return suggestions

    async def _suggest_if_spiking(self, intent: str, minute: int, this_minute: int) -> Optional[dict]:
        before = await self.redis.mget([keys.intent_rate(intent, minute - back)
                                        for back in range(1, SPIKE_WINDOW + BASELINE_MINUTES)])  # fmt: skip
        counts = [this_minute, *(int(v or 0) for v in before)]
        recent, usual = sum(counts[:SPIKE_WINDOW]), sum(counts[SPIKE_WINDOW:]) * SPIKE_WINDOW / BASELINE_MINUTES
        if recent < max(SPIKE_MIN, SPIKE_FACTOR * usual) or await self.for_intent(intent):
            return None
        if not await self.redis.set(keys.incident_suggested(intent), 1, nx=True, ex=SUGGEST_EVERY_SECONDS):
            return None
        suggestion = {"at": time.time(), "intent": intent, "count": recent, "minutes": SPIKE_WINDOW,
                      "usual": round(usual, 1)}  # fmt: skip
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(SUGGESTIONS, json.dumps(suggestion))
            pipe.ltrim(SUGGESTIONS, 0, 99)
            await pipe.execute()
        return suggestion

    async def suggestions(self) -> list[dict]:
        return [json.loads(x) for x in await self.redis.lrange(SUGGESTIONS, 0, 19)]


def _active(incidents: list[Incident]) -> list[Incident]:
    now = time.time()
    return sorted((i for i in incidents if i.active(now)), key=lambda i: i.created_at)


def _grouped(incident_id: str) -> str:
    return keys.incident_grouped(incident_id)
