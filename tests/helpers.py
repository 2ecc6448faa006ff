"""Helpers the test modules share: calling the bot's HTTP APIs, adding agents, writing in the
web chat, filling the queue, watching a browser page. Fixtures live in `conftest.py`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from redis.asyncio import Redis

from bot.domain.messages import InboundMessage
from bot.stores.conversations import ConversationStore
from bot.stores.handoff_queue import HandoffQueue
from tests.conftest import ROOT

LANGUAGES = ("en", "zh", "es", "fr", "ru", "ja", "ko", "vi")
X_CREDENTIALS = {
    "X_BEARER_TOKEN": "AAAA-TEST-bearer-token-for-the-stand-in", "X_API_KEY": "TEST-api-key-0001",
    "X_API_SECRET": "TEST-api-secret-0001", "X_ACCESS_TOKEN": "1500-TEST-access-token",
    "X_ACCESS_SECRET": "TEST-access-secret-0001",
}  # fmt: skip


def wait_for(predicate, timeout: float = 30, every: float = 0.3):
    """`predicate()` once it is truthy, polled every `every` seconds for up to `timeout`; its
    last value otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return predicate()


def request(bot, method: str, path: str, data: bytes | None = None, headers: dict | None = None,
            timeout: float = 40) -> tuple[int, dict, bytes]:  # fmt: skip
    """One HTTP request to the bot as a client sends it: status, headers and body, errors included."""
    sent = urllib.request.Request(bot.url + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(sent, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def call(bot, method: str, path: str, body: object = None, token: str | None = None) -> tuple[int, dict]:
    """A JSON call to the bot's API: status and the decoded answer ({} when it is empty)."""
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    status, _, raw = request(bot, method, path, data, headers)
    return status, json.loads(raw) if raw else {}


def add_agent(redis_server, name: str, languages: str, role: str = "agent", teams: str = "",
              max_open: int | None = None) -> str:  # fmt: skip
    """`python -m bot agents add` as an operator runs it; the token it prints."""
    routing = [*(["--teams", teams] if teams else []), *(["--max-open", str(max_open)] if max_open else [])]
    done = subprocess.run(
        [sys.executable, "-m", "bot", "agents", "add", name, "--languages", languages, "--role", role, *routing],
        cwd=ROOT, env={**os.environ, "REDIS_URL": redis_server.url}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    assert token.startswith("sbt_")
    return token


def new_session(bot) -> str:
    """A web chat session id the bot issues (the server picks them, never the client)."""
    status, body = call(bot, "POST", "/api/webchat/sessions", {})
    assert status == 201, body
    return body["session"]


_SESSIONS: dict[tuple[str, str], str] = {}


def session_of(bot, name: str) -> str:
    """The issued web chat session a test calls `name`: the same one each time for one bot
    (and its replicas, which share its Redis)."""
    if (bot.url, name) not in _SESSIONS:
        _SESSIONS[bot.url, name] = new_session(bot)
    return _SESSIONS[bot.url, name]


def post(bot, session: str, body: bytes, headers: dict | None = None) -> tuple[int, dict]:
    """POSTs `body` to the web chat session the test calls `session` (see `session_of`)."""
    path = f"/api/webchat/{session_of(bot, session)}/messages"
    status, _, raw = request(bot, "POST", path, body, {"Content-Type": "application/json", **(headers or {})}, 30)
    return status, json.loads(raw)


def say(bot, session: str, text: str, **headers: str) -> tuple[int, dict]:
    return post(bot, session, json.dumps({"text": text}).encode(), headers)


async def open_conversations(redis: Redis, count: int, language: str = "en", lane: str = "normal",
                             prefix: str = "u") -> list[str]:  # fmt: skip
    store = ConversationStore(redis)
    queue = HandoffQueue(redis, store, LANGUAGES)
    await queue.setup()
    ids = []
    for i in range(count):
        conv = await store.for_message(InboundMessage("webchat", f"{prefix}{i}", "private", f"{prefix}{i}", "help"))
        await queue.enqueue(conv.id, lane, language, "human_agent")
        ids.append(conv.id)
    return ids


class Watched:
    """A page whose dialogs (an injected alert would open one) and CSP violations are recorded."""

    def __init__(self, browser, viewport: dict | None = None) -> None:
        self.context = browser.new_context(viewport=viewport or {"width": 1366, "height": 800})
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.csp: list[str] = []
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.page.on("console", lambda m: "Content Security Policy" in m.text and self.csp.append(m.text))

    def close(self) -> None:
        self.context.close()
