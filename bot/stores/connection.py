"""The one place the bot makes its Redis client: from `REDIS_URL`, or, with Redis Sentinel
configured (`REDIS_SENTINELS`), through the sentinels, which name the master again after a
failover.

A Sentinel client asks the sentinels for the master's address whenever it opens a connection;
when the master dies its connections fail (a store outage: the web chat answers 503 and the
page sends again, the outbox drain retries) until the sentinels have promoted a replica, and
the next connection goes there. A connection to a demoted master (READONLY) is dropped too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import HiredisParser
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import DataError

from bot.config import Config
from bot.stores import durability

# Seconds to open a connection; sentinels answer small questions, so their replies are timed too.
CONNECT_TIMEOUT_SECONDS = 3.0
SENTINEL_TIMEOUT_SECONDS = 1.0


def connect(config: Config, env: Mapping[str, str]) -> Redis:
    """The bot's Redis client (connections open on first use), with the replicas its
    acknowledging writes wait for (`durability`). Passwords come from the environment:
    `REDIS_PASSWORD` for the master (with sentinels; REDIS_URL carries its own) and
    `REDIS_SENTINEL_PASSWORD` for the sentinels."""
    if config.redis_sentinels:
        sentinel_options: dict = {"socket_timeout": SENTINEL_TIMEOUT_SECONDS,
                                  "socket_connect_timeout": SENTINEL_TIMEOUT_SECONDS}  # fmt: skip
        if env.get("REDIS_SENTINEL_PASSWORD"):
            sentinel_options["password"] = env["REDIS_SENTINEL_PASSWORD"]
        sentinel = Sentinel(list(config.redis_sentinels), sentinel_kwargs=sentinel_options)
        redis = sentinel.master_for(config.redis_master_name, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                    password=env.get("REDIS_PASSWORD") or None, parser_class=CheckedParser)  # fmt: skip
    else:
        redis = Redis.from_url(config.redis_url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                               parser_class=CheckedParser)  # fmt: skip
    pool = redis.connection_pool  # its kind of connection (TCP, TLS, a socket file, the sentinels' master)
    pool.connection_class = type(f"HiredisPacked{pool.connection_class.__name__}",
                                 (HiredisPacked, pool.connection_class), {})  # fmt: skip
    durability.require(redis, config.redis.wait_replicas, config.redis.replica_wait_ms)
    return redis


def describe(config: Config) -> str:
    """Where the bot looks for Redis, for an error message (no password)."""
    if config.redis_sentinels:
        where = ",".join(f"{host}:{port}" for host, port in config.redis_sentinels)
        return f"the master {config.redis_master_name!r} of REDIS_SENTINELS ({where})"
    return "Redis at REDIS_URL"


class CheckedParser(HiredisParser):
    """redis-py's reply parser (hiredis), with a cheaper check of a connection the pool hands
    out. redis-py asks whether a pooled connection holds unread data before every command by
    trying to read it under a zero timeout: a timer, a cancelled read and one more turn of the
    event loop for each command (7.5% of the bot's CPU on the Telegram path, py-spy at 100 msg/s).
    Here the check reads what the connection's stream holds already: data left unread, or the
    server's close. (redis-py closes a connection whose command was interrupted, so unread data
    is the rare case the check is for, and a close that arrives in the same moment fails that
    one command as it would fail on any dead connection.)"""

    __slots__ = ()

    async def can_read_destructive(self) -> bool:
        stream = self._stream
        if not self._connected or stream is None:
            return await super().can_read_destructive()  # its error
        if self._reader.gets() is not False:  # a reply parsed and never read
            return True
        return bool(stream._buffer) or stream.at_eof()


class HiredisPacked:
    """A connection whose commands are packed by hiredis (C) instead of redis-py 4.6's Python
    (which redis-py 5 does too): a message's five scripts carry ~85 arguments, 40 -> 4 µs for
    one of 22 (issue 17). The same bytes; the same errors for what cannot be sent."""

    def pack_command(self, *args: Any) -> list[bytes]:
        if isinstance(args[0], str):  # a command of two words ("SCRIPT LOAD") goes as two
            args = (*args[0].encode().split(), *args[1:])
        elif b" " in args[0]:
            args = (*args[0].split(), *args[1:])
        try:
            return [hiredis.pack_command(args)]
        except TypeError as exc:  # None, a bool: redis-py's own error for them
            raise DataError(f"Invalid input: {exc}") from None
