"""Files users send, through the front desk on a real Redis, the trained model and the local
blob store (issue 20): what is taken is kept without its metadata for the agents, what is not
gets a reply in the user's language, a caption is read like any message, and an erasure takes
the files with it."""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import replace

import pytest
from PIL import Image

from bot.domain.attachments import FileSettings, Upload
from bot.domain.messages import Action, InboundMessage
from bot.services.front_desk import FrontDesk
from bot.services.inbox import Inbox
from bot.services.privacy import DataRequests
from bot.stores import keys
from bot.stores.conversations import conversation_id
from bot.stores.holder import Stores
from bot.stores.personal_data import PersonalData
from tests.helpers import LANGUAGES
from tests.test_attachments import GPS, phone_photo

PLATFORM = "probe"
LIMIT = 200_000


@pytest.fixture
async def desk(redis, pipeline, config, tmp_path):
    settings = FileSettings(max_bytes=LIMIT, folder=str(tmp_path / "files"))
    stores = await Stores.open(redis, LANGUAGES, files=settings)
    return FrontDesk(Inbox(replace(config, attachments=settings), pipeline, stores)), stores


def _message(text: str = "", user: str = "f1", hint: str | None = None, mid: str = "m1") -> InboundMessage:
    return InboundMessage(PLATFORM, f"chat-{user}", "private", user, text, message_id=mid, language_hint=hint)


async def _outbox_texts(redis) -> list[str]:
    return [fields[b"text"].decode() for _, fields in await redis.xrange(keys.outbox(PLATFORM))]


async def _transcript(redis, message: InboundMessage) -> list[dict]:
    cid = conversation_id(message.conversation_key)
    return [json.loads(line) for line in await redis.lrange(keys.conversation(cid) + ":log", 0, -1)]


async def test_a_phone_photo_is_kept_without_its_position_and_the_user_asked_what_it_is_about(desk, redis, tmp_path):
    front_desk, stores = desk
    message = _message(hint="es")
    decision = await front_desk.attachment(message, Upload(phone_photo(), "IMG_0042.jpg"))
    assert decision.action is Action.ANSWER
    [reply] = await _outbox_texts(redis)
    assert "IMG_0042.jpg" in reply and "archivo" in reply, "told in Spanish that the file came"
    [line] = [x for x in await _transcript(redis, message) if x.get("file")]
    stored = await stores.files.get(line["file"])
    assert stored.media_type == "image/jpeg" and stored.name == "IMG_0042.jpg"
    kept = Image.open(io.BytesIO(await stores.files.data(stored)))
    assert GPS not in kept.getexif() and not kept.getexif(), "no EXIF, no position in what is kept"
    assert kept.size == (48, 64), "turned upright as the camera meant"
    on_disk = list((tmp_path / "files").iterdir())
    assert [p.name for p in on_disk] == [stored.blob] and "IMG_0042" not in stored.blob, "stored under the bot's name"
    assert on_disk[0].stat().st_mode & 0o077 == 0, "readable by the bot's user alone"


async def test_too_big_and_disguised_files_are_refused_in_the_users_language_and_nothing_is_kept(desk, redis, tmp_path):
    front_desk, _ = desk
    big = Image.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3))  # noise: PNG cannot shrink it
    out = io.BytesIO()
    big.save(out, format="PNG")
    assert len(out.getvalue()) > LIMIT
    await front_desk.attachment(_message(hint="fr"), Upload(out.getvalue(), "capture.png"))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("run.exe", b"MZ" + b"\0" * 100)
    await front_desk.attachment(_message(user="f2", hint="ru"), Upload(zipped.getvalue(), "photo.jpg"))
    await front_desk.attachment(_message(user="f3", hint="ja"), Upload(None, "huge.pdf", size=LIMIT * 5))
    too_big_fr, wrong_ru, too_big_ja = await _outbox_texts(redis)
    assert "trop volumineux" in too_big_fr and "0.2" in too_big_fr
    assert "JPEG" in wrong_ru and "изображения" in wrong_ru
    assert "大きすぎます" in too_big_ja
    assert not (tmp_path / "files").exists() or not list((tmp_path / "files").iterdir()), "nothing refused is kept"
    assert await redis.zcard(keys.FILES) == 0


async def test_a_caption_is_read_as_a_question_and_a_person_on_the_conversation_sees_the_file(desk, redis):
    front_desk, stores = desk
    message = _message("My deposit has not arrived after 3 hours", user="f4", hint="en")
    decision = await front_desk.attachment(message, Upload(phone_photo(), "deposit.jpg"))
    assert decision is not None and decision.intent, "the caption went through the pipeline"
    lines = await _transcript(redis, message)
    assert lines[0].get("file") and lines[1]["text"] == message.text, "the file, then the question"
    cid = conversation_id(message.conversation_key)
    await stores.conversations.update(cid, state="assigned", agent="ana")
    sent_before = len(await _outbox_texts(redis))
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    decision = await front_desk.attachment(_message(user="f4", mid="m2"), Upload(pdf, "statement.pdf"))
    assert decision.action is Action.FORWARD and len(await _outbox_texts(redis)) == sent_before, "the bot stays quiet"
    files = await stores.files.of_conversation(cid)
    assert [f.name for f in files] == ["deposit.jpg", "statement.pdf"]
    assert await stores.files.data(files[1]) == pdf, "a PDF is kept as sent"


async def test_an_erasure_takes_the_users_files_and_their_bytes(desk, redis, tmp_path):
    front_desk, stores = desk
    message = _message(user="f5")
    await front_desk.attachment(message, Upload(phone_photo(), "id-card.jpg"))
    assert len(list((tmp_path / "files").iterdir())) == 1
    privacy = DataRequests(PersonalData(redis, LANGUAGES), stores.files)
    exported = await privacy.export(PLATFORM, "f5")
    assert [f["name"] for f in exported["files"]] == ["id-card.jpg"]
    erased = await privacy.erase(PLATFORM, "f5")
    assert erased["files"] == 1
    assert list((tmp_path / "files").iterdir()) == [], "the bytes are gone, not only the record"
    assert await redis.zcard(keys.FILES) == 0


async def test_a_file_the_platform_sends_again_is_kept_and_answered_once(desk, redis, tmp_path):
    front_desk, stores = desk
    message = _message(user="f6", mid="tg-77")
    first = await front_desk.attachment(message, Upload(phone_photo(), "again.jpg"))
    again = await front_desk.attachment(message, Upload(phone_photo(), "again.jpg"))
    assert first.action is Action.ANSWER and again.action is Action.DUPLICATE
    assert len(await _outbox_texts(redis)) == 1, "one reply"
    assert len(await stores.files.of_conversation(conversation_id(message.conversation_key))) == 1, "one file kept"
    refused = _message(user="f6", mid="tg-78")
    await front_desk.attachment(refused, Upload(b"PK\x03\x04 not a picture", "x.jpg"))
    await front_desk.attachment(refused, Upload(b"PK\x03\x04 not a picture", "x.jpg"))
    assert len(await _outbox_texts(redis)) == 2, "one refusal"
