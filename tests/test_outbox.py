"""The outbox on a real Redis: replies outlive an adapter outage and arrive once, in order."""

from __future__ import annotations

import asyncio

from bot.domain.messages import OutboundReply
from bot.stores.outbox import Outbox, stream


async def test_replies_wait_out_an_adapter_outage_and_arrive_once_in_order(redis):  # noqa: F811
    outbox = Outbox(redis)
    for n in range(3):
        await outbox.put(OutboundReply("telegram", "42", f"reply {n}"), "c1", sender="agent")
    delivered: list[str] = []
    failures = {"left": 2}

    async def deliver(reply: OutboundReply, conversation: str, sender: str) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("platform down")
        delivered.append(reply.text)

    task = asyncio.create_task(outbox.drain("telegram", "worker-1", deliver, block_ms=100))
    for _ in range(100):
        if len(delivered) == 3:
            break
        await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert delivered == ["reply 0", "reply 1", "reply 2"]
    assert await redis.xlen(stream("telegram")) == 0


async def test_a_dead_consumers_replies_are_taken_over(redis):  # noqa: F811
    outbox = Outbox(redis)
    await outbox.put(OutboundReply("discord", "7", "hello"), "c2")
    await outbox._group("discord")
    taken = await redis.xreadgroup("adapters", "dead-worker", {stream("discord"): ">"}, count=1)
    assert taken, "the dead worker had taken it and never acknowledged"
    delivered: list[str] = []

    async def deliver(reply: OutboundReply, conversation: str, sender: str) -> None:
        delivered.append(reply.text)

    task = asyncio.create_task(outbox.drain("discord", "worker-2", deliver, retry_after_ms=200, block_ms=100))
    for _ in range(50):
        if delivered:
            break
        await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert delivered == ["hello"]
