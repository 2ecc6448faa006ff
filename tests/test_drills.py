"""Drills: `kill -9` of the bot mid-flow and a restart of redis-server lose nothing accepted:
no inbound message, no hand-off, no agent reply. A Redis of their own, with AOF on."""

from __future__ import annotations

import json
import time
from dataclasses import asdict

import pytest
import redis as redis_sync
import yaml

from bot.domain.messages import InboundMessage
from tests.conftest import ROOT, BotProcess, RedisServer
from tests.helpers import add_agent, call, say, session_of, wait_for


@pytest.fixture(scope="module")
def stack(tmp_path_factory, model_path):
    workdir = tmp_path_factory.mktemp("drills")
    redis = RedisServer(workdir, appendonly=True).start()
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["limits"]["redelivery_seconds"] = 2
    config_path = workdir / "config.yml"
    config_path.write_text(yaml.safe_dump(config))
    bot = BotProcess(redis.url, workdir / "bot.log", config_path).start()
    token = add_agent(redis, "drill", "en,es")
    yield {"redis": redis, "bot": bot, "token": token, "workdir": workdir}
    bot.stop()
    redis.stop()


def agent_messages(bot, session: str) -> list[str]:
    status, body = call(bot, "GET", f"/api/webchat/{session_of(bot, session)}/messages?after=0-0")
    return [m["text"] for m in body["messages"] if m["from"] == "agent"]


def bot_messages(bot, session: str) -> list[str]:
    status, body = call(bot, "GET", f"/api/webchat/{session_of(bot, session)}/messages?after=0-0")
    return [m["text"] for m in body["messages"] if m["from"] == "bot"]


def test_kill_9_of_the_bot_loses_no_message_hand_off_or_reply(stack):
    bot, token = stack["bot"], stack["token"]
    # A hand-off, claimed, and an agent's reply sent the instant before the crash.
    status, first = say(bot, "drill-user-0001", "I need a human please")
    assert first["action"] == "handoff"
    status, conv = call(bot, "POST", "/api/queue/claim", {"languages": ["en"]}, token=token)
    assert status == 200
    status, _ = call(bot, "POST", f"/api/conversations/{conv['id']}/reply", {"text": "Hi, Drill here."}, token=token)
    assert status == 202
    # A second hand-off still waiting in the queue.
    say(bot, "drill-user-0002", "let me talk to a real agent")
    orphan = session_of(bot, "drill-user-0003")
    bot.process.kill()
    bot.process.wait()

    # A message the dead process had accepted but not yet handled (written as `Inbox.handle` does).
    accepted = InboundMessage("webchat", orphan, "private", orphan, "how do i reset my 2fa?")
    redis_sync.Redis.from_url(stack["redis"].url).xadd("sb:inbox", {"message": json.dumps(asdict(accepted))})

    bot.start()
    assert wait_for(lambda: agent_messages(bot, "drill-user-0001")) == ["Hi, Drill here."]
    status, again = call(bot, "GET", f"/api/conversations/{conv['id']}", token=token)
    assert (status, again["state"], again["agent"]) == (200, "assigned", "drill")
    status, queue = call(bot, "GET", "/api/queue", token=token)
    assert [c["first_message"] for c in queue["queue"]] == ["let me talk to a real agent"]
    answered = wait_for(lambda: bot_messages(bot, "drill-user-0003"))
    assert answered and "2FA" in answered[0].upper()
    time.sleep(3)
    assert agent_messages(bot, "drill-user-0001") == ["Hi, Drill here."], "delivered once"


def test_a_redis_restart_loses_nothing(stack):
    bot, token, server = stack["bot"], stack["token"], stack["redis"]
    say(bot, "drill-user-0004", "necesito hablar con un agente")
    status, before = call(bot, "GET", "/api/queue", token=token)
    assert status == 200
    time.sleep(1.5)  # appendfsync everysec: what the clients were told is on disk
    server.stop()
    status, down = call(bot, "GET", "/api/queue", token=token)
    assert status == 503
    status, refused = say(bot, "drill-user-0005", "hello?")
    assert status == 503 and refused["reply"], "the user is told we will answer shortly"
    server.start()
    def queue_back() -> tuple | None:
        answer = call(bot, "GET", "/api/queue", token=token)
        return answer if answer[0] == 200 else None

    status, after = wait_for(queue_back)
    assert [c["ticket"] for c in after["queue"]] == [c["ticket"] for c in before["queue"]]
    status, conv = call(bot, "POST", "/api/queue/claim", {"languages": ["es"]}, token=token)
    assert status == 200 and conv["transcript"][0]["text"] == "necesito hablar con un agente"
    status, body = say(bot, "drill-user-0005", "hello?")
    assert status == 200 and body["replies"]
