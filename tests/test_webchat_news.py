"""The web chat's long polls wait on one pub/sub listener per process (bot/stores/webchat_news.py):
a real redis-server of the test's own, restarted under a waiting listener."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.domain.messages import OutboundReply
from bot.stores.channel_state import WebChatSessions
from tests.conftest import RedisServer


async def test_polls_are_woken_again_after_a_redis_restart(tmp_path):
    server = RedisServer(tmp_path).start()
    client = Redis.from_url(server.url)
    sessions = WebChatSessions(client)
    loop = asyncio.get_running_loop()
    try:
        first = asyncio.create_task(sessions.lines_after("session-a", "0-0", 10))
        await asyncio.sleep(0.5)
        await sessions.append("session-a", "bot", OutboundReply("webchat", "session-a", "before"))
        assert [line["text"] for _, line in await asyncio.wait_for(first, 1)] == ["before"]

        server.stop()
        server.start()  # the same port: the listener lost its connection and must subscribe again
        for _ in range(20):  # the pool's connections died with the server: the first use fails
            try:
                await client.ping()
                break
            except RedisConnectionError:
                await asyncio.sleep(0.1)
        waiting = asyncio.create_task(sessions.lines_after("session-b", "0-0", 20))
        await asyncio.sleep(0.5)
        appended = loop.time()
        await sessions.append("session-b", "agent", OutboundReply("webchat", "session-b", "after the restart"))
        lines = await asyncio.wait_for(waiting, 5)
        assert [line["text"] for _, line in lines] == ["after the restart"]
        assert loop.time() - appended < 1.5, "woken by the listener, not at the poll's timeout"
    finally:
        await sessions.close()
        await client.close()
        server.stop()
