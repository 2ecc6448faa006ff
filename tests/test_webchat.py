"""The built-in web chat against the real bot process and a real Redis."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
import redis
from mnemonic import Mnemonic

from bot.stores.conversations import conversation_id
from tests.conftest import stored_text
from tests.helpers import post, say

SEED = Mnemonic("english").to_mnemonic(bytes(range(100, 132)))



def test_the_page_is_served_with_a_strict_policy(bot):
    with urllib.request.urlopen(bot.url + "/", timeout=10) as response:
        assert response.status == 200
        assert "text/html" in response.headers["Content-Type"]
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert b"/webchat/chat.js" in response.read()
    with urllib.request.urlopen(bot.url + "/webchat/chat.js", timeout=10) as response:
        assert b"textContent" in response.read()


def test_a_question_is_answered_in_the_users_language_with_buttons(bot):
    status, body = say(bot, "session-es-0001", "hola, hice un deposito de USDT por TRC20 y no me llega")
    assert status == 200
    assert body["language"] == "es" and body["action"] == "answer"
    reply = body["replies"][0]
    assert "ExampleX" in reply["text"] or "depósito" in reply["text"].lower() or "deposito" in reply["text"].lower()
    assert [b["action"] for b in reply["buttons"]] == ["helpful:yes", "helpful:no"]


def test_the_conversation_remembers_its_language_in_redis(bot, redis_server):
    say(bot, "session-fr-0001", "bonjour, mon retrait est bloqué depuis hier")
    status, body = say(bot, "session-fr-0001", "ok")
    assert status == 200 and body["language"] == "fr"
    cid = conversation_id("webchat:session-fr-0001:session-fr-0001")
    stored = redis.Redis.from_url(redis_server.url).hget(f"sb:conv:{cid}", "language")
    assert stored == b"fr"


def test_a_pasted_seed_phrase_is_warned_about_and_stored_nowhere(bot, redis_server):
    status, body = say(bot, "session-seed-01", f"is this my backup? {SEED}")
    assert status == 200 and body["action"] == "warn_secret"
    words = SEED.split()
    assert " ".join(words[:3]) not in body["replies"][0]["text"]
    for key, dump in stored_text(redis_server.url).items():
        assert " ".join(words[:3]) not in dump, key
    assert " ".join(words[:3]) not in bot.logs()


@pytest.mark.parametrize("body,status,code", [
    (b"{not json", 400, "bad_json"),
    (b'{"txt": "hi"}', 400, "bad_json"),
    (b'{"text": ""}', 400, "empty"),
    (json.dumps({"text": "x" * 5000}).encode(), 413, "too_long"),
    (b"x" * 100_000, 413, "too_large"),
    (b'{"text": "\\u0000\\u0001\\u0002"}', 400, "binary"),
])  # fmt: skip
def test_bad_input_gets_a_clear_json_error(bot, body, status, code):
    got_status, got = post(bot, "session-bad-0001", body)
    assert (got_status, got["error"]) == (status, code)
    assert got["message"]


def test_refusals_speak_the_users_language(bot):
    status, body = say(bot, "session-bad-0002", " ", **{"Accept-Language": "ja-JP,ja;q=0.9"})
    assert status == 400 and body["reply"] and body["reply"].isascii() is False


def test_a_bad_session_id_is_refused(bot):
    status, body = say(bot, "x", "hello")
    assert (status, body["error"]) == (400, "bad_session")


def test_buttons_are_pressed_through_the_api_and_recorded(bot, redis_server):
    session = "session-press-0001"
    status, body = say(bot, session, "what are the trading fees?")
    assert status == 200 and [b["action"] for b in body["replies"][0]["buttons"]] == ["helpful:yes", "helpful:no"]
    assert body["message"]["text"] == "what are the trading fees?"

    def press(action: object) -> int:
        request = urllib.request.Request(f"{bot.url}/api/webchat/{session}/press", method="POST",
                                         data=json.dumps({"action": action}).encode())  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    assert press("helpful:no") == 202
    assert press("<script>") == 400 and press(None) == 400
    client = redis.Redis.from_url(redis_server.url)
    cid = conversation_id(f"webchat:{session}:{session}")
    recorded = [json.loads(x) for x in client.lrange("sb:feedback", 0, -1)]
    assert any(r["conversation"] == cid and r["value"] == "no" for r in recorded)
    with urllib.request.urlopen(f"{bot.url}/api/webchat/{session}/messages?after={body['cursor']}&wait=5") as r:
        later = json.loads(r.read())["messages"]
    assert [b["action"] for m in later for b in m["buttons"]] == ["handoff"], "a 👎 offers a person"


def test_the_history_keeps_the_users_words_redacted(bot):
    session = "session-history-01"
    status, body = say(bot, session, f"my words are {SEED}")
    assert status == 200 and SEED.split()[0] + " " + SEED.split()[1] not in body["message"]["text"]
    with urllib.request.urlopen(f"{bot.url}/api/webchat/{session}/messages?after=0-0", timeout=10) as response:
        history = json.loads(response.read())["messages"]
    assert [m["from"] for m in history] == ["user", "bot"]
    assert " ".join(SEED.split()[:3]) not in json.dumps(history)
