"""Replies on their way to users: one Redis stream per platform, drained by that platform's
adapter, which acknowledges each reply only once it was delivered.

A reply therefore survives an adapter outage, a restart of the bot and (with the shipped AOF
config) of Redis: what was not acknowledged is delivered when the adapter is back. Entries
that one consumer took and never acknowledged (it died) are claimed again after `retry_after`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from bot import metrics
from bot.domain.messages import Button, OutboundReply
from bot.stores import keys
from bot.stores.durability import replicated
from bot.stores.intake import ONCE_SECONDS
from bot.stores.together import Write, together

# The reply to a keyed message is queued once (see intake.py). KEYS: the stream, the
# message's mark. ARGV: the mark's life, then the entry's fields and values.
PUT_ONCE = """
if redis.call('GET', KEYS[2]) == 'replied' then return false end
redis.call('SET', KEYS[2], 'replied', 'EX', ARGV[1])
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
"""

# A delivered reply: acknowledged and deleted. KEYS: the stream. ARGV: the group, the entry.
DELIVERED = """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
"""

log = logging.getLogger(__name__)
GROUP = "adapters"


def stream(platform: str) -> str:
    return keys.outbox(platform)


def _encode(reply: OutboundReply, conversation: str, sender: str) -> dict:
    return {
        "platform": reply.platform, "chat_id": reply.chat_id, "text": reply.text, "conversation": conversation,
        "sender": sender,
        "reply_to": reply.reply_to or "", "buttons": json.dumps([[b.label, b.action] for b in reply.buttons]),
        **({"files": ",".join(reply.files)} if reply.files else {}),
    }  # fmt: skip


def _decode(fields: dict) -> tuple[OutboundReply, str, str]:
    data = {k.decode(): v.decode() for k, v in fields.items()}
    buttons = tuple(Button(label, action) for label, action in json.loads(data.get("buttons") or "[]"))
    reply = OutboundReply(data["platform"], data["chat_id"], data["text"], buttons, data.get("reply_to") or None,
                          tuple(f for f in data.get("files", "").split(",") if f))  # fmt: skip
    return reply, data.get("conversation", ""), data.get("sender", "bot")


class Outbox:
    """Puts replies in the platform's stream; `drain` delivers them."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._put_once = redis.register_script(PUT_ONCE)
        self._delivered = redis.register_script(DELIVERED)

    async def put(self, reply: OutboundReply, conversation: str = "", sender: str = "bot", once: str = "",
                  after: Write | None = None) -> str:  # fmt: skip
        """Queue `reply` for its platform; `sender` is "bot" or "agent". With `once` (the
        idempotency key of the message it answers) only the first reply to that message is
        queued; a later one is dropped and "" returned. `after`: another store's write, made
        first, in the same round trip (with `once`; without, just before)."""
        fields = _encode(reply, conversation, sender)
        if once:
            pairs = [item for pair in fields.items() for item in pair]
            put = Write(self._put_once, (stream(reply.platform), keys.once(once)), (ONCE_SECONDS, *pairs))
            entry = (await together(*(after,) if after else (), put))[-1]
            if entry is None:
                return ""
        else:
            if after:
                await after.run()
            entry = await self.redis.xadd(stream(reply.platform), fields)
        await replicated(self.redis)  # a reply the agent saw sent survives a failover
        return entry.decode() if isinstance(entry, bytes) else entry

    async def pending(self, platform: str) -> int:
        """Replies taken or waiting but not yet acknowledged."""
        await self._group(platform)
        info = await self.redis.xpending(stream(platform), GROUP)
        backlog = await self.redis.xlen(stream(platform))
        return max(int(info["pending"]), 0) if backlog else 0

    async def _group(self, platform: str) -> None:
        try:
            await self.redis.xgroup_create(stream(platform), GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _by_chat(self, name: str, entries: list) -> dict[str, list]:
        """The entries by chat, each chat's in stream order, each entry once (an own pending one
        may be claimed again as stale); entries deleted meanwhile are acknowledged."""
        by_chat: dict[str, list] = {}
        seen: set = set()
        for entry_id, fields in entries:
            if entry_id in seen:
                continue
            seen.add(entry_id)
            if not fields:  # deleted meanwhile
                await self.redis.xack(name, GROUP, entry_id)
                continue
            reply, conversation, sender = _decode(fields)
            by_chat.setdefault(reply.chat_id, []).append((entry_id, reply, conversation, sender))
        return by_chat

    async def _deliver_in_order(self, platform: str, items: list,
                                deliver: Callable[[OutboundReply, str, str], Awaitable[None]]) -> bool:  # fmt: skip
        """One chat's replies, in order; at the first failure the rest wait (still pending)."""
        name = stream(platform)
        for entry_id, reply, conversation, sender in items:
            try:
                await deliver(reply, conversation, sender)
            except Exception:  # the adapter's outage: keep it pending, try again later
                log.warning("%s: delivery failed, will retry", platform, exc_info=True)
                metrics.ADAPTER_ERRORS.labels(platform).inc()
                return False
            metrics.MESSAGES_OUT.labels(platform, sender).inc()
            await Write(self._delivered, (name,), (GROUP, entry_id)).run()
        return True

    async def drain(
        self,
        platform: str,
        consumer: str,
        deliver: Callable[[OutboundReply, str, str], Awaitable[None]],
        retry_after_ms: int = 30_000,
        block_ms: int = 1000,
    ) -> None:
        """Deliver replies forever: this consumer's own unacknowledged ones first, then
        others' stale ones, then new ones. A delivery that raises stays pending and its chat
        waits (`ChatsWaiting`); the other chats' replies go on meanwhile."""
        await self._group(platform)
        name = stream(platform)
        # This consumer's own unacknowledged replies exist only after a failed delivery (and a
        # restart); others' go stale only after `retry_after_ms`. Looking for them on every
        # turn cost two of a reply's four round trips (issue 17): mine after a failure and at
        # start, others' four times per `retry_after_ms`.
        mine_due, stale_due, waiting = True, 0.0, ChatsWaiting()
        while True:
            try:
                mine, stale, turn = [], [], time.monotonic()
                if mine_due or waiting.due(turn):
                    batches = await self.redis.xreadgroup(GROUP, consumer, {name: "0"}, count=50)
                    mine = batches[0][1] if batches else []
                if time.monotonic() >= stale_due:
                    stale = (await self.redis.xautoclaim(name, GROUP, consumer, retry_after_ms, "0-0", count=50))[1]
                    stale_due = time.monotonic() + (retry_after_ms / 4000 if len(stale) < 50 else 0)  # more wait?
                mine_due = len(mine) >= 50
                entries = list(mine) + list(stale)
                fresh = await self.redis.xreadgroup(GROUP, consumer, {name: ">"}, count=50, block=block_ms)
                entries += fresh[0][1] if fresh else []
                by_chat = await self._by_chat(name, entries)
                # Chats are served side by side; inside one chat, replies go out in order, and a
                # chat whose last delivery failed keeps its replies pending until its wait is over.
                due = {chat: items for chat, items in by_chat.items() if not waiting.waits(chat)}
                done = await asyncio.gather(*(self._deliver_in_order(platform, items, deliver)
                                              for items in due.values()))  # fmt: skip
                for chat, delivered in zip(due, done, strict=True):
                    waiting.note(chat, delivered)
                waiting.forget_expired(turn)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):
                mine_due = True
                log.warning("%s outbox: Redis unavailable, retrying", platform)
                await asyncio.sleep(1)


class ChatsWaiting:
    """Chats whose last delivery failed, each waiting before its replies are tried again: 1 s
    after a first failure, twice as long after each next one, 15 s at most (under the outbox's
    `retry_after`, so the replies stay this consumer's). A chat the platform keeps refusing, or
    a reply that fails for a reason of its own, delays only that chat: the whole drain used to
    pause a second after any failure, which held every chat's replies back."""

    FIRST, LONGEST = 1.0, 15.0

    def __init__(self) -> None:
        self._until: dict[str, tuple[float, float]] = {}  # chat -> (when it may be tried, its wait)

    def waits(self, chat: str) -> bool:
        entry = self._until.get(chat)
        return entry is not None and entry[0] > time.monotonic()

    def due(self, now: float) -> bool:
        """Whether a chat's wait is over: its pending replies are to be read again."""
        return any(at <= now for at, _ in self._until.values())

    def note(self, chat: str, delivered: bool) -> None:
        if delivered:
            self._until.pop(chat, None)
            return
        wait = min(self._until[chat][1] * 2, self.LONGEST) if chat in self._until else self.FIRST
        self._until[chat] = (time.monotonic() + wait, wait)

    def forget_expired(self, read_at: float) -> None:
        """Chats whose wait was over when the pending replies were read (`read_at`) and that had
        none to try: their replies went elsewhere (claimed by another consumer, deleted)."""
        self._until = {chat: entry for chat, entry in self._until.items() if entry[0] > read_at}
