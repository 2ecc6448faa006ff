"""The outbox on a real Redis: replies outlive an adapter outage and arrive once, in order."""

from __future__ import annotations

import asyncio
import time

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


async def test_a_chat_whose_deliveries_keep_failing_holds_back_no_other_chat(redis):  # noqa: F811
    """A chat the platform keeps refusing waits on its own, tried again a second later, then
    two...: 200 replies to other chats queued behind it arrive at once. The drain used to
    pause a second after any failure, so they came 50 a second, each up to a second late."""
    outbox = Outbox(redis)
    await outbox.put(OutboundReply("telegram", "refusing", "never taken"), "c-refusing")
    attempts: list[float] = []
    delivered: list[str] = []

    async def deliver(reply: OutboundReply, conversation: str, sender: str) -> None:
        if reply.chat_id == "refusing":
            attempts.append(time.monotonic())
            raise ConnectionError("refused")
        delivered.append(reply.chat_id)

    task = asyncio.create_task(outbox.drain("telegram", "worker-1", deliver, block_ms=100))
    while not attempts:
        await asyncio.sleep(0.01)
    queued = time.monotonic()
    for n in range(200):
        await outbox.put(OutboundReply("telegram", f"chat-{n}", "hello"), f"c{n}")
    while len(delivered) < 200 and time.monotonic() - queued < 10:
        await asyncio.sleep(0.02)
    took = time.monotonic() - queued
    await asyncio.sleep(2.5 - took)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert sorted(delivered) == sorted(f"chat-{n}" for n in range(200))
    assert took < 1.0, f"the other chats waited {took:.1f} s"
    gaps = [later - earlier for earlier, later in zip(attempts, attempts[1:], strict=False)]
    assert len(attempts) in (2, 3) and all(gap > 0.9 for gap in gaps), f"tried again after {gaps}"
    assert await redis.xlen(stream("telegram")) == 1, "the refused reply is still there to deliver"


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


async def test_an_answers_transcript_line_and_reply_are_written_once_when_redis_forgot_its_scripts(redis):
    """The transcript line and the reply go in one round trip (`bot/stores/together.py`); a
    Redis that restarted or failed over knows none of the scripts (NOSCRIPT), and each write is
    then made alone, once; one it knew is not made again."""
    from bot.stores.conversations import ConversationStore, Line

    conversations, outbox = ConversationStore(redis), Outbox(redis)
    reply = OutboundReply("telegram", "77", "Check Assets > History.")
    for attempt, forgotten in enumerate(("none", "both", "the reply's")):
        if forgotten != "none":
            await redis.script_flush()
        if forgotten == "the reply's":  # the transcript's script loaded again, the reply's not
            await conversations.record("elsewhere", Line("user", "hello"))
        cid = f"together-{attempt}"
        note = conversations.record_write(cid, Line("user", "where is my deposit"), Line("bot", reply.text))
        first = await outbox.put(reply, cid, once=f"telegram:77:{attempt}", after=note)
        again = await outbox.put(reply, cid, once=f"telegram:77:{attempt}",
                                 after=conversations.record_write(cid, Line("user", "where is my deposit")))
        assert first and again == "", "a message's reply is queued once"
        lines = [line["text"] for line in await conversations.transcript(cid)]
        assert lines == ["where is my deposit", reply.text, "where is my deposit"], lines
    entries = await redis.xrange(stream("telegram"))
    assert sum(fields[b"chat_id"] == b"77" for _, fields in entries) == 3
