"""The agent API and the server under an operator's eye (issue 16): refused tokens throttled
per address on every replica and logged without the token, tokens revoked, rotated and
expiring, hidden characters refused, the leads' events kept from agents, a Redis refusal
answered as a bug (500) rather than an outage (503), the headers of every response, and
readiness that tells a stopped Redis from a live process.

The in-process tests build the API's middleware on the test Redis; the others run a bot of
their own against a Redis of their own, which the last test stops and pauses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis as redis_sync
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.stores import keys
from bot.stores.agents import AgentStore
from bot.stores.conversations import ConversationStore, conversation_id
from bot.stores.handoff_queue import HandoffQueue
from bot.web.api_requests import AGENT, api_middleware
from bot.web.event_stream import EventStream
from bot.web.signin_log import SignInLog
from tests.conftest import ROOT, BotProcess, RedisServer
from tests.helpers import LANGUAGES, add_agent, say, session_of

# -- in-process: the middleware on the test Redis --------------------------------------------


async def _whoami(request: web.Request) -> web.Response:
    return web.json_response({"name": request[AGENT].name})


def _replica(agents: AgentStore) -> TestClient:
    """One replica of the API (what it serves behind the token check is beside the point)."""
    app = web.Application(middlewares=[api_middleware(agents, trust_forwarded_for=True)])
    app.add_routes([web.get("/api/me", _whoami)])
    return TestClient(TestServer(app))


async def _me(client: TestClient, token: str, address: str) -> tuple[int, dict, dict]:
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": address})
    return response.status, dict(response.headers), await response.json()


async def test_refused_tokens_are_throttled_per_address_on_every_replica(redis):
    agents = AgentStore(redis)
    token = await agents.add("ana", ["en"])
    async with _replica(AgentStore(redis)) as first, _replica(AgentStore(redis)) as second:
        refused = [(await _me(first, f"sbt_guess{n}", "203.0.113.7"))[0] for n in range(10)]
        assert refused == [401] * 10
        status, headers, body = await _me(second, "sbt_guess-on-the-other-replica", "203.0.113.7")
        assert (status, body["error"]) == (429, "too_many_failures"), "the other replica counts the same"
        assert 0 < int(headers["Retry-After"]) <= 60
        assert (await _me(second, token, "203.0.113.7"))[0] == 429, "a throttled address is not even looked up"
        assert (await _me(first, token, "198.51.100.4"))[:3:2] == (200, {"name": "ana"}), "other addresses work"
        assert (await _me(first, "sbt_wrong", "198.51.100.4"))[0] == 401
    assert await redis.ttl(keys.signin_failures("203.0.113.7")) > 0, "the count ends with its window"


async def test_refused_tokens_are_logged_by_address_and_route_never_the_token(redis, caplog):
    caplog.set_level(logging.WARNING, logger="bot.web.signin")
    async with _replica(AgentStore(redis)) as replica:
        for n in range(200):  # one guess each from 200 addresses: none throttled, every one logged?
            assert (await _me(replica, f"sbt_SECRETGUESS{n:03d}xyz", f"198.18.0.{n}"))[0] == 401
    lines = [record.getMessage() for record in caplog.records if record.name == "bot.web.signin"]
    assert lines and "198.18.0.0" in lines[0] and "GET /api/me" in lines[0]
    assert all(record.levelno == logging.WARNING for record in caplog.records if record.name == "bot.web.signin")
    assert len(lines) <= 10, f"{len(lines)} lines for 200 refusals in a minute"
    assert not any("SECRETGUESS" in line or "sbt_" in line for line in lines)


def test_the_log_of_refused_tokens_says_how_many_lines_it_left_out():
    now = [0.0]
    signin_log = SignInLog(lines=10, window_seconds=60, clock=lambda: now[0])
    with _captured("bot.web.signin") as lines:
        for n in range(25):
            signin_log.refused(f"192.0.2.{n}", "GET /api/me", 1)
        now[0] = 61.0
        signin_log.refused("192.0.2.99", "GET /api/queue", 1)
    assert len(lines) == 12
    assert "15 more" in lines[10] and "192.0.2.99" in lines[11]


class _captured:
    """The messages a logger writes inside the `with`."""

    def __init__(self, name: str) -> None:
        self.logger, self.lines = logging.getLogger(name), []
        self.handler = logging.Handler()
        self.handler.emit = lambda record: self.lines.append(record.getMessage())

    def __enter__(self) -> list[str]:
        self.logger.addHandler(self.handler)
        return self.lines

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self.handler)


async def _events_seen(client: TestClient, token: str, publish, until: str) -> list[str]:
    """The event types a console with `token` receives until an `until` event."""
    response = await client.get("/api/events", headers={"Authorization": f"Bearer {token}"})
    assert (await response.content.readline()).startswith(b": connected")
    await publish()
    seen = []
    while until not in seen:
        line = (await asyncio.wait_for(response.content.readline(), 5)).decode()
        if line.startswith("event: "):
            seen.append(line[7:].strip())
    response.close()
    return seen


async def test_agents_do_not_receive_the_events_meant_for_leads(redis, config):
    agents, conversations = AgentStore(redis), ConversationStore(redis)
    queue = HandoffQueue(redis, conversations, LANGUAGES)
    agent, lead = await agents.add("ana", ["en"]), await agents.add("lea", ["en"], "lead")
    routes = EventStream(redis)
    app = web.Application(middlewares=[api_middleware(agents)])
    app.add_routes(routes.routes())

    async def publish() -> None:  # what the SLA sweep, the inbox and the community service publish
        await queue.publish("sla_breached", conversation="c000000000001", ticket="T-1", lane="normal",
                            language="en", waited_seconds=700)  # fmt: skip
        await queue.publish("incident_suggested", intent="withdrawal_pending", count=40, minutes=5, usual=1.0)
        await queue.publish("impostor_joined", platform="telegram", user_name="Support Admin")
        await queue.publish("queued", conversation="c000000000002", ticket="T-2", lane="normal", language="en")

    async with TestClient(TestServer(app)) as client:
        assert await _events_seen(client, agent, publish, "queued") == ["queued"]
        assert await _events_seen(client, lead, publish, "queued") == [
            "sla_breached", "incident_suggested", "impostor_joined", "queued"]


# -- a bot of its own, against a Redis of its own ---------------------------------------------


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("own-redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def own_bot(own_redis, model_path, tmp_path_factory):
    """A bot behind a (pretend) proxy: each test says which address it calls from."""
    workdir = tmp_path_factory.mktemp("hardened")
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["web"].update(rate_per_ip_minute=1_000_000, trust_forwarded_for=True)
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    bot = BotProcess(own_redis.url, workdir / "bot.log", workdir / "config.yml").start()
    yield bot
    bot.stop()


def api(bot, method: str, path: str, body: object = None, token: str | None = None,
        address: str = "192.0.2.10") -> tuple[int, dict, dict]:  # fmt: skip
    """(status, headers, JSON body) of one call from `address`."""
    headers = {"Content-Type": "application/json", "X-Forwarded-For": address}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(bot.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), _json(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), _json(error.read())


def _json(raw: bytes) -> dict:
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {"not_json": raw.decode(errors="replace")}


def agents_cli(redis_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "agents", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "REDIS_URL": redis_url}, timeout=60)  # fmt: skip


def test_five_thousand_wrong_tokens_meet_429_after_ten(own_bot):
    def guess(n: int) -> tuple[int, str]:
        status, headers, _ = api(own_bot, "GET", "/api/queue", token=f"sbt_guess-{n:05d}", address="203.0.113.99")
        return status, headers.get("Retry-After", "")

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(guess, range(5000)))
    elapsed = time.monotonic() - started
    statuses = [status for status, _ in answers]
    print(f"5,000 wrong tokens in {elapsed:.1f} s: {statuses.count(401)} x 401, {statuses.count(429)} x 429")
    assert set(statuses) == {401, 429}
    assert 10 <= statuses.count(401) <= 10 + 8, "10 refusals, and at most the guesses already in flight"
    assert all(0 < int(wait) <= 60 for status, wait in answers if status == 429)
    logged = [line for line in own_bot.logs().splitlines() if "bot.web.signin" in line]
    assert 1 <= len(logged) <= 11 and all("203.0.113.99" in line and "WARNING" in line for line in logged)
    assert "sbt_guess" not in own_bot.logs()


def test_a_lead_rotates_and_revokes_tokens_by_api_and_command_line(own_bot, own_redis):
    ana, lead = add_agent(own_redis, "rot-ana", "en"), add_agent(own_redis, "rot-lead", "en", role="lead")
    assert api(own_bot, "GET", "/api/me", token=ana)[0] == 200
    assert api(own_bot, "POST", "/api/agents/rot-lead/rotate", token=ana)[0] == 403, "an agent rotates nothing"

    status, headers, rotated = api(own_bot, "POST", "/api/agents/rot-ana/rotate", {"expires_in_days": 7}, token=lead)
    assert status == 200 and rotated["token"].startswith("sbt_") and headers["Cache-Control"] == "no-store"
    assert 6.9 * 86400 < rotated["token_expires_at"] - time.time() <= 7 * 86400
    assert api(own_bot, "GET", "/api/me", token=ana)[0] == 401, "the old token stopped working"
    assert api(own_bot, "GET", "/api/me", token=rotated["token"])[0] == 200
    assert api(own_bot, "POST", "/api/agents/rot-ana/revoke", token=lead)[:3:2] == (200, {"revoked": "rot-ana"})
    assert api(own_bot, "GET", "/api/me", token=rotated["token"])[0] == 401
    assert api(own_bot, "POST", "/api/agents/nobody/revoke", token=lead)[0] == 404

    done = agents_cli(own_redis.url, "rotate", "rot-ana")
    assert done.returncode == 0 and "expires in 90 days" in done.stdout, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    assert api(own_bot, "GET", "/api/me", token=token)[0] == 200
    assert agents_cli(own_redis.url, "revoke", "rot-ana").returncode == 0
    assert api(own_bot, "GET", "/api/me", token=token)[0] == 401
    assert agents_cli(own_redis.url, "revoke", "nobody").returncode == 2
    assert agents_cli(own_redis.url, "rotate", "nobody").returncode == 2
    assert token not in own_bot.logs() and rotated["token"] not in own_bot.logs()


def test_tokens_expire(own_bot, own_redis):
    done = agents_cli(own_redis.url, "add", "brief-bea", "--languages", "en", "--expires-in-days", "0.0001")
    issued = time.monotonic()  # (just after) the token was issued, for 8.6 s
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    assert api(own_bot, "GET", "/api/me", token=token, address="192.0.2.20")[0] == 200
    listed = agents_cli(own_redis.url, "list").stdout
    assert "brief-bea\tagent\ten\t" in listed and " UTC" in listed.split("brief-bea", 1)[1].splitlines()[0]
    time.sleep(max(0.0, issued + 9 - time.monotonic()))
    assert api(own_bot, "GET", "/api/me", token=token, address="192.0.2.20")[0] == 401
    # The default of the configuration (handoff.agent_token_days: 90); 0 for no end.
    assert "expires in 90 days" in agents_cli(own_redis.url, "add", "usual-ulf", "--languages", "en").stdout
    assert "does not expire" in agents_cli(own_redis.url, "add", "ever-eva", "--languages", "en",
                                           "--expires-in-days", "0").stdout  # fmt: skip


def test_hidden_characters_in_languages_and_incident_texts_are_refused(own_bot, own_redis):
    for languages in ("en,e\u202en", "en\x1b[31m", "en,\u2066zh"):
        done = agents_cli(own_redis.url, "add", "hidden-hal", "--languages", languages)
        assert done.returncode == 2 and "invisible control characters (U+" in done.stderr, (languages, done.stderr)
    assert "hidden-hal" not in agents_cli(own_redis.url, "list").stdout
    assert agents_cli(own_redis.url, "add", "hidden-hal", "--languages", "en;DROP").returncode == 2

    lead = add_agent(own_redis, "hidden-lead", "en", role="lead")
    for text in ("Withdrawals on \u202eCRT\u202c are delayed", "Delayed\x07\x1b[2J", "Delayed\u200f"):
        status, _, body = api(own_bot, "POST", "/api/incidents", {"intents": ["withdrawal_pending"],
                              "status": {"en": text}}, token=lead)  # fmt: skip
        assert (status, body["error"]) == (400, "bad_request") and "U+" in body["message"], (text, body)
    status, _, incident = api(own_bot, "POST", "/api/incidents", {"intents": ["withdrawal_pending"],
                              "status": {"en": "Withdrawals are delayed.\nWe are on it."}}, token=lead)  # fmt: skip
    assert status == 201, incident
    status, _, body = api(own_bot, "DELETE", f"/api/incidents/{incident['id']}", {"final": {"en": "Fixed\u202e"}},
                          token=lead)  # fmt: skip
    assert status == 400 and "U+202E" in body["message"]
    assert api(own_bot, "DELETE", f"/api/incidents/{incident['id']}", {"final": {"en": "Fixed."}}, token=lead)[0] == 200


def test_a_redis_refusal_is_a_bug_answered_500_not_an_outage(own_bot, own_redis):
    lead = add_agent(own_redis, "wrongtype-lead", "en", role="lead")
    assert say(own_bot, "wrongtype-session", "hello")[0] == 200
    cid = conversation_id("webchat:wrongtype-session:wrongtype-session")
    status, _, body = api(own_bot, "GET", f"/api/conversations/{cid}:log", token=lead)
    assert (status, body["error"]) == (404, "not_found"), "a transcript's key names no conversation"
    status, _, body = api(own_bot, "POST", "/api/queue/claim", {"conversation": f"{cid}:log"}, token=lead)
    assert (status, body["error"]) == (404, "not_found")

    client = redis_sync.Redis.from_url(own_redis.url)
    client.set(keys.AGENTS_SEEN, "not a sorted set")  # bad data: every signed-in call writes there
    try:
        status, _, body = api(own_bot, "GET", "/api/me", token=lead)
    finally:
        client.delete(keys.AGENTS_SEEN)
    assert (status, body["error"]) == (500, "internal")
    assert "ERROR bot.web.api_requests: Redis refused a command on GET /api/me: WRONGTYPE" in own_bot.logs()
    assert api(own_bot, "GET", "/api/me", token=lead)[0] == 200


def _raw_response_headers(bot, request: bytes) -> str:
    """The status line and headers the bot answers a raw HTTP request with."""
    with socket.create_connection(("127.0.0.1", bot.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def test_every_response_is_served_by_supportbot_and_api_answers_are_neither_cached_nor_sniffed(own_bot, own_redis):
    lead = add_agent(own_redis, "headers-lead", "en", role="lead")
    api_calls = [("GET", "/api/me", None, lead), ("GET", "/api/me", None, None),
                 ("GET", "/api/openapi.json", None, None), ("POST", "/api/incidents", {"intents": []}, lead),
                 ("GET", "/api/nothing-here", None, lead),
                 ("POST", f"/api/webchat/{session_of(own_bot, 'headers')}/messages", {"text": "hi"}, None)]  # fmt: skip
    for method, path, body, token in api_calls:
        status, headers, _ = api(own_bot, method, path, body, token)
        assert headers["Server"] == "supportbot", (path, status, headers["Server"])
        assert (headers["X-Content-Type-Options"], headers["Cache-Control"]) == ("nosniff", "no-store"), (path, status)
    for path in ("/", "/console", "/livez", "/metrics", "/no-such-page"):
        try:
            with urllib.request.urlopen(own_bot.url + path, timeout=10) as response:
                server = response.headers["Server"]
        except urllib.error.HTTPError as error:
            server = error.headers["Server"]
        assert server == "supportbot", path
    stream = _raw_response_headers(own_bot, f"GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {lead}"
                                            "\r\n\r\n".encode())  # fmt: skip
    assert "Server: supportbot" in stream and "Cache-Control: no-store" in stream and "nosniff" in stream
    for garbage in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"):
        answer = _raw_response_headers(own_bot, garbage)
        assert " 400 " in answer.splitlines()[0] and "Server: supportbot" in answer and "aiohttp" not in answer


def _health(bot, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(bot.url + path, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _until_ready(bot, seconds: float = 15) -> tuple[int, dict]:
    deadline = time.monotonic() + seconds
    while (answer := _health(bot, "/readyz"))[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    return answer


def test_readiness_follows_redis_and_liveness_the_process(own_bot, own_redis):
    """Last in this module: it stops this module's Redis (and starts it again, empty)."""
    assert _health(own_bot, "/readyz") == (200, {"ready": True, "checks": {"redis": "ok", "nlu": "ok"}})
    assert _health(own_bot, "/healthz")[0] == 200 and _health(own_bot, "/livez") == (200, {"live": True, "worker": 0})
    own_redis.stop()
    try:
        status, body = _health(own_bot, "/readyz")
        assert (status, body["ready"], body["checks"]["nlu"]) == (503, False, "ok")
        assert body["checks"]["redis"].startswith("unreachable"), body
        assert _health(own_bot, "/healthz")[0] == 503, "/healthz is readiness: it no longer says ok during an outage"
        assert _health(own_bot, "/livez")[0] == 200, "the process is alive: no reason to restart it"
        assert api(own_bot, "GET", "/api/me", token="sbt_x")[0] == 503
    finally:
        own_redis.start()
    assert _until_ready(own_bot)[0] == 200, "ready again once Redis is back"

    os.kill(own_redis.process.pid, signal.SIGSTOP)  # a Redis that accepts connections and answers nothing
    try:
        started = time.monotonic()
        status, body = _health(own_bot, "/readyz")
        waited = time.monotonic() - started
        assert status == 503 and body["checks"]["redis"].startswith("no answer"), body
        assert waited < 3, f"readiness took {waited:.1f} s to answer"
        assert _health(own_bot, "/livez")[0] == 200
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    assert _until_ready(own_bot)[0] == 200
