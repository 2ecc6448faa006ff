"""Queue upkeep on a real Redis: vanished agents lose their claims; overdue conversations are
escalated once, with the user told they are still in line; files past their retention go with
their bytes."""

from __future__ import annotations

import json
import time

import pytest

from bot.config import HandoffSettings
from bot.domain.attachments import check_attachment
from bot.services.replies import Replies
from bot.services.upkeep import DAY, escalate_overdue, remove_expired_files, requeue_vanished
from bot.stores import keys
from bot.stores.agents import AgentStore
from bot.stores.blobs import BlobMissing, FolderBlobs
from bot.stores.conversations import ConversationStore
from bot.stores.handoff_queue import HandoffQueue
from bot.stores.outbox import Outbox, stream
from bot.stores.user_files import StoredFile, UserFiles
from tests.helpers import LANGUAGES, open_conversations
from tests.test_attachments import phone_photo


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


async def _kept_days_ago(redis, files: UserFiles, days: float) -> StoredFile:
    """A photo kept `days` ago (its time written in the past, as if it had waited)."""
    cid = "c-old" if days > 100 else "c-new"
    stored = await files.keep(cid, check_attachment(phone_photo(), 1_000_000), "a.jpg", "user")
    at = time.time() - days * DAY
    await redis.hset(keys.stored_file(stored.id), "at", at)
    await redis.zadd(keys.FILES, {stored.id: at})
    return stored


async def test_a_file_kept_past_its_days_is_removed_with_its_bytes_and_a_recent_one_stays(redis, tmp_path):
    files = UserFiles(redis, FolderBlobs(tmp_path / "files"))
    old, recent = await _kept_days_ago(redis, files, 181), await _kept_days_ago(redis, files, 2)
    assert await remove_expired_files(files, keep_days=180) == 1
    assert await files.get(old.id) is None and await files.of_conversation("c-old") == []
    with pytest.raises(BlobMissing):
        await files.data(old)
    assert [p.name for p in (tmp_path / "files").iterdir()] == [recent.blob], "the old file's bytes are gone"
    assert (await files.get(recent.id)).id == recent.id and await files.data(recent), "the recent one stays"
    assert await remove_expired_files(files, keep_days=180) == 0


async def test_when_the_blob_store_fails_the_expired_file_is_kept_on_record_and_removed_next_pass(redis, tmp_path):
    files = UserFiles(redis, FolderBlobs(tmp_path / "files"))
    old = await _kept_days_ago(redis, files, 400)
    (tmp_path / "not-a-folder").write_bytes(b"")
    broken = UserFiles(redis, FolderBlobs(tmp_path / "not-a-folder"))  # every delete fails
    assert await remove_expired_files(broken, keep_days=180) == 0
    assert await files.get(old.id) is not None, "still on record: its bytes are still there"
    assert await remove_expired_files(files, keep_days=180) == 1
    assert list((tmp_path / "files").iterdir()) == []
