"""The built-in web chat against the real bot process and a real Redis."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest
import redis
from mnemonic import Mnemonic

from bot.stores.conversations import conversation_id
from tests.conftest import stored_text
from tests.helpers import call, new_session, post, say, session_of

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
    session = session_of(bot, "session-fr-0001")
    cid = conversation_id(f"webchat:{session}:{session}")
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


def test_a_seed_phrase_pasted_in_two_halves_is_redacted_in_the_history_too(bot, redis_server):
    """The first half looked like nothing; when the second comes, both are redacted: in the
    transcript and in the web chat's own history, which the page reads back."""
    words = Mnemonic("english").to_mnemonic(bytes(range(40, 56))).split()
    first, second = " ".join(words[:6]), " ".join(words[6:])
    assert say(bot, "session-split-01", first)[0] == 200
    status, body = say(bot, "session-split-01", second)
    assert status == 200 and body["action"] == "warn_secret"
    status, history = call(bot, "GET", f"/api/webchat/{session_of(bot, 'session-split-01')}/messages?after=0-0")
    texts = [line["text"] for line in history["messages"]]
    runs = [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]
    assert not [text for text in texts if any(run in text for run in runs)], texts
    assert [line["from"] for line in history["messages"]].count("user") == 2, "each line shown once"
    for key, dump in stored_text(redis_server.url).items():
        assert not any(run in dump for run in runs), key


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


def send(bot, path: str, body: bytes | None = None, content_type: str | None = None) -> tuple[int, dict]:
    """A request as anyone could make it: any path, body and Content-Type."""
    headers = {"Content-Type": content_type} if content_type else {}
    request = urllib.request.Request(bot.url + path, data=body, method="POST" if body is not None else "GET",
                                     headers=headers)  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_session_ids_are_issued_by_the_server_and_no_other_is_accepted(bot):
    first, second = new_session(bot), new_session(bot)
    assert first != second and len(first) == 64 and int(first, 16) >= 0, "random hex, 128 bits and a signature"
    assert say(bot, "issued-session-1", "hello")[0] == 200
    forged = first[:-1] + ("0" if first[-1] != "0" else "1")
    for made_up in ("abcdefgh", "session-made-up-0001", "x", forged, "0" * 64):
        for path, body in ((f"/api/webchat/{made_up}/messages", b'{"text": "hi"}'),
                           (f"/api/webchat/{made_up}/press", b'{"action": "helpful:yes"}'),
                           (f"/api/webchat/{made_up}/messages?after=0-0", None)):  # fmt: skip
            status, refused = send(bot, path, body, "application/json")
            assert (status, refused["error"]) == (404, "unknown_session"), path
            assert "POST /api/webchat/sessions" in refused["message"]


@pytest.mark.parametrize("content_type,body", [
    ("text/plain", b'{"text": "hi from another site"}'),
    ("application/x-www-form-urlencoded", b"text=hi+from+another+site"),
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\n--x--'),
    (None, b'{"text": "hi from another site"}'),
])  # fmt: skip
def test_writes_that_are_not_json_are_refused_so_other_sites_cannot_post(bot, redis_server, content_type, body):
    session = new_session(bot)
    for path in (f"/api/webchat/{session}/messages", f"/api/webchat/{session}/press", "/api/webchat/sessions"):
        status, refused = send(bot, path, body, content_type)
        assert (status, refused["error"]) == (415, "not_json"), path
    assert redis.Redis.from_url(redis_server.url).exists(f"sb:webchat:{session}") == 0, "nothing was written"


def test_a_long_poll_returns_a_new_line_at_once(bot):
    session = session_of(bot, "session-poll-0001")
    say(bot, "session-poll-0001", "hello")
    cursor = send(bot, f"/api/webchat/{session}/messages?after=0-0")[1]["cursor"]
    polled: list = []
    poller = threading.Thread(target=lambda: polled.append(
        (send(bot, f"/api/webchat/{session}/messages?after={cursor}&wait=20"), time.monotonic())))
    poller.start()
    time.sleep(1)  # the poll is waiting
    status, body = say(bot, "session-poll-0001", "what are the trading fees?")
    answered = time.monotonic()
    poller.join(timeout=25)
    (status, later), returned = polled[0]
    assert status == 200 and later["messages"][0]["text"] == "what are the trading fees?"
    assert returned - answered < 0.5, f"the poll returned {returned - answered:.2f} s after the line was added"


def press(bot, session: str, action: object) -> int:
    request = urllib.request.Request(f"{bot.url}/api/webchat/{session}/press", method="POST",
                                     data=json.dumps({"action": action}).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def later_messages(bot, session: str, cursor: str, wait: int = 5) -> list[dict]:
    with urllib.request.urlopen(f"{bot.url}/api/webchat/{session}/messages?after={cursor}&wait={wait}") as r:
        return json.loads(r.read())["messages"]


def test_buttons_are_pressed_through_the_api_and_recorded(bot, redis_server):
    session = session_of(bot, "session-press-0001")
    status, body = say(bot, "session-press-0001", "what are the trading fees?")
    assert status == 200 and [b["action"] for b in body["replies"][0]["buttons"]] == ["helpful:yes", "helpful:no"]
    assert body["message"]["text"] == "what are the trading fees?"
    assert press(bot, session, "helpful:no") == 202
    assert press(bot, session, "<script>") == 400 and press(bot, session, None) == 400
    client = redis.Redis.from_url(redis_server.url)
    cid = conversation_id(f"webchat:{session}:{session}")
    recorded = [json.loads(x) for x in client.lrange("sb:feedback", 0, -1)]
    assert any(r["conversation"] == cid and r["value"] == "no" for r in recorded)
    later = later_messages(bot, session, body["cursor"])
    assert [b["action"] for m in later for b in m["buttons"]] == ["handoff"], "a 👎 offers a person"


def test_a_suggested_answer_is_given_when_its_button_is_pressed(bot, redis_server):
    """"deposit" alone: the bot is not sure which deposit question it is, offers its guesses
    by name; a tap gives that answer, and a forged or stale answer button gives nothing."""
    session = session_of(bot, "session-suggest-01")
    status, body = say(bot, "session-suggest-01", "deposit")
    buttons = body["replies"][0]["buttons"]
    assert status == 200 and body["action"] == "clarify" and buttons[-1]["action"] == "handoff"
    offered = [b for b in buttons if b["action"].startswith("answer:")]
    assert offered and all(b["label"] and not b["label"].startswith("answer") for b in offered)
    assert press(bot, session, "answer:fees:no_such_question") == 202
    assert press(bot, session, offered[0]["action"]) == 202
    later = [m for m in later_messages(bot, session, body["cursor"]) if m["from"] == "bot"]
    assert len(later) == 1, "one answer: the forged press is ignored"
    assert [b["action"] for b in later[0]["buttons"]] == ["helpful:yes", "helpful:no"]
    assert later[0]["text"] != body["replies"][0]["text"] and len(later[0]["text"]) > 80
    cid = conversation_id(f"webchat:{session}:{session}")
    log = redis.Redis.from_url(redis_server.url).lrange(f"sb:conv:{cid}:log", 0, -1)
    picked = offered[0]["action"].removeprefix("answer:").replace(":", "/")
    assert any(f"[answer:{picked}]" in line.decode() for line in log), "the pick is in the transcript"


def test_the_history_keeps_the_users_words_redacted(bot):
    session = session_of(bot, "session-history-01")
    status, body = say(bot, "session-history-01", f"my words are {SEED}")
    assert status == 200 and SEED.split()[0] + " " + SEED.split()[1] not in body["message"]["text"]
    with urllib.request.urlopen(f"{bot.url}/api/webchat/{session}/messages?after=0-0", timeout=10) as response:
        history = json.loads(response.read())["messages"]
    assert [m["from"] for m in history] == ["user", "bot"]
    assert " ".join(SEED.split()[:3]) not in json.dumps(history)
