"""The hand-off queue on a real Redis: atomic claims under concurrency, lanes, languages."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from redis.asyncio import BlockingConnectionPool, Redis

from bot.domain.messages import InboundMessage
from bot.stores.conversations import ConversationStore
from bot.stores.handoff_queue import HandoffQueue
from tests.helpers import LANGUAGES, open_conversations


async def test_ten_thousand_claims_by_fifty_agents_never_share_or_lose_a_conversation(redis_server):
    pool = BlockingConnectionPool.from_url(redis_server.url.rsplit("/", 1)[0] + "/4", max_connections=60)
    client = Redis(connection_pool=pool)
    await client.flushdb()
    queued = await open_conversations(client, 1000)
    queue = HandoffQueue(client, ConversationStore(client), LANGUAGES, max_open=1000)  # claims alone here
    claims: list[tuple[str, str]] = []

    async def agent(name: str) -> None:
        for _ in range(200):  # 50 agents x 200 attempts = 10,000 claims
            cid = await queue.claim_next(name, ["en"])
            if cid:
                claims.append((cid, name))

    started = time.monotonic()
    await asyncio.gather(*(agent(f"agent{i}") for i in range(50)))
    elapsed = time.monotonic() - started
    owners = Counter(cid for cid, _ in claims)
    assert [cid for cid, n in owners.items() if n > 1] == [], "a conversation claimed twice"
    assert set(owners) == set(queued), "a conversation lost"
    for cid, name in claims[:50]:
        assert (await client.hget(f"sb:conv:{cid}", "agent")).decode() == name
    assert await client.zcard("sb:q:general:normal:en") == 0
    print(f"10,000 claims by 50 agents in {elapsed:.2f} s")
    await client.flushdb()
    await client.close()
    await pool.disconnect()


async def test_lanes_go_in_order_and_first_in_first_out_inside_a_lane(redis):
    normal = await open_conversations(redis, 2, lane="normal", prefix="n")
    high = await open_conversations(redis, 2, lane="high", prefix="h")
    urgent = await open_conversations(redis, 1, lane="urgent", prefix="x")
    vip = await open_conversations(redis, 1, lane="vip", prefix="v")
    queue = HandoffQueue(redis, ConversationStore(redis), LANGUAGES)
    order = [await queue.claim_next("ana", ["en"]) for _ in range(6)]
    assert order == [*urgent, *vip, *high, *normal]
    assert await queue.claim_next("ana", ["en"]) is None


async def test_claims_made_at_the_same_moment_take_the_lanes_in_order_one_each(redis):
    """Claims made at once travel to Redis together (one pipeline); each is still its own
    atomic step, taken in the order the agents asked."""
    normal = await open_conversations(redis, 2, lane="normal", prefix="n")
    high = await open_conversations(redis, 2, lane="high", prefix="h")
    urgent = await open_conversations(redis, 1, lane="urgent", prefix="x")
    vip = await open_conversations(redis, 1, lane="vip", prefix="v")
    queue = HandoffQueue(redis, ConversationStore(redis), LANGUAGES)
    order = await asyncio.gather(*(queue.claim_next(f"agent{i}", ["en"]) for i in range(8)))
    assert order == [*urgent, *vip, *high, *normal, None, None]
    for i, cid in enumerate(order[:6]):
        assert (await redis.hget(f"sb:conv:{cid}", "agent")).decode() == f"agent{i}"


async def test_agents_named_in_any_script_claiming_at_once_are_recorded_by_their_exact_names(redis):
    """A batch carries its calls' arguments as one JSON text: names outside ASCII, quotes and
    backslashes arrive as they were sent."""
    queued = await open_conversations(redis, 3)
    queue = HandoffQueue(redis, ConversationStore(redis), LANGUAGES)
    names = ["José Núñez", "李明", 'o"brien\\x']
    assert await asyncio.gather(*(queue.claim_next(name, ["en"]) for name in names)) == queued
    for cid, name in zip(queued, names, strict=True):
        assert (await redis.hget(f"sb:conv:{cid}", "agent")).decode() == name


async def test_one_failing_claim_in_a_batch_fails_alone_and_a_flushed_script_is_loaded_again(redis):
    queued = await open_conversations(redis, 3)
    queue = HandoffQueue(redis, ConversationStore(redis), LANGUAGES)
    await redis.set("sb:q:general:urgent:xx", "not a queue")  # a claim reading it fails in Redis
    await redis.script_flush()  # as after a restart or a failover to a server without it
    results = await asyncio.gather(queue.claim_next("ana", ["en"]), queue.claim_next("bo", ["xx"]),
                                   queue.claim_next("cy", ["en"]), return_exceptions=True)  # fmt: skip
    assert results[0] == queued[0] and results[2] == queued[1]
    assert isinstance(results[1], Exception) and "WRONGTYPE" in str(results[1])
    assert await queue.claim_next("di", ["en"]) == queued[2]


async def test_agents_claim_only_what_they_speak_unless_no_one_speaks_it(redis):
    chinese = await open_conversations(redis, 1, language="zh", prefix="z")
    korean = await open_conversations(redis, 1, language="ko", prefix="k")
    queue = HandoffQueue(redis, ConversationStore(redis), LANGUAGES)
    assert await queue.claim_next("ana", ["en", "es"]) is None
    assert await queue.claim_next("li", ["zh"]) == chinese[0]
    # Nobody on shift speaks Korean: the caller adds it, and waiting time decides.
    assert await queue.claim_next("ana", ["en", "es", "ko"]) == korean[0]


async def test_a_requeued_conversation_goes_back_to_the_head_of_its_lane(redis):
    first, second = await open_conversations(redis, 2)
    queue = HandoffQueue(redis, ConversationStore(redis), LANGUAGES)
    assert await queue.claim_next("ana", ["en"]) == first
    assert await queue.requeue(first, "ana")
    assert not await queue.requeue(first, "ana"), "only an owned conversation can be requeued"
    assert await queue.claim_next("bo", ["en"]) == first
    assert await queue.claim_next("bo", ["en"]) == second


async def test_a_second_hand_off_keeps_the_open_ticket(redis):
    store = ConversationStore(redis)
    queue = HandoffQueue(redis, store, LANGUAGES)
    await queue.setup()
    conv = await store.for_message(InboundMessage("webchat", "s1", "private", "s1", "help"))
    first = await queue.enqueue(conv.id, "normal", "en", "human_agent")
    second = await queue.enqueue(conv.id, "urgent", "en", "account_compromised")
    ticket, opened, again, opened_again = first.ticket, first.opened, second.ticket, second.opened
    assert ticket.startswith("T-") and int(ticket[2:]) > 1000
    assert (again, opened, opened_again) == (ticket, True, False)
    assert [t.id for t in await queue.user_tickets("webchat", "s1")] == [ticket]


async def test_a_named_conversation_goes_to_exactly_one_of_many_agents_clicking_it(redis):
    (cid,) = await open_conversations(redis, 1)
    queue = HandoffQueue(redis, ConversationStore(redis), LANGUAGES)
    won = await asyncio.gather(*(queue.claim(cid, f"agent{i}") for i in range(20)))
    assert won.count(True) == 1
    winner = f"agent{won.index(True)}"
    conv = await ConversationStore(redis).get(cid)
    assert conv.state == "assigned" and conv.agent == winner
    assert await queue.waiting() == [] and await queue.owned_by(winner) == [cid]
    assert await queue.claim_next("late", ["en"]) is None
