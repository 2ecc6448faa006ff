"""Two bot replicas on one Redis, every platform at once: Telegram in webhook mode (updates
land on either replica), Discord split into shards (one per replica), X polled by a single
leader, the web chat on both. Every message is answered exactly once, every hand-off claimed
exactly once, every agent reply delivered exactly once."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from types import SimpleNamespace

import pytest
import redis as redis_sync
import yaml

from tests.conftest import ROOT, BotProcess
from tests.helpers import X_CREDENTIALS, add_agent, call, new_session
from tests.standins.discord_api import PUBLIC_CHANNEL, DiscordStandIn
from tests.standins.telegram_api import TelegramStandIn
from tests.standins.x_api import XStandIn

SECRET = "replica-webhook-secret-value"
ENV = {"TELEGRAM_TOKEN": "777000:REPLICA-telegram-token", "TELEGRAM_WEBHOOK_SECRET": SECRET,
       "DISCORD_TOKEN": "MTEw.REPLICA-discord-token.x", **X_CREDENTIALS}  # fmt: skip


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, redis_server, model_path):
    telegram, discord, x = TelegramStandIn().start(), DiscordStandIn().start(), XStandIn().start()
    url = redis_server.url.rsplit("/", 1)[0] + "/12"
    redis_sync.Redis.from_url(url).flushdb()
    bots = []
    for shard in (0, 1):
        workdir = tmp_path_factory.mktemp(f"replica{shard}")
        config = yaml.safe_load((ROOT / "config.yml").read_text())
        config["telegram"].update(enabled=True, base_url=telegram.base_url,
                                  webhook_url="https://support.example.com/telegram/webhook")  # fmt: skip
        config["discord"].update(enabled=True, api_base_url=discord.api_base, gateway_url=discord.gateway_url,
                                 shards=2, shard_ids=[shard])  # fmt: skip
        config["x"].update(enabled=True, api_base_url=x.base_url, poll_interval_seconds=0.3, leader_lock_seconds=3)
        config["web"]["rate_per_ip_minute"] = 1_000_000
        (workdir / "config.yml").write_text(yaml.safe_dump(config))
        bots.append(BotProcess(url, workdir / "bot.log", workdir / "config.yml", env=ENV))
    threads = [threading.Thread(target=bot.start) for bot in bots]  # both load their model at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (len(discord.shards_identified) < 2
                                           or not any("/mentions" in c[1] for c in x.calls)):  # fmt: skip
        time.sleep(0.2)
    assert sorted(discord.shards_identified) == [[0, 2], [1, 2]], "each replica runs one shard"
    time.sleep(1)  # the X leader's first poll marks where it starts
    yield SimpleNamespace(bots=bots, telegram=telegram, discord=discord, x=x, url=url)
    for bot in bots:
        bot.stop()
        logs = bot.logs()
        assert not any(value in logs for value in (*ENV.values(),) if len(value) > 8), "no credential in the logs"


def telegram_update(update_id: int, chat: int, text: str) -> dict:
    sender = {"id": chat, "is_bot": False, "first_name": "Kai", "language_code": "en"}
    return {"update_id": update_id, "message": {"message_id": update_id, "date": int(time.time()), "text": text,
                                                "chat": {"id": chat, "type": "private"}, "from": sender}}  # fmt: skip


def post_webhook(bot: BotProcess, update: dict) -> int:
    request = urllib.request.Request(bot.url + "/telegram/webhook", data=json.dumps(update).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "X-Telegram-Bot-Api-Secret-Token": SECRET})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def settle(count: Callable[[], int], expected: int, timeout: float = 30) -> int:
    """Wait until `count()` reaches `expected`, then a little longer to catch any duplicate."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and count() < expected:
        time.sleep(0.1)
    time.sleep(1.5)
    return count()


def test_every_message_on_every_platform_is_answered_exactly_once(replicas):
    a, b = replicas.bots
    chats = list(range(9101, 9111))
    for n, chat in enumerate(chats):  # the load balancer alternates between the replicas
        assert post_webhook((a, b)[n % 2], telegram_update(n + 1, chat, "how do I reset my password")) == 200
    users = [1400000000000000900 + n for n in range(6)]
    for user in users:
        replicas.discord.push_message(PUBLIC_CHANNEL, "what are the trading fees?", mention_bot=True, user_id=user)
    tweets = [replicas.x.mention(f"@ExampleX how do I enable 2fa #{n}", user_id=f"16000000000009{n:05d}")
              for n in range(5)]  # fmt: skip
    sessions = [new_session((b, a)[n % 2]) for n in range(6)]  # each issued by the other replica
    for n, session in enumerate(sessions):
        status, body = call((a, b)[n % 2], "POST", f"/api/webchat/{session}/messages", {"text": "what are the fees"})
        assert status == 200 and len(body["replies"]) == 1

    assert settle(lambda: len(replicas.telegram.sent()), len(chats)) == len(chats)
    assert sorted(int(p["chat_id"]) for p in replicas.telegram.sent()) == chats, "one answer per chat, none twice"
    def discord_answers() -> int:
        return len([m for m in replicas.discord.sent(PUBLIC_CHANNEL) if "fee" in m["content"].lower()])

    assert settle(discord_answers, len(users)) == len(users)

    def x_answered() -> int:
        return len({p.get("in_reply_to_tweet_id") for p in replicas.x.posts()} & set(tweets))

    assert settle(x_answered, len(tweets)) == len(tweets)
    first_posts = Counter(p.get("in_reply_to_tweet_id") for p in replicas.x.posts() if p.get("in_reply_to_tweet_id")
                          in tweets)  # fmt: skip
    assert all(first_posts[t] == 1 for t in tweets), "each mention answered once, by one replica"


def test_hand_offs_on_both_replicas_are_claimed_once_and_answered_once(replicas):
    a, b = replicas.bots
    chats = list(range(9201, 9207))
    for n, chat in enumerate(chats):
        assert post_webhook((a, b)[n % 2], telegram_update(100 + n, chat, "I want to talk to a human")) == 200
    settle(lambda: len([p for p in replicas.telegram.sent() if int(p["chat_id"]) in chats]), len(chats))
    agents = [add_agent(SimpleNamespace(url=replicas.url), f"replica-agent-{n}", "en") for n in range(4)]
    claimed: list[tuple[str, dict]] = []
    lock = threading.Lock()

    def work(token: str, bot: BotProcess) -> None:
        while True:
            status, conv = call(bot, "POST", "/api/queue/claim", {"languages": ["en"]}, token=token)
            if status != 200:
                return
            with lock:
                claimed.append((token, conv))
            assert call(bot, "POST", f"/api/conversations/{conv['id']}/reply", {"text": f"agent for {conv['chat_id']}"},
                        token=token)[0] == 202  # fmt: skip

    workers = [threading.Thread(target=work, args=(token, (a, b)[n % 2])) for n, token in enumerate(agents)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    ids = [conv["id"] for _, conv in claimed if conv["platform"] == "telegram" and int(conv["chat_id"]) in chats]
    assert len(ids) == len(chats) == len(set(ids)), "every hand-off claimed, none twice"
    def agent_replies() -> list[dict]:
        return [p for p in replicas.telegram.sent() if p["text"].startswith("agent for ")]

    settle(lambda: len(agent_replies()), len(chats))
    assert sorted(p["text"] for p in agent_replies()) == sorted(f"agent for {chat}" for chat in chats)
