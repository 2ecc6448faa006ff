"""Discord end to end: the real discord.py in the real bot process, against a stand-in REST +
Gateway server on 127.0.0.1, with the real pipeline and Redis. No Discord host is ever called."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from types import SimpleNamespace

import pytest
import redis as redis_sync
import yaml

from tests.agent_files import PDF, reply_with_files
from tests.chat_files import OVERSIZED, files_settings, kept_files, metadata_free, zip_named_jpg
from tests.conftest import ROOT, BotProcess
from tests.helpers import add_agent, call
from tests.standins.discord_api import NO_THREADS_CHANNEL, PUBLIC_CHANNEL, DiscordStandIn
from tests.test_attachments import phone_photo, photo

TOKEN = "MTEwMDAw.TEST-discord-token.for-the-stand-in"
EDGE_REPEATS = 2  # replies a kill -9 may catch between the platform's send and the outbox's note


@pytest.fixture(scope="module")
def discord_bot(tmp_path_factory, redis_server, model_path):
    standin = DiscordStandIn().start()
    workdir = tmp_path_factory.mktemp("discord")
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["discord"].update(enabled=True, api_base_url=standin.api_base, gateway_url=standin.gateway_url,
                             watch_new_members=True)
    config["attachments"].update(files_settings(workdir / "files"))
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    redis_db = SimpleNamespace(url=redis_server.url.rsplit("/", 1)[0] + "/6")  # this module's own database
    redis_sync.Redis.from_url(redis_db.url).flushdb()
    bot = BotProcess(redis_db.url, workdir / "bot.log", workdir / "config.yml", env={"DISCORD_TOKEN": TOKEN}).start()
    assert standin.identified.wait(30), "the bot connected to the gateway"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not standin.commands:
        time.sleep(0.1)
    bot.files = workdir / "files"  # where it keeps users' files
    yield standin, bot, redis_db
    bot.stop()
    assert "TEST-discord-token" not in bot.logs(), "the token never reaches the logs"


def feedback(redis_db) -> list[dict]:
    return [json.loads(x) for x in redis_sync.Redis.from_url(redis_db.url).lrange("sb:feedback", 0, -1)]


def test_slash_commands_are_registered(discord_bot):
    standin, _, _ = discord_bot
    assert {c["name"] for c in standin.commands} >= {"support", "ticket"}


def test_chatter_is_ignored_and_a_mention_answered_in_french_as_a_reply(discord_bot):
    standin, _, _ = discord_bot
    standin.push_message(PUBLIC_CHANNEL, "mdr le btc remonte enfin", user_id=1400000000000000011)
    asked = standin.push_message(PUBLIC_CHANNEL, "comment je fais pour vérifier mon identité ?", mention_bot=True,
                                 user_id=1400000000000000012)  # fmt: skip
    sent = standin.wait_sent(PUBLIC_CHANNEL)
    assert len(sent) == 1, "one answer, to the mention only"
    assert int(sent[0]["message_reference"]["message_id"]) == asked
    assert "vérif" in sent[0]["content"].lower()
    assert sent[0]["allowed_mentions"]["parse"] == [], "an answer never pings @everyone"
    time.sleep(1)
    assert len(standin.sent(PUBLIC_CHANNEL)) == 1


def test_a_message_replayed_by_the_gateway_is_answered_once(discord_bot):
    """After a resume Discord replays events the bot may have handled: one answer per message."""
    standin, _, _ = discord_bot
    asked = standin.push_message(PUBLIC_CHANNEL, "how long does a withdrawal take?", mention_bot=True,
                                 user_id=1400000000000000021)  # fmt: skip
    first = standin.wait_sent(PUBLIC_CHANNEL)
    standin.redeliver(asked)
    time.sleep(2)
    answers = [m for m in standin.sent(PUBLIC_CHANNEL) if int(m["message_reference"]["message_id"]) == asked]
    assert len(first) >= 1 and len(answers) == 1


def test_kill_9_of_the_bot_mid_flood_answers_every_accepted_message_exactly_once(discord_bot):
    """Mentions keep coming while the bot is killed and restarted: every message it accepted
    (its idempotency mark is in Redis) is answered exactly once. Discord does not send what was
    said while the bot was away (a new session starts empty), so those are not counted."""
    standin, bot, redis_db = discord_bot
    users = [1400000000000000100 + i for i in range(6)]
    asked: list[int] = []
    done = threading.Event()

    def flood() -> None:
        n = 0
        while not done.is_set():
            try:
                asked.append(standin.push_message(PUBLIC_CHANNEL, f"how do i enable 2fa? ({n})", mention_bot=True,
                                                  user_id=users[n % len(users)]))  # fmt: skip
            except Exception:  # noqa: BLE001 - the stand-in's gateway had no one to send it to
                pass
            n += 1
            time.sleep(0.05)

    sender = threading.Thread(target=flood)
    sender.start()
    time.sleep(1.0)
    bot.process.kill()
    bot.process.wait()
    standin.identified.clear()
    bot.start()
    assert standin.identified.wait(30)
    time.sleep(2)
    done.set()
    sender.join()
    marks = redis_sync.Redis.from_url(redis_db.url)
    accepted = [m for m in asked if marks.exists(f"sb:once:discord:{PUBLIC_CHANNEL}:{m}")]

    def answers() -> Counter:
        return Counter(int(p["message_reference"]["message_id"]) for p in standin.sent(PUBLIC_CHANNEL)
                       if p.get("message_reference"))  # fmt: skip

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not all(answers()[m] for m in accepted):
        time.sleep(0.5)
    time.sleep(3)
    counts = answers()
    print(f"discord, kill -9 mid-flood: {len(asked)} sent, {len(accepted)} accepted, "
          f"{sum(counts[m] == 1 for m in accepted)} answered once, {sum(counts[m] > 1 for m in asked)} more than once")
    assert accepted and all(counts[m] for m in accepted), "every accepted message answered"
    # Discord has no idempotency key for a new message: a kill in the instant between Discord
    # taking a reply and the outbox noting it sends that one reply again after the restart.
    assert sum(counts[m] > 1 for m in asked) <= EDGE_REPEATS


def test_a_reply_to_the_bot_is_answered_without_a_mention(discord_bot):
    standin, _, _ = discord_bot
    before = len(standin.sent(PUBLIC_CHANNEL))
    standin.push_message(PUBLIC_CHANNEL, "and what are the withdrawal fees?", reply_to_bot=True,
                         user_id=1400000000000000013)  # fmt: skip
    sent = standin.wait_sent(PUBLIC_CHANNEL, count=before + 1)
    assert len(sent) == before + 1 and "fee" in sent[-1]["content"].lower()


def test_a_slash_command_answers_in_the_language_of_the_users_locale(discord_bot):
    standin, _, _ = discord_bot
    interaction = standin.push_command("support", {"question": "kyc"}, PUBLIC_CHANNEL, locale="es-ES")
    response = standin.wait_responses(interaction)[0]
    assert response["kind"] == "callback" and response["type"] == 4, "answered within the interaction"
    content = response["data"]["content"].lower()
    assert "verific" in content and "identidad" in content, content


def test_an_escalation_opens_a_private_thread_where_the_agents_reply_lands(discord_bot):
    standin, bot, redis_db = discord_bot
    user = 1400000000000000021
    before = len(standin.sent(PUBLIC_CHANNEL))
    standin.push_message(PUBLIC_CHANNEL, "someone withdrew from my account, I need a human NOW", mention_bot=True,
                         user_id=user)  # fmt: skip
    public = standin.wait_sent(PUBLIC_CHANNEL, count=before + 1)[-1]["content"]
    assert len(standin.threads) >= 1
    thread_id, thread = next((i, t) for i, t in standin.threads.items() if user in t["members"])
    assert thread["parent_id"] == PUBLIC_CHANNEL and thread["type"] == 12, "a private thread in that channel"
    assert f"<#{thread_id}>" in public and "T-" not in public, "account matters stay out of the public channel"
    notice = standin.wait_sent(thread_id)[0]["content"]
    assert re.search(r"T-\d+", notice)

    token = add_agent(redis_db, "disco", "en")
    status, conv = call(bot, "POST", "/api/queue/claim", {"languages": ["en"]}, token=token)
    assert status == 200 and conv["platform"] == "discord" and conv["chat_id"] == str(thread_id)
    assert conv["lane"] == "urgent"
    reply = "Hi, I'm Sam from security. I've frozen withdrawals on your account while we look."
    assert call(bot, "POST", f"/api/conversations/{conv['id']}/reply", {"text": reply}, token=token)[0] == 202
    assert standin.wait_sent(thread_id, count=2)[-1]["content"] == reply

    # The user writes in the thread without mentioning anyone: it goes to the agent, the bot is quiet.
    standin.push_message(thread_id, "thanks, it was 0.5 BTC", user_id=user)
    deadline = time.monotonic() + 15
    transcript = []
    while time.monotonic() < deadline and not any("0.5 BTC" in line["text"] for line in transcript):
        transcript = call(bot, "GET", f"/api/conversations/{conv['id']}", token=token)[1]["transcript"]
        time.sleep(0.2)
    assert any("0.5 BTC" in line["text"] for line in transcript)
    assert len(standin.sent(thread_id)) == 2

    # The agent's files go natively on the message with their text, as the bot kept them.
    files = {"screenshot.png": photo("PNG"), "form.pdf": PDF}
    kept = reply_with_files(bot, conv["id"], token, "Here are the form and your screenshot.", files)
    message = standin.wait_sent(thread_id, count=3)[-1]
    assert message["content"] == "Here are the form and your screenshot."
    assert [(f["filename"], f["data"]) for f in message["_files"]] == list(kept.items()) and kept["form.pdf"] == PDF
    assert [a["filename"] for a in message["attachments"]] == ["screenshot.png", "form.pdf"]
    # Too large together for this server (but each fits): the text, then each file in a message of its own.
    standin.max_upload_bytes = max(map(len, kept.values())) + 1
    try:
        reply_with_files(bot, conv["id"], token, "Again, one by one.", files)
        again = standin.wait_sent(thread_id, count=6)[3:]
    finally:
        standin.max_upload_bytes = 10 * 1024 * 1024
    assert [m.get("content") for m in again] == ["Again, one by one.", None, None]
    assert [[(f["filename"], f["data"]) for f in m["_files"]] for m in again[1:]] == [[item] for item in kept.items()]


def test_where_threads_are_not_allowed_the_escalation_goes_to_a_dm(discord_bot):
    standin, _, _ = discord_bot
    user = 1400000000000000022
    standin.push_message(NO_THREADS_CHANNEL, "I want to talk to a person about my account", mention_bot=True,
                         user_id=user)  # fmt: skip
    public = standin.wait_sent(NO_THREADS_CHANNEL)[-1]["content"]
    dm = standin.dm_channel(user)
    assert str(dm) in public and "T-" not in public
    assert re.search(r"T-\d+", standin.wait_sent(dm)[0]["content"])
    assert not any(t["parent_id"] == NO_THREADS_CHANNEL for t in standin.threads.values())


def test_a_pasted_seed_phrase_is_deleted_and_warned_about_without_repeating_it(discord_bot):
    from mnemonic import Mnemonic

    standin, _, _ = discord_bot
    phrase = Mnemonic("english").to_mnemonic(bytes(range(70, 86)))
    before = len(standin.sent(PUBLIC_CHANNEL))
    pasted = standin.push_message(PUBLIC_CHANNEL, f"my wallet wont load, words are {phrase}",
                                  user_id=1400000000000000031)  # fmt: skip
    warning = standin.wait_sent(PUBLIC_CHANNEL, count=before + 1)[-1]["content"]
    assert (PUBLIC_CHANNEL, pasted) in standin.deleted
    words = phrase.split()
    assert not any(" ".join(words[i : i + 3]) in warning for i in range(len(words) - 2))
    assert "seed" in warning.lower() or "recovery" in warning.lower()


def test_buttons_are_acknowledged_at_once_and_recorded(discord_bot):
    standin, _, redis_db = discord_bot
    user = 1400000000000000041
    standin.push_message(PUBLIC_CHANNEL, "what are the trading fees", mention_bot=True, user_id=user)
    answer = next(m for m in reversed(standin.wait_sent(PUBLIC_CHANNEL)) if "fee" in m["content"].lower())
    custom_ids = [c["custom_id"] for row in answer["components"] for c in row["components"]]
    assert "sb:helpful:yes" in custom_ids and "sb:helpful:no" in custom_ids
    pressed = standin.push_button("sb:helpful:yes", PUBLIC_CHANNEL, answer["id"], user_id=user)
    assert standin.wait_responses(pressed)[0]["type"] == 6, "acknowledged (deferred update)"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not [f for f in feedback(redis_db) if f.get("value") == "yes"]:
        time.sleep(0.2)
    recorded = [f for f in feedback(redis_db) if f.get("value") == "yes"]
    assert recorded and recorded[-1]["platform"] == "discord"


def test_a_resolved_ticket_in_a_dm_asks_for_a_rating_and_records_it(discord_bot):
    standin, bot, redis_db = discord_bot
    user = 1400000000000000051
    dm = standin.dm_channel(user)
    standin.push_message(dm, "necesito hablar con un agente", user_id=user)
    assert "T-" in standin.wait_sent(dm)[0]["content"]
    token = add_agent(redis_db, "rosa", "es")
    status, conv = call(bot, "POST", "/api/queue/claim", {"languages": ["es"]}, token=token)
    assert status == 200 and conv["chat_id"] == str(dm)
    reply_with_files(bot, conv["id"], token, "", {"recibo.pdf": PDF})  # a file without a word, in a DM
    alone = standin.wait_sent(dm, count=2)[-1]
    assert not alone.get("content") and [(f["filename"], f["data"]) for f in alone["_files"]] == [("recibo.pdf", PDF)]
    assert call(bot, "POST", f"/api/conversations/{conv['id']}/resolve", token=token)[0] == 200
    prompt = standin.wait_sent(dm, count=3)[-1]
    custom_ids = [c["custom_id"] for row in prompt["components"] for c in row["components"]]
    assert custom_ids == [f"sb:rate:{n}:{conv['ticket']}" for n in range(1, 6)]
    pressed = standin.push_button(f"sb:rate:4:{conv['ticket']}", dm, prompt["id"], user_id=user)
    assert standin.wait_responses(pressed)[0]["type"] == 6
    assert len(standin.wait_sent(dm, count=4)) == 4, "thanked"
    rating = next(f for f in feedback(redis_db) if f.get("ticket") == conv["ticket"])
    assert rating["rating"] == 4 and rating["agent"] == "rosa" and rating["platform"] == "discord"


def test_ticket_command_lists_the_users_tickets_to_them_alone(discord_bot):
    standin, _, _ = discord_bot
    user = 1400000000000000051  # the previous test's user, who has a ticket
    interaction = standin.push_command("ticket", {}, PUBLIC_CHANNEL, user_id=user, locale="es-ES")
    response = standin.wait_responses(interaction)[0]
    assert response["data"]["flags"] & 64, "ephemeral: only the user sees it"
    assert re.search(r"T-\d+", response["data"]["content"])


def test_a_429_delays_the_reply_and_then_delivers_it(discord_bot):
    standin, _, _ = discord_bot
    user = 1400000000000000061
    dm = standin.dm_channel(user)
    standin.rate_limit_next, standin.retry_after = 1, 1.0
    started = time.monotonic()
    standin.push_message(dm, "how do I reset my password", user_id=user)
    sent = standin.wait_sent(dm)
    assert len(sent) == 1 and time.monotonic() - started >= 1.0, "sent again after retry_after"
    assert "password" in sent[0]["content"].lower()
    assert [c for c in standin.calls if c[0] == "POST:429" and c[1] == f"/channels/{dm}/messages"]


def test_long_replies_are_split_within_2000_characters(discord_bot):
    standin, bot, redis_db = discord_bot
    user = 1400000000000000071
    dm = standin.dm_channel(user)
    standin.push_message(dm, "talk to human please", user_id=user)
    standin.wait_sent(dm)
    token = add_agent(redis_db, "long", "en")
    status, conv = call(bot, "POST", "/api/queue/claim", {"languages": ["en"]}, token=token)
    while status == 200 and conv["chat_id"] != str(dm):
        status, conv = call(bot, "POST", "/api/queue/claim", {"languages": ["en"]}, token=token)
    text = "Here is what happened with your deposit, step by step. " * 70  # under the 4,000 an agent may send
    assert call(bot, "POST", f"/api/conversations/{conv['id']}/reply", {"text": text}, token=token)[0] == 202
    pieces = standin.wait_sent(dm, count=3)[1:]
    assert len(pieces) == 2 and all(len(p["content"]) <= 2000 for p in pieces)
    assert "".join(p["content"] for p in pieces).replace(" ", "") == text.replace(" ", "")


def test_a_missing_permission_is_logged_once_with_what_to_grant(discord_bot):
    standin, bot, redis_db = discord_bot
    user = 1400000000000000081
    dm = standin.dm_channel(user)
    standin.forbidden_channels.add(dm)
    for question in ("hi", "what are the fees", "how do I deposit"):
        standin.push_message(dm, question, user_id=user)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len([c for c in standin.calls if c[0] == "POST:403"]) < 3:
        time.sleep(0.2)
    time.sleep(1.5)
    assert len([c for c in standin.calls if c[0] == "POST:403" and str(dm) in c[1]]) == 3, "never retried"
    assert bot.logs().count(f"grant the bot Send Messages (and Send Messages in Threads) in channel {dm}") == 1
    assert bot.process.poll() is None


def test_a_suggested_answer_is_sent_when_its_button_is_pressed(discord_bot):
    standin, _, _ = discord_bot
    user = 1400000000000000092
    before = len(standin.sent(PUBLIC_CHANNEL))
    standin.push_message(PUBLIC_CHANNEL, "deposit", mention_bot=True, user_id=user)
    question = standin.wait_sent(PUBLIC_CHANNEL, count=before + 1)[-1]
    buttons = [c for row in question["components"] for c in row["components"]]
    assert buttons[0]["custom_id"].startswith("sb:answer:") and buttons[-1]["custom_id"] == "sb:handoff"
    assert buttons[0]["label"] and "answer" not in buttons[0]["label"]
    pressed = standin.push_button(buttons[0]["custom_id"], PUBLIC_CHANNEL, question["id"], user_id=user)
    assert standin.wait_responses(pressed)[0]["type"] == 6
    answer = standin.wait_sent(PUBLIC_CHANNEL, count=before + 2)[-1]
    assert [c["custom_id"] for row in answer["components"] for c in row["components"]] == [
        "sb:helpful:yes", "sb:helpful:no"]
    assert answer["content"] != question["content"]


def test_not_helpful_offers_a_person_who_then_talks_to_the_user_in_a_private_thread(discord_bot):
    standin, _, _ = discord_bot
    user = 1400000000000000091
    before = len(standin.sent(PUBLIC_CHANNEL))
    standin.push_message(PUBLIC_CHANNEL, "how do i enable 2fa", mention_bot=True, user_id=user)
    answer = standin.wait_sent(PUBLIC_CHANNEL, count=before + 1)[-1]
    pressed = standin.push_button("sb:helpful:no", PUBLIC_CHANNEL, answer["id"], user_id=user)
    assert standin.wait_responses(pressed)[0]["type"] == 6
    offer = standin.wait_sent(PUBLIC_CHANNEL, count=before + 2)[-1]
    assert [c["custom_id"] for row in offer["components"] for c in row["components"]] == ["sb:handoff"]
    pressed = standin.push_button("sb:handoff", PUBLIC_CHANNEL, offer["id"], user_id=user)
    assert standin.wait_responses(pressed)[0]["type"] == 6
    public = standin.wait_sent(PUBLIC_CHANNEL, count=before + 3)[-1]["content"]
    thread_id = next(i for i, t in standin.threads.items() if user in t["members"])
    assert f"<#{thread_id}>" in public and "T-" not in public, "the person talks to the user in private"
    assert re.search(r"T-\d+", standin.wait_sent(thread_id)[0]["content"])


def test_sharded_and_without_manage_messages(tmp_path, redis_server, model_path):
    """`discord.shards: 2` runs both shards in one process; without Manage Messages a pasted
    secret stays (the bot cannot delete it) and the warning asks the user to delete it."""
    from mnemonic import Mnemonic

    standin = DiscordStandIn(manage_messages=False).start()
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["discord"].update(enabled=True, api_base_url=standin.api_base, gateway_url=standin.gateway_url, shards=2)
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config))
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/8"
    redis_sync.Redis.from_url(redis_url).flushdb()
    bot = BotProcess(redis_url, tmp_path / "bot.log", tmp_path / "config.yml", env={"DISCORD_TOKEN": TOKEN}).start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(standin.shards_identified) < 2:
            time.sleep(0.1)
        assert sorted(standin.shards_identified) == [[0, 2], [1, 2]]
        standin.push_message(PUBLIC_CHANNEL, "how do I deposit", mention_bot=True, user_id=1400000000000000101)
        assert "deposit" in standin.wait_sent(PUBLIC_CHANNEL)[0]["content"].lower()

        phrase = Mnemonic("english").to_mnemonic(bytes(range(110, 126)))
        standin.push_message(PUBLIC_CHANNEL, f"help {phrase}", user_id=1400000000000000102)
        warning = standin.wait_sent(PUBLIC_CHANNEL, count=2)[-1]["content"]
        assert "delete the message" in warning and phrase.split()[0] + " " + phrase.split()[1] not in warning
        assert not standin.deleted and not [c for c in standin.calls if c[0].startswith("DELETE")]
        assert "grant the bot Manage Messages" in bot.logs()
    finally:
        bot.stop()
        standin.stop()


def test_help_command_searches_the_help_center_in_the_users_locale(discord_bot):
    standin, _, _ = discord_bot
    interaction = standin.push_command("help", {"words": "retiro pendiente"}, PUBLIC_CHANNEL, locale="es-ES")
    content = standin.wait_responses(interaction)[0]["data"]["content"]
    assert "https://help.example.com/es/withdrawal-pending" in content


def test_an_impostor_joining_the_server_is_reported_and_the_server_warned(discord_bot):
    standin, bot, redis_db = discord_bot
    lead = add_agent(redis_db, "disco-lead", "en", role="lead")
    before = len(standin.sent(PUBLIC_CHANNEL))
    standin.push_member_join(1400000000000000111, "ana_trades", "Ana")
    standin.push_member_join(1400000000000000112, "examplex_support_desk", "ExampIeX Support")
    warning = standin.wait_sent(PUBLIC_CHANNEL, count=before + 1)[-1]["content"]
    assert "ExampIeX Support" in warning and "never DM you first" in warning
    time.sleep(1)
    warnings = [m["content"] for m in standin.sent(PUBLIC_CHANNEL)[before:] if "never DM you first" in m["content"]]
    assert len(warnings) == 1, "one warning, for the impostor only (a late reply of an earlier test may also come)"
    reports = call(bot, "GET", "/api/impostors", token=lead)[1]["impostors"]
    assert [r["user_id"] for r in reports] == ["1400000000000000112"]


def test_arbitrary_messages_never_break_the_adapter(discord_bot):
    """Fuzzing the normalizer: any content, mentioned or not, in a channel, a DM or a reply."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    standin, bot, _ = discord_bot
    user = 1400000000000000121
    tracebacks = bot.logs().count("Traceback")

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.text(max_size=2000), st.booleans(), st.booleans(), st.sampled_from(["channel", "dm"]))
    def any_message(content: str, mention: bool, reply: bool, where: str) -> None:
        channel = PUBLIC_CHANNEL if where == "channel" else standin.dm_channel(user)
        standin.push_message(channel, content, user_id=user, mention_bot=mention, reply_to_bot=reply)

    any_message()
    time.sleep(2)
    assert bot.process.poll() is None
    dm = standin.dm_channel(1400000000000000122)
    standin.push_message(dm, "what are the fees", user_id=1400000000000000122)
    assert "fee" in standin.wait_sent(dm)[0]["content"].lower(), "still answering"
    assert bot.logs().count("Traceback") == tracebacks


def test_a_phone_photo_in_a_dm_is_kept_without_its_position_and_acknowledged_in_the_users_language(discord_bot):
    standin, bot, redis_db = discord_bot
    user = 1400000000000000131
    dm = standin.dm_channel(user)
    standin.push_message(dm, "bonjour, quels sont vos frais de retrait ?", user_id=user)
    standin.wait_sent(dm)
    standin.push_message(dm, "", user_id=user, files=(("IMG_0042.jpg", phone_photo()),))
    told = standin.wait_sent(dm, count=2)[-1]["content"]
    assert "fichier IMG_0042.jpg" in told, "told in the conversation's French that the photo came"
    [(stored, data)] = kept_files(redis_db.url, f"discord:{dm}:{user}", bot.files)
    assert stored.media_type == "image/jpeg" and stored.name == "IMG_0042.jpg" and metadata_free(data)


def test_a_message_with_several_files_refuses_each_bad_one_and_reads_its_text_last(discord_bot):
    standin, bot, redis_db = discord_bot
    user = 1400000000000000132
    dm = standin.dm_channel(user)
    files = (("statement.pdf", OVERSIZED), ("receipt.jpg", zip_named_jpg()), ("screen.jpg", phone_photo()))
    standin.push_message(dm, "how do i reset my password", user_id=user, files=files)
    replies = [m["content"] for m in standin.wait_sent(dm, count=3)]
    assert "too big" in replies[0] and "We can only take images" in replies[1], "each refused, in order"
    assert "password" in replies[2].lower(), "the text answered once, after the files"
    assert not [p for p in standin.downloads if p.endswith("/statement.pdf")], "Discord told its size: not fetched"
    assert [stored.name for stored, _ in kept_files(redis_db.url, f"discord:{dm}:{user}", bot.files)] == ["screen.jpg"]
    time.sleep(1)
    assert len(standin.sent(dm)) == 3

    # Six files: the first five are taken; a photo in chatter not addressed to the bot is never fetched.
    standin.push_message(dm, "", user_id=user, files=tuple((f"shot{n}.jpg", phone_photo()) for n in range(6)))
    assert len(kept_files(redis_db.url, f"discord:{dm}:{user}", bot.files, count=6, timeout=10)) == 6
    assert not [p for p in standin.downloads if p.endswith("/shot5.jpg")]
    standin.push_message(PUBLIC_CHANNEL, "", user_id=user, files=(("meme.jpg", phone_photo()),))
    time.sleep(1)
    assert not [p for p in standin.downloads if p.endswith("/meme.jpg")]


def test_a_file_the_cdn_refuses_is_reported_unreadable_and_its_signed_url_never_logged(discord_bot):
    standin, bot, _ = discord_bot
    user = 1400000000000000133
    dm = standin.dm_channel(user)
    standin.cdn_refuses = True
    try:
        standin.push_message(dm, "", user_id=user, files=(("id-card.jpg", phone_photo()),))
        assert "could not read that file" in standin.wait_sent(dm)[0]["content"]
    finally:
        standin.cdn_refuses = False
    assert "a user's file could not be downloaded (Forbidden)" in bot.logs()
    assert "/attachments/" not in bot.logs() and "hm=" not in bot.logs()
