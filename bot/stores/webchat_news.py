"""Wakes the web chat's long polls when their session gets a new line, on one Redis connection
per process.

A long poll used to hold a Redis connection of its own for up to 25 s (a blocking XREAD), so
10,000 open polls meant 10,000 Redis connections and the bot ran out of file descriptors. Now
every line appended is also announced on one pub/sub channel (`keys.WEBCHAT_NEWS`, payload: the
session), one listener per process reads that channel, and a waiting poll is an asyncio
future: it costs no connection while it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.stores import keys

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 1.0


class SessionNews:
    """The polls waiting for news, by session, and the one listener that wakes them."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.waiting: dict[str, set[asyncio.Future[None]]] = {}
        self.listener: asyncio.Task | None = None

    @contextlib.asynccontextmanager
    async def watching(self, session: str) -> AsyncIterator[asyncio.Future[None]]:
        """A future done at the session's next line (or when the listener reconnects and
        news may have been missed). Enter it before reading the stream: a line appended
        after the read then still wakes the poll."""
        if self.listener is None or self.listener.done():
            self.listener = asyncio.create_task(self._listen())
        news: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(session, set()).add(news)
        try:
            yield news
        finally:
            waiters = self.waiting.get(session)
            if waiters is not None:
                waiters.discard(news)
                if not waiters:
                    del self.waiting[session]

    def _wake(self, session: str | None = None) -> None:
        """Wakes the polls of `session`, or every poll (None)."""
        sessions = list(self.waiting) if session is None else [session]
        for name in sessions:
            for news in self.waiting.get(name, ()):
                if not news.done():
                    news.set_result(None)

    async def _listen(self) -> None:
        outage = False  # told once per outage, not every second
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(keys.WEBCHAT_NEWS)
                outage = False
                self._wake()  # lines appended while we were not subscribed: everyone reads again
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        self._wake(message["data"].decode())
            except (RedisError, OSError) as exc:
                if not outage:
                    log.warning("web chat news: Redis unavailable (%s); trying again every second", type(exc).__name__)
                outage = True
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.close()
            self._wake()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def close(self) -> None:
        """Stops the listener (the bot is stopping)."""
        if self.listener is not None:
            self.listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.listener
            self.listener = None
