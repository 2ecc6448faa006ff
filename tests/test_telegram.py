"""Telegram end to end: the real python-telegram-bot in the real bot process, against a
stand-in Bot API server on 127.0.0.1, with the real pipeline and Redis. No Telegram host is
ever called."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import yaml

from bot.stores.conversations import conversation_id
from tests.agent_files import PDF, reply_with_files
from tests.chat_files import OVERSIZED, files_settings, kept_files, metadata_free, zip_named_jpg
from tests.conftest import ROOT, BotProcess, stored_text
from tests.helpers import add_agent, call, wait_for
from tests.standins.telegram_api import TelegramStandIn
from tests.test_attachments import phone_photo

GROUP = -1001234567890


@pytest.fixture(scope="module")
def telegram(tmp_path_factory, redis_server, model_path):
    standin = TelegramStandIn().start()
    workdir = tmp_path_factory.mktemp("telegram")
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["telegram"].update(enabled=True, base_url=standin.base_url, base_file_url=standin.base_file_url)
    config["attachments"].update(files_settings(workdir / "files"))
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    bot = BotProcess(redis_server.url, workdir / "bot.log", workdir / "config.yml",
                     env={"TELEGRAM_TOKEN": "123456:TEST-token-for-the-stand-in"}).start()  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(m == "getUpdates" for m, _ in standin.calls):
        time.sleep(0.1)
    bot.files = workdir / "files"  # where it keeps users' files
    yield standin, bot
    bot.stop()
    assert "TEST-token-for-the-stand-in" not in bot.logs(), "the token never reaches the logs"


def test_group_chatter_is_ignored_and_a_spanish_mention_answered_in_spanish_as_a_reply(telegram):
    standin, bot = telegram
    standin.push(GROUP, "jajaja el btc se fue a la luna", chat_type="supergroup", user_id=6001, language_code="es")
    asked = standin.push(GROUP, "@ExampleXBot cómo verifico mi identidad?", chat_type="supergroup", user_id=6002,
                         language_code="es")  # fmt: skip
    sent = standin.wait_sent(GROUP)
    assert len(sent) == 1, "one answer, to the mention only"
    assert sent[0]["reply_parameters"]["message_id"] == asked
    assert "verific" in sent[0]["text"].lower()
    time.sleep(1)
    assert len(standin.sent(GROUP)) == 1


def test_a_private_chat_hands_off_and_the_agents_reply_and_files_arrive_in_telegram(telegram, redis_server):
    """The agent's text, then their photo and PDF natively (sendPhoto, sendDocument), as kept."""
    standin, bot = telegram
    chat = 7001
    standin.push(chat, "quiero hablar con una persona", user_id=chat, language_code="es")
    first = standin.wait_sent(chat)
    assert first and "T-" in first[0]["text"]
    token = add_agent(redis_server, "tg-agent", "es")
    # This chat's conversation by id: other modules' Spanish hand-offs may wait in the same queue.
    status, conv = call(bot, "POST", "/api/queue/claim", {"conversation": conversation_id(f"telegram:{chat}:{chat}")},
                        token=token)  # fmt: skip
    assert status == 200 and conv["platform"] == "telegram" and conv["chat_id"] == str(chat)
    assert (
        call(bot, "POST", f"/api/conversations/{conv['id']}/reply", {"text": "Hola, soy Marta."}, token=token)[0] == 202
    )
    sent = standin.wait_sent(chat, count=2)
    assert sent[-1]["text"] == "Hola, soy Marta."
    kept = reply_with_files(bot, conv["id"], token, "Aquí tiene el recibo.",
                            {"recibo.jpg": phone_photo(), "extracto.pdf": PDF})  # fmt: skip
    assert standin.wait_sent(chat, count=3)[-1]["text"] == "Aquí tiene el recibo."
    wait_for(lambda: len(standin.sent_files(chat)) == 2)
    assert standin.sent_files(chat) == [("sendPhoto", "recibo.jpg", kept["recibo.jpg"]),
                                        ("sendDocument", "extracto.pdf", PDF)]  # fmt: skip
    assert kept["extracto.pdf"] == PDF and metadata_free(kept["recibo.jpg"]), "the photo without where it was taken"


def test_kill_9_of_the_bot_mid_flood_answers_every_message_exactly_once(telegram):
    """Updates fetched but not yet taken when the bot dies are fetched again after the restart
    (they were never confirmed), and those taken already are not answered twice."""
    standin, bot = telegram
    chats = [7100 + i for i in range(6)]
    questions = ("how long does a withdrawal take?", "what are the withdrawal fees?", "how do i enable 2fa?",
                 "how do i reset my password?", "what is the minimum deposit?")  # fmt: skip
    asked: dict[int, int] = {}

    def flood() -> None:
        for n in range(10):
            for chat in chats:
                asked[standin.push(chat, questions[n % len(questions)], user_id=chat)] = chat
                time.sleep(0.02)

    users = threading.Thread(target=flood)
    users.start()
    time.sleep(0.4)
    bot.process.kill()
    bot.process.wait()
    users.join()
    bot.start()

    def answers() -> Counter:
        return Counter(int(p["reply_parameters"]["message_id"]) for p in standin.sent()
                       if int(p["chat_id"]) in chats and p.get("reply_parameters"))  # fmt: skip

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not all(answers()[m] for m in asked):
        time.sleep(0.5)
    time.sleep(3)
    counts = answers()
    print(f"telegram, kill -9 mid-flood: {len(asked)} messages, {sum(counts[m] == 1 for m in asked)} answered once, "
          f"{sum(counts[m] > 1 for m in asked)} more than once, {sum(counts[m] == 0 for m in asked)} never")
    assert not [m for m in asked if counts[m] == 0], "every message answered"
    # Telegram has no idempotency key for sendMessage: a kill in the instant between Telegram
    # taking a reply and the outbox noting it sends that reply again after the restart. The
    # core answers each message once, and the outbox sends one reply a chat at a time (chats
    # side by side), so that edge repeats at most the one reply each chat had in flight, once.
    repeated = [m for m in asked if counts[m] > 1]
    assert all(counts[m] == 2 for m in repeated), "a reply sent at most twice"
    assert max(Counter(asked[m] for m in repeated).values(), default=0) <= 1, "at most one repeat a chat"


def test_a_429_is_waited_out_and_the_message_still_delivered(telegram):
    standin, bot = telegram
    chat = 7002
    standin.rate_limit_next, standin.retry_after = 1, 1
    started = time.monotonic()
    standin.push(chat, "how do i reset my password", user_id=chat)
    sent = standin.wait_sent(chat)
    assert len(sent) == 1 and time.monotonic() - started >= 1.0, "sent again after retry_after"
    assert "password" in sent[0]["text"].lower()
    assert [m for m, p in standin.calls if m == "sendMessage:429" and p["chat_id"] == chat]


def test_a_seed_phrase_in_a_group_is_deleted_and_warned_about_and_stored_nowhere(telegram, redis_server):

    from mnemonic import Mnemonic

    standin, bot = telegram
    phrase = Mnemonic("english").to_mnemonic(bytes(range(50, 66)))
    pasted = standin.push(GROUP, f"is this legit? {phrase}", chat_type="supergroup", user_id=6003)
    sent = standin.wait_sent(GROUP, count=2)
    # The warning leaves through the outbox while the adapter deletes the message: either may come first.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(m == "deleteMessage" for m, _ in standin.calls):
        time.sleep(0.1)
    deleted = [p for m, p in standin.calls if m == "deleteMessage"]
    assert [int(p["message_id"]) for p in deleted] == [pasted]
    warning = sent[-1]["text"]
    words = phrase.split()
    assert not any(" ".join(words[i : i + 3]) in warning for i in range(len(words) - 2))
    assert not any(" ".join(words[:3]) in item for item in stored_text(redis_server.url).values())


def test_a_hand_off_in_a_group_moves_to_private_by_a_one_time_link(telegram):
    import re

    standin, bot = telegram
    user = 6004
    standin.push(GROUP, "@ExampleXBot I want to talk to a human about my account", chat_type="supergroup", user_id=user)
    public = standin.wait_sent(GROUP, count=3)[-1]["text"]
    link = re.search(r"https://t\.me/ExampleXBot\?start=([\w-]+)", public)
    assert link and "T-" not in public, "the ticket lives in the private chat, not the group"
    standin.push(9999, f"/start {link.group(1)}", user_id=9999)  # someone else's hands: not resumed
    standin.push(user, f"/start {link.group(1)}", user_id=user)
    private = standin.wait_sent(user)
    assert private and "T-" in private[0]["text"]
    stranger = standin.wait_sent(9999)
    assert stranger and "T-" not in stranger[0]["text"]
    standin.push(user, f"/start {link.group(1)}", user_id=user)
    time.sleep(1.5)
    assert len(standin.sent(user)) == 1, "the link works once; then the queued chat waits for its person"


def test_a_suggested_answer_is_sent_when_its_button_is_pressed(telegram):
    """An unsure guess comes as inline buttons named by the question; a tap sends that answer."""
    standin, bot = telegram
    chat = 7013
    standin.push(chat, "deposit", user_id=chat)
    keyboard = standin.wait_sent(chat)[0]["reply_markup"]["inline_keyboard"]
    actions = [b["callback_data"] for row in keyboard for b in row]
    assert actions[-1] == "handoff" and actions[0].startswith("answer:"), actions
    standin.press(chat, chat, actions[0])
    answer = standin.wait_sent(chat, count=2)[1]
    assert [b["callback_data"] for row in answer["reply_markup"]["inline_keyboard"] for b in row] == [
        "helpful:yes", "helpful:no"]
    assert answer["text"] != standin.sent(chat)[0]["text"]


def test_a_thumbs_up_is_acknowledged_and_recorded(telegram, redis_server):
    import json

    import redis as redis_sync

    standin, bot = telegram
    chat = 7003
    standin.push(chat, "what are your trading fees", user_id=chat)
    assert standin.wait_sent(chat)[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "helpful:yes"
    standin.press(chat, chat, "helpful:yes")
    client = redis_sync.Redis.from_url(redis_server.url)
    deadline = time.monotonic() + 20
    recorded = []
    while time.monotonic() < deadline and not recorded:
        recorded = [json.loads(x) for x in client.lrange("sb:feedback", 0, -1)]
        recorded = [r for r in recorded if r["platform"] == "telegram" and r["value"] == "yes"]
        time.sleep(0.2)
    assert recorded
    assert any(m == "answerCallbackQuery" for m, _ in standin.calls)


def test_webhook_mode_refuses_a_wrong_secret_and_takes_the_right_one(tmp_path, redis_server, model_path):
    import json
    import urllib.error
    import urllib.request

    standin = TelegramStandIn().start()
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["telegram"].update(enabled=True, base_url=standin.base_url, webhook_url="https://bot.example.com/telegram/webhook")
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config))
    env = {"TELEGRAM_TOKEN": "654321:WEBHOOK-test", "TELEGRAM_WEBHOOK_SECRET": "s3cret-header-value"}
    # A database of its own: replicas of one bot share an outbox, two different bots must not.
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/5"
    bot = BotProcess(redis_url, tmp_path / "bot.log", tmp_path / "config.yml", env=env).start()
    try:
        webhook_calls = [p for m, p in standin.calls if m == "setWebhook"]
        assert webhook_calls and webhook_calls[0]["secret_token"] == "s3cret-header-value"
        update = {
            "update_id": 1,
            "message": {
                "message_id": 5,
                "date": int(time.time()),
                "text": "how do i deposit",
                "chat": {"id": 8001, "type": "private"},
                "from": {"id": 8001, "is_bot": False, "first_name": "Li"},
            },
        }

        def post(secret: str, body: object = update, raw: bytes | None = None) -> int:
            request = urllib.request.Request(
                bot.url + "/telegram/webhook",
                data=json.dumps(body).encode() if raw is None else raw,
                method="POST",
                headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
            )
            try:
                return urllib.request.urlopen(request, timeout=10).status
            except urllib.error.HTTPError as error:
                return error.code

        assert post("wrong") == 403
        time.sleep(1)
        assert standin.sent(8001) == [], "a refused update is not processed"
        assert post("s3cret-header-value") == 200
        assert standin.wait_sent(8001)
        # Telegram sends an update again when it got no 200 in time (the bot was slow or had
        # crashed): the same message is answered once.
        assert post("s3cret-header-value") == 200
        time.sleep(2)
        assert len(standin.sent(8001)) == 1, "a redelivered update is not answered twice"

        # Malformed updates, with the right secret: refused or taken, never a server error.
        from hypothesis import HealthCheck, given, settings
        from hypothesis import strategies as st

        json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=50),
                                   lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12),
                                                                                              inner, max_size=4),
                                   max_leaves=12)  # fmt: skip
        fields = st.sampled_from(["message", "edited_message", "callback_query", "my_chat_member", "update_id"])

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.one_of(json_values, st.dictionaries(fields, json_values, min_size=1)))
        def malformed_updates_never_break_the_server(body: object) -> None:
            assert post("s3cret-header-value", body) in (200, 400)

        malformed_updates_never_break_the_server()
        # Bodies that are not JSON, or not an update: refused with a 400 like any malformed update
        # (one nested deeper than the parser recurses, or a date past the year 9999, was a 500),
        # and the bot still answers after them.
        too_late = json.dumps({**update, "update_id": 3, "message": {**update["message"], "date": 1e20}}).encode()
        for raw in (b"not json", b"\xff\xfe{", b"[" * 50_000, b'{"update_id": ' + b"9" * 5_000 + b"}", too_late):
            assert post("s3cret-header-value", raw=raw) == 400, raw[:20]
        later = {**update, "update_id": 2, "message": {**update["message"], "message_id": 6}}
        assert post("s3cret-header-value", later) == 200
        assert bot.process.poll() is None
        assert len(standin.wait_sent(8001, count=2)) == 2, "an update after the refused ones is answered"
    finally:
        bot.stop()
    assert "s3cret-header-value" not in bot.logs() and "WEBHOOK-test" not in bot.logs()


def test_photos_edits_and_blocked_users(telegram, redis_server):
    import json

    import redis as redis_sync

    from bot.stores.conversations import conversation_id

    standin, bot = telegram
    chat, now = 7004, int(time.time())
    sender = {"id": chat, "is_bot": False, "first_name": "Ana", "language_code": "fr"}
    standin.push_file(chat, phone_photo(), language_code="fr")
    told = standin.wait_sent(chat)
    assert len(told) == 1 and "fichier photo.jpg" in told[0]["text"], "told in French that the photo came"

    # An edited message is not answered a second time.
    standin.push_update({"edited_message": {"message_id": 1, "date": now, "edit_date": now + 5, "text": "frais ?",
                                            "chat": {"id": chat, "type": "private"}, "from": sender}})  # fmt: skip
    time.sleep(1.5)
    assert len(standin.sent(chat)) == 1

    # During a hand-off the agent gets the photo itself, in the transcript.
    standin.push(chat, "je veux parler à un conseiller", user_id=chat, language_code="fr")
    assert "T-" in standin.wait_sent(chat, count=2)[-1]["text"]
    standin.push_file(chat, phone_photo(), language_code="fr")
    kept = kept_files(redis_server.url, f"telegram:{chat}:{chat}", bot.files, count=2)
    assert len(kept) == 2 and all(metadata_free(data) for _, data in kept)
    log_key = f"sb:conv:{conversation_id(f'telegram:{chat}:{chat}')}:log"
    client = redis_sync.Redis.from_url(redis_server.url)
    lines = [json.loads(line) for line in client.lrange(log_key, 0, -1)]
    shown = [line for line in lines if line.get("file")]
    assert {line["file"] for line in shown} == {stored.id for stored, _ in kept}
    assert all(line["text"] == "[photo.jpg]" and line["media_type"] == "image/jpeg" for line in shown)
    time.sleep(1)
    assert len(standin.sent(chat)) == 2, "the bot stays quiet while a person owns the chat"

    # A user who blocked the bot: recorded on the conversation, not retried.
    blocked = 7005
    standin.blocked_chats.add(blocked)
    standin.push(blocked, "hello", user_id=blocked)
    assert field_soon(client, f"telegram:{blocked}:{blocked}", "blocked") == b"telegram"
    time.sleep(1.5)
    assert len([m for m, p in standin.calls if m == "sendMessage:403" and p["chat_id"] == blocked]) == 1


def field_soon(client, conversation_key: str, field: str, timeout: float = 15) -> bytes | None:
    """A field of a conversation's record once it is set (the outbox's delivery sets it)."""
    from bot.stores.conversations import conversation_id

    key = f"sb:conv:{conversation_id(conversation_key)}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not client.hget(key, field):
        time.sleep(0.2)
    return client.hget(key, field)


def test_a_group_that_refuses_the_bot_or_moved_holds_back_no_one(telegram, redis_server):
    """A group where the bot may no longer write answers every message with a 400: the reply
    is dropped and the conversation marked, not sent again and again (each failure paused
    the whole outbox for a second, every chat's replies with it); a group made a supergroup
    gets its reply at the new id Telegram names."""
    import redis as redis_sync


    standin, bot = telegram
    refusing, moved, supergroup, other = -1007011, -7012, -1007012, 7013
    standin.refused_chats.add(refusing)
    standin.moved_chats[moved] = supergroup
    standin.push(refusing, "@ExampleXBot how do I deposit?", chat_type="supergroup", user_id=7011)
    standin.push(moved, "@ExampleXBot how do I deposit?", chat_type="group", user_id=7012)
    assert standin.wait_sent(supergroup), "the reply followed the group to its new id"
    standin.push(other, "how do I deposit?", user_id=other)
    asked = time.monotonic()
    assert standin.wait_sent(other, timeout=5)
    assert time.monotonic() - asked < 3
    client = redis_sync.Redis.from_url(redis_server.url)
    assert field_soon(client, f"telegram:{refusing}:7011", "undeliverable") == b"telegram"
    time.sleep(2.5)
    refused = [p for m, p in standin.calls if m == "sendMessage:400" and int(p["chat_id"]) == refusing]
    assert len(refused) == 1, "refused for good: not sent again"
    assert "refused the reply (not enough rights to send" in bot.logs().lower()


def test_a_resolved_ticket_asks_for_a_rating_and_records_it(telegram, redis_server):
    import json

    import redis as redis_sync

    standin, bot = telegram
    chat = 7006
    standin.push(chat, "I need a real person", user_id=chat)
    assert "T-" in standin.wait_sent(chat)[0]["text"]
    token = add_agent(redis_server, "rater", "en")
    status, conv = call(bot, "POST", "/api/queue/claim", {"languages": ["en"]}, token=token)
    while status == 200 and conv["chat_id"] != str(chat):  # earlier tests may have left English chats waiting
        status, conv = call(bot, "POST", "/api/queue/claim", {"languages": ["en"]}, token=token)
    assert status == 200
    assert call(bot, "POST", f"/api/conversations/{conv['id']}/resolve", token=token)[0] == 200
    prompt = standin.wait_sent(chat, count=2)[-1]
    buttons = prompt["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == [f"rate:{n}:{conv['ticket']}" for n in range(1, 6)]
    standin.press(chat, chat, f"rate:5:{conv['ticket']}")
    assert len(standin.wait_sent(chat, count=3)) == 3, "thanked"
    client = redis_sync.Redis.from_url(redis_server.url)
    ratings = [json.loads(x) for x in client.lrange("sb:feedback", 0, -1)]
    assert {"ticket": conv["ticket"], "rating": 5, "agent": "rater"}.items() <= next(
        r for r in ratings if r.get("ticket") == conv["ticket"]
    ).items()
    standin.press(chat, chat, "rate:1:T-1")  # someone else's ticket: ignored
    time.sleep(1)
    assert len(standin.sent(chat)) == 3


def test_long_replies_are_split_at_sentence_ends_within_telegrams_limit():
    from adapters.telegram_files import MAX_TEXT
    from bot.domain.text_split import split_text

    sentence = "Your withdrawal is being processed by the network. "
    text = sentence * 200 + "你的提现正在处理中。" * 300
    pieces = split_text(text, MAX_TEXT)
    assert len(pieces) > 2 and all(len(p) <= MAX_TEXT for p in pieces)
    assert all(p.endswith((".", "。")) for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_a_ticket_question_in_a_group_is_answered_in_private(telegram):
    import re

    standin, bot = telegram
    user = 6005
    standin.push(user, "I need a human", user_id=user)  # a ticket of this user's, from a private chat
    ticket = re.search(r"T-\d+", standin.wait_sent(user)[0]["text"]).group()
    before = len(standin.sent(GROUP))
    standin.push(GROUP, "@ExampleXBot any update on my ticket?", chat_type="supergroup", user_id=user)
    public = standin.wait_sent(GROUP, count=before + 1)[-1]["text"]
    link = re.search(r"start=([\w-]+)", public)
    assert link and ticket not in public, "the user's tickets are never listed in public"
    standin.push(user, f"/start {link.group(1)}", user_id=user)
    assert ticket in standin.wait_sent(user, count=2)[-1]["text"]


def test_talk_to_a_person_pressed_in_a_group_sends_a_private_link_not_a_ticket(telegram):
    standin, bot = telegram
    user = 6006
    before = len(standin.sent(GROUP))
    standin.press(GROUP, user, "handoff")
    public = standin.wait_sent(GROUP, count=before + 1)[-1]["text"]
    assert "t.me/ExampleXBot?start=" in public and "T-" not in public, "the agent will talk in private"


def test_help_searches_the_help_center_in_a_group_too(telegram):
    standin, bot = telegram
    before = len(standin.sent(GROUP))
    standin.push(GROUP, "/help@ExampleXBot deposit not arrived", chat_type="supergroup", user_id=6007)
    sent = standin.wait_sent(GROUP, count=before + 1)[-1]["text"]
    assert "https://help.example.com/en/deposit-not-credited" in sent


def test_a_new_member_imitating_support_is_reported_and_the_group_warned(telegram, redis_server):
    standin, bot = telegram
    lead = add_agent(redis_server, "tg-lead", "en", role="lead")
    before = len(standin.sent(GROUP))
    chat = {"id": GROUP, "type": "supergroup", "title": "ExampleX Community"}
    for uid, first, last in ((6101, "Ana", "Lopez"), (6102, "ЕxampIeX", "Suppоrt")):
        member = {"id": uid, "is_bot": False, "first_name": first, "last_name": last}
        standin.push_update({"message": {"message_id": 90 + uid, "date": int(time.time()), "chat": chat,
                                         "from": member, "new_chat_members": [member]}})  # fmt: skip
    warning = standin.wait_sent(GROUP, count=before + 1)[-1]["text"]
    assert "ЕxampIeX Suppоrt" in warning and "never DM you first" in warning
    time.sleep(1)
    assert len(standin.sent(GROUP)) == before + 1, "Ana is not warned about"
    status, body = call(bot, "GET", "/api/impostors", token=lead)
    assert status == 200 and [(r["user_id"], r["imitates"]) for r in body["impostors"]][:1] == [
        ("6102", "ExampleX support")]


def test_a_phone_photo_is_kept_without_its_position_and_the_user_told_in_their_language(telegram, redis_server):
    standin, bot = telegram
    chat = 7020
    file_id = standin.push_file(chat, phone_photo(), language_code="es")
    [reply] = standin.wait_sent(chat)
    assert "archivo photo.jpg" in reply["text"], "told in Spanish that the photo came"
    [(stored, data)] = kept_files(redis_server.url, f"telegram:{chat}:{chat}", bot.files)
    assert stored.media_type == "image/jpeg" and stored.name == "photo.jpg" and stored.sender == "user"
    assert metadata_free(data), "kept without where the user stood"
    assert [p for p in standin.downloads if file_id in p] == [f"documents/{file_id}.bin"], "the largest size, once"


def test_a_too_big_file_is_refused_unread_and_a_zip_named_jpg_as_the_wrong_type(telegram, redis_server):
    standin, bot = telegram
    chat = 7021
    big = standin.push_file(chat, OVERSIZED, name="statement.pdf", language_code="fr")
    assert "trop volumineux" in standin.wait_sent(chat)[0]["text"]
    assert not [p for p in standin.downloads if big in p], "not downloaded: Telegram told its size"
    standin.push_file(chat, zip_named_jpg(), name="receipt.jpg", caption="how do i reset my password")
    replies = [p["text"] for p in standin.wait_sent(chat, count=3)]
    assert "We can only take images" in replies[1], "refused by its content, not its name"
    assert "password" in replies[2].lower(), "the caption is read as a message"
    time.sleep(0.5)
    assert kept_files(redis_server.url, f"telegram:{chat}:{chat}", bot.files, timeout=0) == []


def test_a_file_telegram_cannot_serve_is_reported_unreadable_without_the_token_in_the_logs(telegram):
    standin, bot = telegram
    chat = 7022
    photo = [{"file_id": "GONE-FILE-ID", "file_unique_id": "g", "width": 800, "height": 800, "file_size": 5000}]
    standin.push_update({"message": {"message_id": 3, "date": int(time.time()), "photo": photo,
                                     "chat": {"id": chat, "type": "private"},
                                     "from": {"id": chat, "is_bot": False, "first_name": "Li"}}})  # fmt: skip
    assert "could not read that file" in standin.wait_sent(chat)[0]["text"]
    assert "a user's file could not be downloaded (BadRequest)" in bot.logs()
    assert "TEST-token-for-the-stand-in" not in bot.logs()
