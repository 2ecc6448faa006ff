"""What the channels keep in Redis between messages: the web chat's session lines and send
counts, the private threads the bot opened on Discord, X's polling marks (the leader lock,
what was read and answered, replies parked until a user accepts DMs), and e-mail's threads
and addresses (`mail_state.py`). Adapters never hold a Redis client: the composition root
hands each the store it needs from `ChannelState` (`ChannelKit` in `bot/services/channels.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.domain.messages import OutboundReply
from bot.stores import keys
from bot.stores.durability import replicated
from bot.stores.intake import ONCE_SECONDS
from bot.stores.together import Write
from bot.stores.webchat_news import SessionNews

if TYPE_CHECKING:
    from bot.stores.mail_state import MailState

SESSION_TTL_SECONDS = 7 * 24 * 3600
SESSION_MAX_MESSAGES = 500
SEEN_SECONDS = 60  # a page is there this long after its last poll ended
POLL_READS = 8  # the web chat's long polls read through at most this many connections at once
X_SEEN_SECONDS = 30 * 24 * 3600
X_PROGRESS_SECONDS = 24 * 3600
# Renew the leader lock only if we hold it; take it if nobody does.
LEAD = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""
# A web chat message and its answer in one step (one round trip), waking the session's polls:
# the user's line, then the reply naming it (`reply_to`), added once per message key. KEYS: the
# session's stream, the message's mark ("" without a key), the news channel. ARGV: the mark's
# life, the stream's length and life, the session, how many items the user's line has, its
# fields and values, then the reply's (none: no reply).
EXCHANGE = """
local said_items = tonumber(ARGV[5])
local said = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 6, 5 + said_items))
local reply = false
if #ARGV > 5 + said_items and (KEYS[2] == '' or redis.call('GET', KEYS[2]) ~= 'replied') then
  if KEYS[2] ~= '' then redis.call('SET', KEYS[2], 'replied', 'EX', ARGV[1]) end
  local fields = {unpack(ARGV, 6 + said_items)}
  table.insert(fields, 'reply_to')
  table.insert(fields, said)
  reply = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(fields))
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', KEYS[3], ARGV[4])
return {said, reply}
"""
# This minute's sends of a session and of an address (KEYS), each counted and kept two minutes.
COUNT = ("local n = {} for i, k in ipairs(KEYS) do n[i] = redis.call('INCR', k) redis.call('EXPIRE', k, 120) end "
         "return n")
RESIGN = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class WebChatSessions:
    """Each session's lines, both ways, a stream whose ids are the page's cursor (polls wait on
    `SessionNews`, one connection per process; their reads share `POLL_READS` connections)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._exchange = redis.register_script(EXCHANGE)
        self._count = redis.register_script(COUNT)
        self.news = SessionNews(redis)
        self.poll_reads = asyncio.Semaphore(POLL_READS)

    async def append(self, session: str, sender: str, reply: OutboundReply,
                     files: Sequence[Mapping[str, str]] = (), **extra: str) -> str:  # fmt: skip
        """One line (`sender`: user, bot or agent; `files`: what an agent attached, each as
        {"id", "name", "media_type"}); returns its id. The session's waiting polls, on every
        replica, are woken."""
        stream = keys.webchat_session(session)
        fields = _line(sender, reply, {**extra, **({"files": json.dumps(list(files))} if files else {})})
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(stream, fields, maxlen=SESSION_MAX_MESSAGES, approximate=True)
            pipe.expire(stream, SESSION_TTL_SECONDS)
            pipe.publish(keys.WEBCHAT_NEWS, session)
            entry, _, _ = await pipe.execute()
        return entry.decode()

    async def append_exchange(self, session: str, said: OutboundReply, reply: OutboundReply | None,
                              once: str = "", **extra: str) -> tuple[str, str]:  # fmt: skip
        """The user's line (`said`, with `extra`, e.g. its client id) and the bot's `reply` to
        it, if any, which names the line it answers (`reply_to`): the ids of both, in one step.
        With `once`, the idempotency key of the message, the reply is added only if that
        message was not answered yet (see `bot/stores/intake.py`); its id is "" otherwise."""
        said_items = _items(_line("user", said, extra))
        reply_items = _items(_line("bot", reply, {})) if reply else []
        args = [ONCE_SECONDS, SESSION_MAX_MESSAGES, SESSION_TTL_SECONDS, session, len(said_items),
                *said_items, *reply_items]  # fmt: skip
        mark = keys.once(once) if once else ""
        said_id, reply_id = await Write(self._exchange, (keys.webchat_session(session), mark, keys.WEBCHAT_NEWS),
                                        tuple(args)).run()  # fmt: skip
        return said_id.decode(), reply_id.decode() if reply_id else ""

    async def redact_user_lines(self, session: str, texts: tuple[str, ...]) -> None:
        """The session's latest user lines (as many as `texts`) replaced by `texts`, oldest
        first: the first half of a secret the next message completed. A stream entry cannot
        change, so each is deleted and added again naming the line it `replaces`."""
        stream = keys.webchat_session(session)
        recent = await self.redis.xrevrange(stream, count=50)
        users = [(entry.decode(), fields) for entry, fields in recent if fields.get(b"from") == b"user"][: len(texts)]
        if len(users) != len(texts):
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            for (entry, fields), text in zip(reversed(users), texts, strict=True):
                kept = {k.decode(): v.decode() for k, v in fields.items()}
                pipe.xdel(stream, entry)
                pipe.xadd(stream, {**kept, "text": text, "replaces": kept.get("replaces", entry)})
            pipe.publish(keys.WEBCHAT_NEWS, session)
            await pipe.execute()

    async def upload_progress(self, session: str, client_id: str) -> tuple[str, str]:
        """How far the upload the page keyed `client_id` got: ("", "") not begun, ("said",
        line id) the user's line written, ("taken", line id) the file handed to the bot."""
        mark = await self.redis.get(keys.webchat_upload(session, client_id))
        step, _, line = (mark or b"").decode().partition(":")
        return step, line

    async def note_upload(self, session: str, client_id: str, step: str, line: str) -> None:
        """The upload keyed `client_id` got to `step` ("said", "taken"; see `upload_progress`)."""
        await self.redis.set(keys.webchat_upload(session, client_id), f"{step}:{line}", ex=ONCE_SECONDS)

    async def replicated(self) -> bool:
        """Wait until a replica has the lines appended so far (`durability`): the web chat's
        answer is acknowledged to the page only then."""
        return await replicated(self.redis)

    async def lines_after(self, session: str, after: str, wait_seconds: float) -> list[tuple[str, dict[str, str]]]:
        """Up to 100 lines after the cursor `after`, waiting up to `wait_seconds` for one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        seen_for = int(wait_seconds) + SEEN_SECONDS  # the page is there: marked with the first read
        while True:
            async with self.news.watching(session) as news:  # before the read: no line slips between
                lines = await self._read(session, after, seen_for)
                seen_for = 0
                left = deadline - loop.time()
                if lines or left <= 0:
                    return lines
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(news, left)

    async def _read(self, session: str, after: str, seen_for: int = 0) -> list[tuple[str, dict[str, str]]]:
        """The lines after `after` (with `seen_for`, the page marked as there that long, too)."""
        async with self.poll_reads, self.redis.pipeline(transaction=False) as pipe:
            if seen_for:
                pipe.set(keys.webchat_seen(session), 1, ex=seen_for)
            pipe.xrange(keys.webchat_session(session), min=f"({after}", count=100)
            entries = (await pipe.execute())[-1]
        return [(entry.decode(), {k.decode(): v.decode() for k, v in fields.items()}) for entry, fields in entries]

    async def polled_lately(self, session: str) -> bool:
        """Whether the session's page polled in the last `SEEN_SECONDS` (the user is there)."""
        return bool(await self.redis.exists(keys.webchat_seen(session)))

    async def signing_secret(self) -> bytes:
        """The key signing session ids when the environment gives none, shared through Redis."""
        await self.redis.set(keys.WEBCHAT_SECRET, secrets.token_hex(32), nx=True)
        return await self.redis.get(keys.WEBCHAT_SECRET)

    async def close(self) -> None:
        """Stops waking polls (the bot is stopping)."""
        await self.news.close()

    async def count_sends(self, session: str, address: str, minute: int) -> tuple[int, int] | None:
        """This minute's messages of the session and of the address, this one included; None
        while Redis is down (the message is refused then anyway)."""
        counters = (keys.webchat_rate("session", session, minute), keys.webchat_rate("ip", address, minute))
        try:  # a script: a third less of the client's CPU than the four commands' pipeline
            by_session, by_address = await Write(self._count, counters, ()).run()
        except (RedisError, ConnectionError):
            return None
        return by_session, by_address


def _line(sender: str, reply: OutboundReply, extra: dict[str, str]) -> dict[str, str]:
    """A session line's fields (`buttons` and an agent's `files` as JSON)."""
    return {"from": sender, "text": reply.text, "buttons": json.dumps([[b.label, b.action] for b in reply.buttons]),
            **extra}  # fmt: skip


def _items(fields: dict[str, str]) -> list[str]:
    return [item for pair in fields.items() for item in pair]


class DiscordThreads:
    """The private support threads the bot opened (any replica, any restart): what is said in
    them is private."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def add(self, thread_id: str) -> None:
        await self.redis.sadd(keys.DISCORD_THREADS, thread_id)

    async def contains(self, channel_id: str) -> bool:
        return bool(await self.redis.sismember(keys.DISCORD_THREADS, channel_id))


class XState:
    """X's polling marks and delivery progress, shared by the replicas."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def lead(self, consumer: str, seconds: float) -> bool:
        """Take or renew the leader lock (one replica polls); False while another holds it."""
        return bool(await self.redis.eval(LEAD, 1, keys.X_LEADER, consumer, int(seconds * 1000)))

    async def resign(self, consumer: str) -> None:
        """Give the lock up if we hold it; with Redis down it simply expires."""
        try:
            await self.redis.eval(RESIGN, 1, keys.X_LEADER, consumer)
        except RedisError:
            pass

    async def last_read(self, feed: str) -> str | None:
        """The id of the last mention or DM read (`feed`: mentions or dm); None before the
        first poll, "0" when there was nothing then."""
        since = await self.redis.get(keys.x_since(feed))
        return since.decode() if since else None

    async def mark_read(self, feed: str, item_id: str) -> None:
        await self.redis.set(keys.x_since(feed), item_id)

    async def handled_before(self, what: str) -> bool:
        """Whether a mention or DM was handled already (`mark_handled`, for a month)."""
        return bool(await self.redis.exists(keys.x_seen(what)))

    async def mark_handled(self, what: str) -> None:
        """The mention or DM was taken by the core: a later read skips it. Marked after, not
        before: a crash in between has it read again, and the core answers it once."""
        await self.redis.set(keys.x_seen(what), 1, ex=X_SEEN_SECONDS)

    async def count_mention(self, author: str, hour: int) -> int:
        """The author's mentions answered in this hour, this one included."""
        key = keys.x_replies(author, hour)
        count = await self.redis.incr(key)
        await self.redis.expire(key, 3600)
        return int(count)

    async def thread_progress(self, digest: str) -> tuple[int, str | None, bool]:
        """How many posts of a reply's thread were made, the last one's id, and whether the
        next one was being sent when the sender stopped (it may have been posted)."""
        done = await self.redis.hgetall(keys.x_progress(digest))
        last, count = done.get(b"last"), int(done.get(b"count", 0))
        return count, last.decode() if last else None, int(done.get(b"trying", -1)) == count

    async def record_attempt(self, digest: str, index: int) -> None:
        """Post `index` of the thread is being sent (a crash now leaves it unknown)."""
        await self.redis.hset(keys.x_progress(digest), "trying", index)
        await self.redis.expire(keys.x_progress(digest), X_PROGRESS_SECONDS)

    async def record_post(self, digest: str, count: int, last: str) -> None:
        await self.redis.hset(keys.x_progress(digest), mapping={"count": count, "last": last})
        await self.redis.expire(keys.x_progress(digest), X_PROGRESS_SECONDS)

    async def park(self, user: str, text: str, conversation: str, sender: str) -> None:
        """A DM the user does not accept yet: kept until they write to us."""
        await self.redis.rpush(keys.x_parked(user), json.dumps([text, conversation, sender]))

    async def unpark(self, user: str) -> tuple[str, str, str] | None:
        """The oldest DM parked for `user` (text, conversation, sender), taken out; None when
        none is left."""
        raw = await self.redis.lpop(keys.x_parked(user))
        if raw is None:
            return None
        text, conversation, sender = json.loads(raw)
        return text, conversation, sender


@dataclass(frozen=True)
class ChannelState:
    """The channels' stores, opened on one Redis connection."""

    webchat: WebChatSessions
    discord_threads: DiscordThreads
    x: XState
    mail: MailState

    @classmethod
    def on(cls, redis: Redis) -> ChannelState:
        from bot.stores.mail_state import MailState  # it imports this module's lock scripts

        return cls(WebChatSessions(redis), DiscordThreads(redis), XState(redis), MailState(redis))
