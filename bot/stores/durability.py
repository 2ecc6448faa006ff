"""Durability across a failover: a write that acknowledges something to a user or an agent (a
message accepted, a hand-off queued, an agent's reply) waits until a replica has it, so the
replica Sentinel promotes when the master dies has it too.

Redis's WAIT counts the replicas that have every write the *calling connection* made. The
stores write through a pool, so the write to confirm may have gone out on another connection
than the one that waits; `replicated` therefore first publishes a mark on its own connection
(a publish is replicated; it stores nothing) and waits for that. Replicas apply the stream in
order, so a replica that has the mark has everything the master had done before it, ours
included.

How many replicas and how long is set per client by `require` (`connection.connect` does it
from the configuration); a client it was not called for (tests', tools') does not wait.
A wait that times out (no replica left after a failover, a replica lagging) is counted and
logged, and the write stands: the bot stays up with the durability it has.
"""

from __future__ import annotations

import logging
import time
import weakref
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.stores import keys

log = logging.getLogger(__name__)
# One warning per this many seconds at most: after a failover every acknowledgement times out.
WARN_EVERY_SECONDS = 30.0


@dataclass(frozen=True)
class Requirement:
    replicas: int
    timeout_ms: int


_REQUIRED: weakref.WeakKeyDictionary[Redis, Requirement] = weakref.WeakKeyDictionary()
_last_warning = 0.0


def require(redis: Redis, replicas: int, timeout_ms: int) -> None:
    """Acknowledging writes made through `redis` wait for `replicas` replicas, at most
    `timeout_ms`; 0 replicas: no wait."""
    _REQUIRED[redis] = Requirement(replicas, timeout_ms)


async def replicated(redis: Redis) -> bool:
    """Wait until the required replicas have every write made through `redis` so far; False
    when they did not within the timeout (counted in `supportbot_replica_wait_timeouts`).
    Raises what Redis raises when the master is gone (the caller's outage path)."""
    from bot import metrics  # here: bot.metrics imports the queue, which imports this module

    need = _REQUIRED.get(redis)
    if need is None or need.replicas == 0:
        return True
    started = time.perf_counter()
    async with redis.pipeline(transaction=False) as pipe:  # one connection: the mark, then the wait
        pipe.publish(keys.REPLICATION_MARK, "")
        pipe.wait(need.replicas, need.timeout_ms)
        _, acknowledged = await pipe.execute()
    metrics.REPLICA_WAIT_SECONDS.observe(time.perf_counter() - started)
    if acknowledged >= need.replicas:
        return True
    metrics.REPLICA_WAIT_TIMEOUTS.inc()
    _warn(acknowledged, need)
    return False


def _warn(acknowledged: int, need: Requirement) -> None:
    global _last_warning
    if time.monotonic() - _last_warning >= WARN_EVERY_SECONDS:
        _last_warning = time.monotonic()
        log.warning("only %d of %d replicas confirmed a write within %d ms: a failover now could lose it "
                    "(supportbot_replica_wait_timeouts counts them)", acknowledged, need.replicas, need.timeout_ms)
