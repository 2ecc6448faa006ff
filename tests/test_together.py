"""Writes made at the same moment by different messages share round trips (`bot/stores/together.py`,
issue 17), on a real Redis: each message still gets its own result, its own error, and its write
made once, also when Redis forgot the scripts."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import ResponseError

from bot.domain.messages import InboundMessage, OutboundReply
from bot.stores.conversations import ConversationStore, Line
from bot.stores.outbox import Outbox, stream
from tests.round_trips import CountedConnection


@pytest.fixture
async def counted(redis_server):
    """A client on a database of its own whose connections count their sends (round trips)."""
    pool = ConnectionPool.from_url(redis_server.url.rsplit("/", 1)[0] + "/4", connection_class=CountedConnection)
    client = Redis(connection_pool=pool)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.close()


def message(user: int) -> InboundMessage:
    return InboundMessage("telegram", f"chat-{user}", "private", f"user-{user}", "where is my deposit",
                          message_id=f"m-{user}")  # fmt: skip


async def test_many_users_at_once_each_get_their_own_conversation_and_reply_in_fewer_round_trips(counted):
    conversations, outbox = ConversationStore(counted), Outbox(counted)
    await conversations.arrive(message(0))  # the scripts loaded, the connection open
    await conversations.record("c-0", Line("user", "hello"))
    await outbox.put(OutboundReply("telegram", "chat-0", "hello"), "c-0", once="warm")
    users = range(1, 31)
    sent = CountedConnection.sent

    async def one(user: int) -> tuple[str, str]:
        conversation, _ = await conversations.arrive(message(user))
        note = conversations.record_write(conversation.id, Line("user", "where is my deposit"))
        entry = await outbox.put(OutboundReply("telegram", f"chat-{user}", f"answer for {user}"), conversation.id,
                                 once=f"telegram:{user}", after=note)  # fmt: skip
        return conversation.chat_id, entry

    results = await asyncio.gather(*(one(user) for user in users))
    round_trips = CountedConnection.sent - sent
    assert [chat for chat, _ in results] == [f"chat-{user}" for user in users], "each got its own conversation"
    assert all(entry for _, entry in results)
    assert round_trips <= 4, f"60 writes of 30 messages made at once took {round_trips} round trips"
    entries = await counted.xrange(stream("telegram"))
    replies = {fields[b"chat_id"].decode(): fields[b"text"].decode() for _, fields in entries}
    assert all(replies[f"chat-{user}"] == f"answer for {user}" for user in users)
    for user in users:
        conversation, _ = await conversations.arrive(message(user))
        assert [line["text"] for line in await conversations.transcript(conversation.id)] == ["where is my deposit"]


async def test_one_messages_failing_write_fails_that_message_alone(counted):
    conversations = ConversationStore(counted)
    broken = message(666)
    conversation, _ = await conversations.arrive(broken)
    await counted.delete(conversations.log_key(conversation.id))
    await counted.set(conversations.log_key(conversation.id), "not a list")  # WRONGTYPE for its transcript

    async def record(cid: str) -> None:
        await conversations.record(cid, Line("user", "hello"))

    others = [(await conversations.arrive(message(user)))[0].id for user in range(1, 6)]
    outcomes = await asyncio.gather(record(conversation.id), *(record(cid) for cid in others), return_exceptions=True)
    assert isinstance(outcomes[0], ResponseError)
    assert outcomes[1:] == [None] * 5
    for cid in others:
        assert [line["text"] for line in await conversations.transcript(cid)] == ["hello"]


async def test_writes_made_at_once_after_redis_forgot_its_scripts_are_each_made_once(counted):
    conversations, outbox = ConversationStore(counted), Outbox(counted)
    await conversations.record("warm", Line("user", "hello"))
    await counted.script_flush()  # a restarted or failed-over Redis

    async def one(user: int) -> str:
        note = conversations.record_write(f"c-{user}", Line("user", "hi"))
        return await outbox.put(OutboundReply("telegram", f"chat-{user}", "hello"), f"c-{user}",
                                once=f"telegram:{user}", after=note)  # fmt: skip

    sent = CountedConnection.sent
    entries = await asyncio.gather(*(one(user) for user in range(8)))
    assert CountedConnection.sent - sent <= 3, "the forgotten scripts are loaded once, not one write at a time"
    assert all(entries)
    assert await counted.xlen(stream("telegram")) == 8
    for user in range(8):
        assert len(await conversations.transcript(f"c-{user}")) == 1


async def test_writes_made_at_once_all_fail_at_once_when_redis_is_unreachable():
    from tests.conftest import free_port

    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    conversations = ConversationStore(client)
    outcomes = await asyncio.wait_for(asyncio.gather(
        *(conversations.arrive(message(user)) for user in range(5)), return_exceptions=True), timeout=10)  # fmt: skip
    assert all(isinstance(outcome, (ConnectionError, OSError)) or "connect" in str(outcome).lower()
               for outcome in outcomes), outcomes  # fmt: skip
    await client.close()
