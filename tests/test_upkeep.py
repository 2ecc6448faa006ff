"""Queue upkeep on a real Redis: vanished agents lose their claims; overdue conversations are
escalated once, with the user told they are still in line."""

from __future__ import annotations

import json
import time

from bot.config import HandoffSettings
from bot.services.replies import Replies
from bot.services.upkeep import escalate_overdue, requeue_vanished
from bot.stores.agents import AgentStore
from bot.stores.conversations import ConversationStore
from bot.stores.handoff_queue import HandoffQueue
from bot.stores.outbox import Outbox, stream
from tests.helpers import LANGUAGES, open_conversations


async def test_a_vanished_agent_loses_the_claim_to_the_head_of_the_lane(redis):  # noqa: F811
    first, second = await open_conversations(redis, 2)
    queue = HandoffQueue(redis, ConversationStore(redis), LANGUAGES)
    agents = AgentStore(redis)
    await agents.add("gone", ["en"])
    await agents.add("here", ["en"])
    assert await queue.claim_next("gone", ["en"]) == first
    await redis.zadd("sb:agents:seen", {"gone": time.time() - 300, "here": time.time()})
    assert await requeue_vanished(agents, queue, timeout_seconds=90) == [first]
    assert await queue.claim_next("here", ["en"]) == first, "back at the head, before the later one"
    assert await requeue_vanished(agents, queue, timeout_seconds=90) == []


async def test_overdue_conversations_are_escalated_once_and_the_user_told(redis, config):  # noqa: F811
    from bot.domain.texts import Texts
    from intents import INTENT_NAMES

    texts = Texts.load(config.languages, INTENT_NAMES, config.placeholders)
    early, late = await open_conversations(redis, 2, language="es")
    conversations = ConversationStore(redis)
    queue = HandoffQueue(redis, conversations, LANGUAGES)
    await redis.zadd("sb:q:general:normal:es", {late: time.time() - 700}, xx=True)  # waited past 600 s
    await redis.zadd("sb:q:general:normal:es", {early: time.time() - 10}, xx=True)
    events = redis.pubsub()
    await events.subscribe("sb:events")
    settings = HandoffSettings()
    replies = Replies(texts, Outbox(redis), conversations)
    assert await escalate_overdue(queue, conversations, replies, settings) == [late]
    assert await escalate_overdue(queue, conversations, replies, settings) == [], "only once"
    assert (await queue.waiting())[0].conversation == late
    sent = await redis.xrange(stream("webchat"))
    assert len(sent) == 1
    ticket = (await conversations.get(late)).ticket
    assert sent[0][1][b"text"].decode() == texts.reply("still_in_line", "es", ticket=ticket)
    kinds = []
    for _ in range(10):
        message = await events.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message:
            kinds.append(json.loads(message["data"])["type"])
    assert "sla_breached" in kinds
    await events.close()
