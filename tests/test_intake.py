"""The intake service (`bot/services/inbox.py`) in-process, on a real Redis and the trained
model: what it keeps, what it recovers, and when the bot keeps quiet."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict

import pytest

from bot.domain.messages import Action, InboundMessage
from bot.services.inbox import Inbox
from bot.stores import intake, keys
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


def _keyed(text: str, user: str, message_id: str) -> InboundMessage:
    return InboundMessage("telegram", f"chat-{user}", "private", user, text, message_id=message_id)


async def test_a_redelivered_message_is_handled_and_answered_once(inbox, redis):
    """A platform sends the same message twice (Telegram retries a webhook it got no 200 for):
    the second is a duplicate, with no second reply and no second line in the transcript."""
    message = _keyed("how long does a withdrawal take?", "k1", "501")
    first = await inbox.handle(message, reply_inline=False)
    again = await inbox.handle(message, reply_inline=False)
    assert first.action is Action.ANSWER and again.action is Action.DUPLICATE and again.reply is None
    assert await redis.xlen(keys.outbox("telegram")) == 1
    transcript = await inbox.conversations.transcript(conversation_id(message.conversation_key))
    assert [line["from"] for line in transcript] == ["user", "bot"]
    assert (await inbox.handle(_keyed("how long does a withdrawal take?", "k1", "502"), False)).action is Action.ANSWER


async def test_a_message_answered_before_its_handler_died_is_not_answered_again(inbox, redis):
    """The crash came after the reply was queued and before the entry was deleted: recovery
    finds the mark and answers nothing more."""
    message = _keyed("what are the withdrawal fees?", "k2", "601")
    await inbox.handle(message, reply_inline=False)
    await redis.xadd(keys.INBOX, {"message": json.dumps(asdict(message))})  # as if never deleted
    await inbox.recover_orphans(older_than_seconds=0)
    assert await redis.xlen(keys.INBOX) == 0
    assert await redis.xlen(keys.outbox("telegram")) == 1


async def test_answered_messages_leave_the_inbox_in_a_batch_and_a_crash_before_it_gives_no_second_reply(inbox, redis):
    """An answered message (its reply marked given) is deleted from the stream a moment later
    with others, one XDEL for many; a recovery in between finds it answered and sends nothing."""
    await redis.delete(keys.INBOX)
    for n in range(5):
        await inbox.handle(_keyed("how do i enable 2fa?", f"b{n}", f"80{n}"), False)
    assert await redis.xlen(keys.INBOX) == 5, "waiting for their batch"
    assert await inbox.recover_orphans(older_than_seconds=0) == 0  # as if this process had died now
    assert await redis.xlen(keys.INBOX) == 0, "the recovery deletes what it finds answered"
    assert await redis.xlen(keys.outbox("telegram")) == 5, "one reply each, none again"
    await inbox.handle(_keyed("how do i enable 2fa?", "b9", "809"), False)
    await asyncio.sleep(intake.ANSWERED_BATCH_SECONDS + 0.3)
    assert await redis.xlen(keys.INBOX) == 0


async def test_a_recovery_racing_a_slow_handler_gives_one_reply(inbox, redis):
    """Under a flood a handler can take longer than the recovery's patience: both decide,
    only one reply leaves."""
    message = _keyed("how do i enable 2fa?", "k3", "701")
    entry = await inbox.intake.accept(message)
    await inbox.recover_orphans(older_than_seconds=0)  # the "dead" handler's entry, answered
    decision = await inbox._decide(message)  # the slow handler finishes its work
    await inbox.replies.send(decision.reply, conversation_id(message.conversation_key), once=message.once_key)
    await inbox.intake.done(entry)
    assert await redis.xlen(keys.outbox("telegram")) == 1


async def test_an_old_button_pressed_while_an_agent_has_the_conversation_makes_the_bot_say_nothing(inbox, redis):
    """Nothing the bot says may enter a conversation people own (but the secret warning): a
    "not helpful" under an earlier answer is recorded for the agent, without a bot reply."""
    await inbox.handle(_message("how do i reset my password?", user="u9"), reply_inline=False)
    await inbox.handle(_message("i want to talk to a human", user="u9"), reply_inline=False)
    before = await redis.xlen(keys.outbox("webchat"))
    assert await inbox.feedback.press(_message("", user="u9"), "helpful:no") is None
    assert await inbox.feedback.press(_message("", user="u9"), "handoff") is None
    assert await redis.xlen(keys.outbox("webchat")) == before
    transcript = await inbox.conversations.transcript(conversation_id(_message("", user="u9").conversation_key))
    assert transcript[-1]["text"] == "[helpful:no]"
