"""The intake service (`bot/services/inbox.py`) in-process, on a real Redis and the trained
model: what it keeps, what it recovers, and when the bot keeps quiet."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from bot.domain.messages import Action, InboundMessage
from bot.services.inbox import Inbox
from bot.stores import keys
from bot.stores.conversations import QUEUED, conversation_id
from bot.stores.holder import Stores
from tests.helpers import LANGUAGES

SEED = "abandon ability able about above absent absorb abstract absurd abuse access accident"


@pytest.fixture
async def inbox(redis, pipeline, config):
    return Inbox(config, pipeline, await Stores.open(redis, LANGUAGES))


def _message(text: str, user: str = "u1") -> InboundMessage:
    return InboundMessage("webchat", f"chat-{user}", "private", user, text)


async def test_a_handled_message_leaves_the_inbox_stream_and_its_redacted_line_the_transcript(inbox, redis):
    decision = await inbox.handle(_message(f"how do i turn on 2fa? my seed is {SEED}"))
    assert decision.action is Action.WARN_SECRET
    assert await redis.xlen(keys.INBOX) == 0
    transcript = await inbox.conversations.transcript(conversation_id(_message("").conversation_key))
    assert transcript and all("abandon ability" not in line["text"] for line in transcript)


async def test_a_message_whose_handler_died_is_answered_through_the_outbox(inbox, redis):
    orphan = _message("how long does a withdrawal take?", user="u2")
    await redis.xadd(keys.INBOX, {"message": json.dumps(asdict(orphan))})
    assert await inbox.recover_orphans(older_than_seconds=0) == 1
    assert await redis.xlen(keys.INBOX) == 0
    replies = await redis.xrange(keys.outbox("webchat"))
    assert len(replies) == 1 and b"chat-u2" in b"".join(replies[0][1].values())


async def test_while_a_person_owns_the_conversation_the_bot_is_silent_but_warns_of_secrets(inbox):
    first = await inbox.handle(_message("i want to talk to a human", user="u3"))
    assert first.action is Action.HANDOFF
    conversation = await inbox.conversations.get(conversation_id(_message("", user="u3").conversation_key))
    assert conversation.state == QUEUED
    quiet = await inbox.handle(_message("what are your fees?", user="u3"))
    assert quiet.action is Action.FORWARD and quiet.reply is None
    warned = await inbox.handle(_message(f"here is my seed {SEED}", user="u3"))
    assert warned.action is Action.WARN_SECRET and "abandon" not in warned.reply.text
