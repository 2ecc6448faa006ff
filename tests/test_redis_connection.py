"""The bot's Redis client on a real Redis: a pooled connection is checked before each command
(`bot/stores/connection.py`), so a command never reads a reply meant for another one, and a
connection the server closed is opened again instead of failing the next command."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import redis as redis_sync

from bot.stores.connection import connect

DB = "/17"  # this module's own database


def client(redis_server, config):
    return connect(replace(config, redis_url=redis_server.url.rsplit("/", 1)[0] + DB), {})


async def test_a_reply_left_unread_on_a_pooled_connection_is_never_read_as_the_next_commands(redis_server, config):
    redis = client(redis_server, config)
    await redis.set("balance", "250 USDT")
    connection = await redis.connection_pool.get_connection("PING")
    await connection.send_command("GET", "other")  # sent, its reply never read (as a bug would leave it)
    await redis.connection_pool.release(connection)
    await asyncio.sleep(0.1)  # the stray reply has arrived
    assert await redis.get("balance") == b"250 USDT"
    await redis.close()


async def test_a_connection_the_server_closed_is_opened_again_for_the_next_command(redis_server, config):
    redis = client(redis_server, config)
    await redis.set("state", "queued")
    name = f"checked-{id(redis)}"
    await redis.client_setname(name)
    admin = redis_sync.Redis.from_url(redis_server.url)
    [mine] = [entry["id"] for entry in admin.client_list() if entry.get("name") == name]
    admin.client_kill_filter(_id=mine)
    await asyncio.sleep(0.1)  # the close has reached the bot's side
    assert await redis.get("state") == b"queued"
    await redis.close()


async def test_what_the_bot_stores_reads_back_the_same_and_what_redis_cannot_hold_is_refused(redis_server, config):
    """Commands are packed by hiredis (`HiredisPacked`): text in any script, numbers as Python
    writes them, two-word commands and pipelines arrive as they were given; None is refused
    with redis-py's own error before anything is sent."""
    import time

    import pytest
    from redis.exceptions import DataError

    redis = client(redis_server, config)
    connection = await redis.connection_pool.get_connection("PING")
    assert type(connection).__name__.startswith("HiredisPacked")
    await redis.connection_pool.release(connection)
    now = time.time()
    values = {"text": "¿Dónde está mi depósito? 我的充值 ✓", "when": now, "count": 12345678901234567890,
              "raw": b"\x00\xff"}  # fmt: skip
    await redis.hset("packed", mapping=values)
    stored = await redis.hgetall("packed")
    assert stored[b"text"].decode() == values["text"] and float(stored[b"when"]) == now
    assert stored[b"count"] == b"12345678901234567890" and stored[b"raw"] == b"\x00\xff"
    sha = await redis.script_load("return ARGV[1] .. '|' .. #ARGV")  # SCRIPT LOAD: a two-word command
    assert await redis.evalsha(sha, 0, "mi depósito", 2) == "mi depósito|2".encode()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set("a", 1.5).incrbyfloat("a", 1).get("a")
        assert (await pipe.execute())[-1] == b"2.5"
    with pytest.raises(DataError):
        await redis.set("nothing", None)
    assert await redis.get("a") == b"2.5", "the connection is still usable after a refused command"
    await redis.close()
