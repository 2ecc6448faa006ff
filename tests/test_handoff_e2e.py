"""The hand-off loop end to end: the real bot process, a real Redis, the HTTP APIs.

A web-chat user asks for a person, an agent claims over the agent API and replies, the user
reads the reply through the web chat API; the bot stays silent while the agent owns the chat.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.helpers import add_agent, call, say, session_of


@pytest.fixture(scope="module")
def agents(redis_server):
    return {
        "ana": add_agent(redis_server, "ana", "en,es"),
        "bo": add_agent(redis_server, "bo", "en"),
        "lead": add_agent(redis_server, "lea", "en,zh", role="lead"),
    }


def test_only_a_hash_of_the_token_is_stored(redis_server, agents):
    import redis

    client = redis.Redis.from_url(redis_server.url)
    stored = client.hgetall("sb:agent:ana")
    assert agents["ana"].encode() not in b"".join(stored.values())
    assert len(stored[b"token_sha256"]) == 64


def test_the_api_needs_a_token_and_respects_roles(bot, agents):
    assert call(bot, "GET", "/api/queue")[0] == 401
    assert call(bot, "GET", "/api/queue", token="sbt_wrong")[0] == 401
    assert call(bot, "GET", "/api/agents", token=agents["ana"])[0] == 403
    status, body = call(bot, "GET", "/api/agents", token=agents["lead"])
    assert status == 200 and {a["name"] for a in body["agents"]} >= {"ana", "bo", "lea"}
    status, spec = call(bot, "GET", "/api/openapi.json")
    assert status == 200 and "/api/queue/claim" in spec["paths"]


def test_a_user_asks_for_a_person_an_agent_answers_and_the_bot_keeps_quiet(bot, agents):
    session = session_of(bot, "handoff-session-01")
    path = f"/api/webchat/{session}/messages"
    status, first = call(bot, "POST", path, {"text": "quiero hablar con una persona real"})
    assert status == 200 and first["action"] == "handoff"
    reply = first["replies"][0]["text"]
    ticket = next(word.strip(".,:;()") for word in reply.split() if word.startswith("T-"))

    status, queue = call(bot, "GET", "/api/queue", token=agents["ana"])
    waiting = [c for c in queue["queue"] if c["ticket"] == ticket]
    assert status == 200 and len(waiting) == 1
    assert waiting[0]["language"] == "es" and waiting[0]["first_message"] == "quiero hablar con una persona real"

    status, claimed = call(bot, "POST", "/api/queue/claim", {"languages": ["es"]}, token=agents["ana"])
    assert status == 200 and claimed["ticket"] == ticket and claimed["agent"] == "ana"
    cid = claimed["id"]
    assert call(bot, "POST", "/api/queue/claim", {"languages": ["es"]}, token=agents["bo"])[0] in (204, 200)
    assert call(bot, "GET", f"/api/conversations/{cid}", token=agents["bo"])[0] == 404, "not bo's"

    # While ana owns it, the bot is silent and the message reaches her.
    status, second = call(bot, "POST", f"/api/webchat/{session}/messages", {"text": "hola? sigues ahí?"})
    assert status == 200 and second["replies"] == [] and second["action"] == "forward"
    status, conv = call(bot, "GET", f"/api/conversations/{cid}", token=agents["ana"])
    assert [line["text"] for line in conv["transcript"] if line["from"] == "user"][-1] == "hola? sigues ahí?"

    status, sent = call(bot, "POST", f"/api/conversations/{cid}/reply", {"text": "Hola, soy Ana. ¿En qué te ayudo?"},
                        token=agents["ana"])  # fmt: skip
    assert status == 202
    deadline = time.monotonic() + 20
    messages = []
    while time.monotonic() < deadline and not messages:
        status, later = call(bot, "GET", f"/api/webchat/{session}/messages?after={second['cursor']}&wait=5")
        messages = [m for m in later["messages"] if m["from"] == "agent"]
    assert [m["text"] for m in messages] == ["Hola, soy Ana. ¿En qué te ayudo?"]

    status, resolved = call(bot, "POST", f"/api/conversations/{cid}/resolve", token=agents["ana"])
    assert status == 200 and resolved["state"] == "resolved"
    status, refused = call(bot, "POST", f"/api/conversations/{cid}/reply", {"text": "late"}, token=agents["ana"])
    assert status == 409, "a reply to a resolved conversation is refused, not lost"

    # Back with the bot: it answers again, and knows the user's ticket.
    status, third = call(bot, "POST", f"/api/webchat/{session}/messages", {"text": "cual es el estado de mi ticket?"})
    assert status == 200 and third["action"] == "answer"
    assert ticket in third["replies"][0]["text"]


def test_tickets_are_only_the_users_own(bot, agents):
    say(bot, "other-user-0001", "i want to talk to a human")
    status, body = say(bot, "other-user-0002", "status of my ticket?")
    assert status == 200
    assert "T-" not in body["replies"][0]["text"]


def test_bad_agent_requests_get_clear_errors(bot, agents):
    assert call(bot, "POST", "/api/conversations/cnothere/reply", {"text": "x"}, token=agents["ana"])[0] == 404
    status, body = call(bot, "POST", "/api/queue/claim", {"languages": "en"}, token=agents["ana"])
    assert status == 400 and body["error"] == "bad_request"
    status, body = call(bot, "GET", "/api/canned?language=ja", token=agents["ana"])
    assert status == 200 and "{ticket}" in body["canned"]["greeting"]


def test_the_terminal_console_lists_claims_replies_and_resolves(bot, agents):
    status, asked = say(bot, "console-user-01", "我要人工客服")
    assert asked["action"] == "handoff"
    script = "list\nclaim zh\ncanned {cid} greeting\nresolve {cid}\nquit\n"
    env = {**os.environ, "SUPPORTBOT_AGENT_TOKEN": agents["lead"]}
    first = subprocess.run([sys.executable, "-m", "bot", "agent", "--url", bot.url], cwd=ROOT, env=env,
                           input="claim zh\n", capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "signed in as lea" in first.stdout and "我要人工客服" in first.stdout
    cid = next(word for word in first.stdout.split() if word.startswith("c") and len(word) == 13)
    done = subprocess.run([sys.executable, "-m", "bot", "agent", "--url", bot.url], cwd=ROOT, env=env,
                          input=script.format(cid=cid), capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "sent" in done.stdout and f"{cid} is now resolved" in done.stdout, done.stdout
    deadline, agent_lines = time.monotonic() + 20, []
    while not agent_lines and time.monotonic() < deadline:
        status, later = call(bot, "GET", f"/api/webchat/{session_of(bot, 'console-user-01')}/messages?after=0-0")
        agent_lines = [m["text"] for m in later["messages"] if m["from"] == "agent"]
        time.sleep(0.2)
    assert len(agent_lines) == 1 and "lea" in agent_lines[0] and "T-" in agent_lines[0]


def test_an_agent_transfers_to_another_agent_and_back_to_the_queue(bot, agents):
    say(bot, "transfer-user-1", "please connect me to an operator")
    status, conv = call(bot, "POST", "/api/queue/claim", {"languages": ["en"]}, token=agents["ana"])
    assert status == 200
    cid = conv["id"]
    status, moved = call(bot, "POST", f"/api/conversations/{cid}/transfer", {"agent": "bo"}, token=agents["ana"])
    assert status == 200 and moved["agent"] == "bo"
    assert call(bot, "POST", f"/api/conversations/{cid}/reply", {"text": "x"}, token=agents["ana"])[0] == 404
    status, back = call(bot, "POST", f"/api/conversations/{cid}/transfer", {"queue": True}, token=agents["bo"])
    assert status == 200 and back["state"] == "queued"
    status, queue = call(bot, "GET", "/api/queue", token=agents["bo"])
    assert cid in [c["id"] for c in queue["queue"]]


def test_leads_see_the_queue_live_through_server_sent_events(bot, agents):
    import threading

    request = urllib.request.Request(bot.url + "/api/events", headers={"Authorization": f"Bearer {agents['lead']}"})
    seen: list[str] = []

    def listen() -> None:
        with urllib.request.urlopen(request, timeout=30) as stream:
            for raw in stream:
                line = raw.decode().strip()
                if line.startswith("event: "):
                    seen.append(line[7:])
                if "claimed" in seen:
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(0.5)
    say(bot, "events-user-01", "can i speak to a human agent")
    call(bot, "POST", "/api/queue/claim", {"languages": ["en"]}, token=agents["lead"])
    listener.join(timeout=20)
    assert "queued" in seen and "claimed" in seen


def test_malformed_or_huge_agent_bodies_get_a_clear_error(bot, agents):
    request = urllib.request.Request(bot.url + "/api/queue/claim", data=b"{nope", method="POST",
                                     headers={"Authorization": f"Bearer {agents['ana']}"})  # fmt: skip
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("accepted malformed JSON")
    except urllib.error.HTTPError as error:
        assert error.code == 400 and json.loads(error.read())["error"] == "bad_json"
    status, body = call(bot, "POST", "/api/conversations/cwhatever/reply", {"text": "x" * 100_000}, token=agents["ana"])
    assert status in (404, 413) and body["error"]
