"""The audit trail, `sb:audit`: what agents, leads and operators did, one stream entry per
action: when, who (a name and a role, never a token), what, on what (a conversation, an
incident, an agent, a platform user by pseudonym), from which address, and how it ended.

Append-only: nothing here edits or deletes an entry, and no route writes one except by doing
the action it records. Entries older than the retention are dropped as new ones are written
(exact MINID trimming: each write drops only what has just aged out, so what is kept is
exactly the last `retention_days`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Optional

from redis.asyncio import Redis

from bot.stores import keys

SCAN_BATCH = 500
# A filtered page reads at most this many entries, then hands back a cursor to go on from:
# a filter that matches little never makes one request read the whole trail.
SCAN_LIMIT_PER_PAGE = 20_000
FIELDS = ("actor", "role", "action", "object", "client", "outcome")


def user_ref(platform: str, user_id: str) -> str:
    """How the trail names a platform user: a pseudonym (part of a SHA-256), so that an erased
    user's id is nowhere in Redis while whoever knows the id can still find what was done."""
    digest = hashlib.sha256(f"{platform}:{user_id}".encode()).hexdigest()[:20]
    return f"user:{platform}:{digest}"


@dataclass(frozen=True)
class AuditEntry:
    """One recorded action. `outcome`: "ok", or the refusal's code ("forbidden", "not_found")."""

    actor: str
    role: str
    action: str
    object: str = ""
    client: str = ""
    outcome: str = "ok"
    at: float = 0.0
    id: str = ""

    def public(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class AuditFilter:
    """What a query keeps: exact actor, action and object (any when empty), and a period."""

    actor: str = ""
    action: str = ""
    object: str = ""
    since: Optional[float] = None
    until: Optional[float] = None

    def keeps(self, entry: AuditEntry) -> bool:
        return all(not wanted or wanted == got for wanted, got in
                   ((self.actor, entry.actor), (self.action, entry.action), (self.object, entry.object)))  # fmt: skip


def _entry(entry_id: bytes, fields: dict[bytes, bytes]) -> AuditEntry:
    data = {k.decode(): v.decode() for k, v in fields.items()}
    stream_id = entry_id.decode()
    return AuditEntry(**{name: data.get(name, "") for name in FIELDS},
                      at=int(stream_id.split("-")[0]) / 1000, id=stream_id)  # fmt: skip


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class AuditTrail:
    """Writes and reads the audit stream."""

    def __init__(self, redis: Redis, retention_days: int) -> None:
        self.redis = redis
        self.retention_seconds = retention_days * 86400

    async def record(self, entry: AuditEntry, at: Optional[float] = None) -> str:
        """Append `entry` (at `at`, now without it; a time before the newest entry's is refused
        by Redis), dropping what is older than the retention; the entry's id."""
        now = time.time() if at is None else at
        fields = {name: str(getattr(entry, name)) for name in FIELDS}
        entry_id = await self.redis.xadd(keys.AUDIT, fields, id="*" if at is None else f"{_ms(at)}-*",
                                         minid=_ms(now - self.retention_seconds), approximate=False)  # fmt: skip
        return entry_id.decode() if isinstance(entry_id, bytes) else entry_id

    async def page(self, wanted: AuditFilter, cursor: str = "", limit: int = 100) -> tuple[list[AuditEntry], str]:
        """Up to `limit` entries `wanted` keeps, newest first, older than `cursor` (an entry id,
        from the previous page); and the cursor of the next page, "" when there is none."""
        upper = f"({cursor}" if cursor else (str(_ms(wanted.until)) if wanted.until is not None else "+")
        lower = str(_ms(wanted.since)) if wanted.since is not None else "-"
        found: list[AuditEntry] = []
        scanned = 0
        while len(found) < limit and scanned < SCAN_LIMIT_PER_PAGE:
            batch = await self.redis.xrevrange(keys.AUDIT, max=upper, min=lower, count=SCAN_BATCH)
            if not batch:
                return found, ""
            for entry_id, fields in batch:
                scanned += 1
                upper = f"({entry_id.decode()}"
                entry = _entry(entry_id, fields)
                if wanted.keeps(entry):
                    found.append(entry)
                    if len(found) == limit:
                        break
            if len(batch) < SCAN_BATCH and len(found) < limit:
                return found, ""
        return found, upper[1:]

    async def between(self, since: Optional[float] = None, until: Optional[float] = None) -> AsyncIterator[AuditEntry]:
        """Every entry of the period, oldest first (the export)."""
        lower = str(_ms(since)) if since is not None else "-"
        upper = str(_ms(until)) if until is not None else "+"
        while True:
            batch = await self.redis.xrange(keys.AUDIT, min=lower, max=upper, count=SCAN_BATCH)
            for entry_id, fields in batch:
                yield _entry(entry_id, fields)
            if len(batch) < SCAN_BATCH:
                return
            lower = f"({batch[-1][0].decode()}"
