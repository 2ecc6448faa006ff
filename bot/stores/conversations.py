"""Conversations in Redis: one per user per chat, with a redacted transcript.

A conversation's id is a short hash of `platform:chat:user`, so every replica finds the same
record without an index. States: bot -> queued -> assigned -> resolved, and back to bot when
the user writes again after a resolution or an agent hands the chat back.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Optional

from redis.asyncio import Redis
from redis.exceptions import WatchError

from bot.domain.messages import InboundMessage
from bot.stores import keys
from bot.stores.together import Write

PREFIX = keys.CONVERSATION_PREFIX
IDLE_TTL_SECONDS = 90 * 24 * 3600
TRANSCRIPT_LIMIT = 500  # entries kept per conversation
RECENT_LINES = 20  # where a line to redact afterwards is looked for (half of a secret)
LineRewrite = Callable[[list[str]], Optional[list[str]]]

# The sender of an internal note's line: agents wrote it for agents, the user never sees it.
NOTE = "note"

BOT, QUEUED, ASSIGNED, RESOLVED = "bot", "queued", "assigned", "resolved"
WITH_PEOPLE = (QUEUED, ASSIGNED)


def conversation_id(conversation_key: str) -> str:
    """The short, stable id of the conversation `platform:chat:user`."""
    return "c" + hashlib.blake2b(conversation_key.encode(), digest_size=6).hexdigest()


@dataclass(frozen=True)
class Line:
    """One (redacted) transcript line: who said it ("user", "bot", "agent:<name>", "system",
    or `NOTE`), what, and details kept with it (the intent, the language, an incident...)."""

    sender: str
    text: str
    details: dict[str, object] = field(default_factory=dict)

    def encoded(self, at: float) -> str:
        return json.dumps({"at": at, "from": self.sender, "text": self.text, **self.details}, ensure_ascii=False)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


@dataclass
class Conversation:
    """A conversation's record (the Redis hash `sb:conv:<id>`)."""

    id: str
    platform: str
    chat_id: str
    chat_kind: str
    user_id: str
    user_name: str = ""
    language: str = ""
    state: str = BOT
    lane: str = ""
    intent: str = ""
    ticket: str = ""
    agent: str = ""
    last_agent: str = ""  # who resolved or released it: they are told why a late reply is refused
    incident: str = ""  # the incident it was about, while that lasts
    topic: str = ""  # the intent of the last question the bot answered (what "a person, please" is about)
    team: str = ""  # the team its hand-off went to
    offered_at: str = ""  # offered to `agent` by auto-assignment and not accepted yet
    overflowed_from: str = ""  # the team it waited in before it overflowed to `team`
    followup_email: str = ""  # where a web chat user asked agents' replies to follow them (services/followup.py)
    followup_thread: str = ""  # the e-mail thread they follow in (its first message's id)
    tags: list[str] = field(default_factory=list)
    created_at: float = 0.0
    updated_at: float = 0.0
    queued_at: float = 0.0
    claimed_at: float = 0.0

    @classmethod
    def from_redis(cls, raw: dict) -> Conversation:
        data = {_text(k): _text(v) for k, v in raw.items()}
        floats = ("created_at", "updated_at", "queued_at", "claimed_at")
        return cls(
            **{k: data.get(k, "") for k in cls.__dataclass_fields__ if k not in floats and k != "tags"},
            tags=[t for t in data.get("tags", "").split(",") if t],
            **{k: float(data.get(k) or 0) for k in floats},
        )

    def public(self) -> dict:
        """The record as the agent API shows it."""
        return {
            "id": self.id, "platform": self.platform, "chat_id": self.chat_id, "chat_kind": self.chat_kind,
            "user_id": self.user_id, "user_name": self.user_name, "language": self.language,
            "state": self.state, "lane": self.lane or None, "intent": self.intent or None,
            "ticket": self.ticket or None, "agent": self.agent or None, "last_agent": self.last_agent or None,
            "tags": self.tags,
            "created_at": self.created_at, "updated_at": self.updated_at,
            "queued_at": self.queued_at or None, "claimed_at": self.claimed_at or None,
            "team": self.team or None, "offered": bool(self.offered_at),
            "overflowed_from": self.overflowed_from or None,
        }  # fmt: skip


class ConversationStore:
    """Reads and writes conversation records and transcripts."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        # A message's reads and writes as one script each: the same commands as a MULTI
        # pipeline, a third less of the client's CPU (one command to pack, one reply to read).
        self._for_message = redis.register_script(_FOR_MESSAGE)
        self._record = redis.register_script(_RECORD)

    @staticmethod
    def key(cid: str) -> str:
        return PREFIX + cid

    @staticmethod
    def log_key(cid: str) -> str:
        return PREFIX + cid + ":log"

    async def get(self, cid: str) -> Optional[Conversation]:
        raw = await self.redis.hgetall(self.key(cid))
        return Conversation.from_redis(raw) if raw else None

    async def for_message(self, message: InboundMessage) -> Conversation:
        """The message's conversation, created on first contact."""
        return (await self.arrive(message, take_secret_marks=False))[0]

    async def arrive(self, message: InboundMessage, take_secret_marks: bool = True) -> tuple[Conversation, str]:
        """The message's conversation (created on first contact) and what the last message
        ended with that may be half of a secret (see `keys.secret_marks`; cleared as it is
        read: it is about the last message alone), in one round trip."""
        cid = conversation_id(message.conversation_key)
        now = time.time()
        marks = keys.secret_marks(cid) if take_secret_marks else ""
        raw, taken = await Write(self._for_message, (self.key(cid), marks), (
            now, BOT, IDLE_TTL_SECONDS, "id", cid, "platform", message.platform, "chat_id", message.chat_id,
            "chat_kind", message.chat_kind, "user_id", message.user_id, "user_name", message.user_name,
            "updated_at", now,
        )).run()  # fmt: skip
        return Conversation.from_redis(dict(zip(raw[::2], raw[1::2], strict=True))), _text(taken or b"")

    async def update(self, cid: str, **fields: object) -> None:
        values = {k: str(v) for k, v in fields.items()}
        await self.redis.hset(self.key(cid), mapping={**values, "updated_at": time.time()})

    async def mark_sla_breached(self, cid: str, at: float) -> bool:
        """Note that the conversation waited past its lane's pickup target; False when that was
        noted before (the mark is cleared when it is queued again)."""
        return bool(await self.redis.hsetnx(self.key(cid), "sla_breached_at", at))

    async def append(self, cid: str, sender: str, text: str, **details: object) -> None:
        """Add a (redacted) line to the transcript: sender is "user", "bot", "agent:<name>",
        "system" or `NOTE` (an agent's internal note, `agent` in its details: never sent)."""
        await self.record(cid, Line(sender, text, details))

    async def record(self, cid: str, *lines: Line, **fields: object) -> None:
        """Add `lines` to the transcript, in order, and set `fields` on the record: one round
        trip for what a message changes (the user's line, the answer, its language)."""
        await self.record_write(cid, *lines, **fields).run()

    def record_write(self, cid: str, *lines: Line, **fields: object) -> Write:
        """`record`'s write, to send with another store's (`bot/stores/together.py`)."""
        now = time.time()
        pairs = [item for k, v in {**fields, "updated_at": now}.items() for item in (k, str(v))] if fields else []
        return Write(self._record, (self.key(cid), self.log_key(cid)), (
            len(pairs) // 2, *pairs, TRANSCRIPT_LIMIT, IDLE_TTL_SECONDS, *(line.encoded(now) for line in lines)))

    async def add_mentions(self, cid: str, names: Iterable[str]) -> None:
        """The agents `names` may read the conversation from now on: a note mentioned them."""
        names = list(names)
        if names:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.sadd(keys.conversation_mentions(cid), *names)
                pipe.expire(keys.conversation_mentions(cid), IDLE_TTL_SECONDS)
                await pipe.execute()

    async def is_mentioned(self, cid: str, name: str) -> bool:
        """Whether a note on the conversation mentioned the agent `name`."""
        return bool(await self.redis.sismember(keys.conversation_mentions(cid), name))

    async def transcript(self, cid: str, first: int = 0) -> list[dict]:
        """The transcript, or only its `first` lines."""
        return [json.loads(line) for line in await self.redis.lrange(self.log_key(cid), 0, first - 1)]

    async def leave_secret_marks(self, cid: str, marks: str, ttl_seconds: int) -> None:
        await self.redis.set(keys.secret_marks(cid), marks, ex=ttl_seconds)

    async def rewrite_user_lines(self, cid: str, count: int, rewrite: LineRewrite) -> bool:
        """Replace the text of the latest `count` user lines by what `rewrite` makes of them
        (oldest first; None leaves them): the first half of a secret, found when the second
        came. False when nothing was rewritten; a line appended meanwhile makes it read again."""
        log_key = self.log_key(cid)
        async with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(3):
                try:
                    await pipe.watch(log_key)
                    recent = [json.loads(line) for line in await pipe.lrange(log_key, -RECENT_LINES, -1)]
                    users = [i for i, entry in enumerate(recent) if entry.get("from") == "user"][-count:]
                    texts = rewrite([recent[i]["text"] for i in users]) if len(users) == count else None
                    if texts is None:
                        return False
                    pipe.multi()
                    for i, text in zip(users, texts, strict=True):
                        line = json.dumps({**recent[i], "text": text}, ensure_ascii=False)
                        pipe.lset(log_key, i - len(recent), line)  # from the end: trimming keeps it
                    await pipe.execute()
                    return True
                except WatchError:
                    continue
        return False


# KEYS: the record, the secret marks to take ("" for none). ARGV: now, the state of a new
# conversation, its TTL, then field, value... Returns the record (HGETALL's list) and the marks.
_FOR_MESSAGE = """
redis.call('HSETNX', KEYS[1], 'created_at', ARGV[1])
redis.call('HSETNX', KEYS[1], 'state', ARGV[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[3])
local marks = false
if KEYS[2] ~= '' then marks = redis.call('GETDEL', KEYS[2]) end
return {redis.call('HGETALL', KEYS[1]), marks}
"""

# KEYS: the record, the transcript. ARGV: n, then n field-value pairs, the transcript's limit,
# its TTL, then the lines to add.
_RECORD = """
local n = tonumber(ARGV[1])
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 2, 1 + 2 * n)) end
if #ARGV > 3 + 2 * n then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 4 + 2 * n))
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2 + 2 * n]), -1)
  redis.call('EXPIRE', KEYS[2], ARGV[3 + 2 * n])
end
"""
