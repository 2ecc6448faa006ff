"""Hostile input: fuzzing the pipeline and the HTTP APIs with hypothesis (arbitrary Unicode,
control characters, 1 MB texts, malformed JSON), and the web chat's rate limits. Nothing may
crash, answer 5xx, or keep a secret unredacted."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest
import redis as redis_sync
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mnemonic import Mnemonic

from bot.domain.messages import Decision, InboundMessage
from bot.domain.pipeline import BadMessage
from bot.stores.conversations import conversation_id
from tests.conftest import ROOT, BotProcess
from tests.helpers import add_agent, call, say, session_of

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
SEED = Mnemonic("english").to_mnemonic(bytes(range(200, 216)))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=15,
)


def send(url: str, method: str = "POST", body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else {})
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


@FUZZ
@given(st.text(max_size=3000), st.sampled_from(["private", "group"]), st.booleans())
def test_the_pipeline_decides_or_refuses_anything_and_never_keeps_a_pasted_seed(pipeline, text, kind, with_seed):
    pasted = f"{text} {SEED} {text[:20]}" if with_seed else text
    message = InboundMessage("webchat", "fuzz", kind, "fuzz", pasted, addressed=True)
    try:
        decision = asyncio.run(pipeline.process(message))
    except BadMessage as refused:
        assert refused.code in ("empty", "too_long", "binary", "not_text")
        return
    assert isinstance(decision, Decision)
    if with_seed:
        assert " ".join(SEED.split()[3:6]) not in decision.redacted_text + decision.reply_text


def test_a_megabyte_of_text_is_refused_clearly(pipeline):
    with pytest.raises(BadMessage) as refused:
        asyncio.run(pipeline.process(InboundMessage("webchat", "big", "private", "big", "a" * 1_000_000)))
    assert refused.value.code == "too_long"


def test_the_web_chat_api_answers_any_body_without_a_server_error(bot):
    texts = st.dictionaries(st.just("text"), JSON, min_size=1)

    @FUZZ
    @given(st.one_of(JSON.map(lambda v: json.dumps(v).encode()), st.binary(max_size=300),
                     texts.map(lambda v: json.dumps(v).encode())))  # fmt: skip
    def any_body(body: bytes) -> None:
        session = session_of(bot, f"fuzz-session-{abs(hash(body)) % 1000:04d}")
        status, _ = send(f"{bot.url}/api/webchat/{session}/messages", body=body,
                         headers={"Content-Type": "application/json"})  # fmt: skip
        assert status in (200, 400, 413, 429)

    any_body()
    status, _ = send(f"{bot.url}/api/webchat/{session_of(bot, 'fuzz-session-big')}/messages",
                     body=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"})  # fmt: skip
    assert status == 413


def test_a_history_cursor_redis_could_not_have_given_is_a_400_not_an_outage(bot):
    """A cursor past Redis's largest id was refused by Redis, and that refusal answered as an
    outage (503, "try again"): the page would have asked again forever."""
    session = session_of(bot, "cursor-session")
    assert call(bot, "GET", f"/api/webchat/{session}/messages?after=0-0")[0] == 200
    last = 2**64 - 1
    for after in (f"{last + 1}-0", f"0-{last + 1}", f"{last}-{last}", "99999999999999999999-1"):
        status, body = call(bot, "GET", f"/api/webchat/{session}/messages?after={after}")
        assert (status, body.get("error")) == (400, "bad_cursor"), after
    status, body = call(bot, "GET", f"/api/webchat/{session}/messages?after={last}-{last - 1}")
    assert (status, body["messages"]) == (200, []), "the largest id but one is a cursor, with nothing after it"


def test_the_agent_api_answers_any_body_without_a_server_error(bot, redis_server):
    lead = add_agent(redis_server, "fuzz-lead", "en", role="lead")
    paths = ["/api/queue/claim", "/api/incidents", "/api/conversations/nope/reply",
             "/api/conversations/nope/transfer"]  # fmt: skip

    @FUZZ
    @given(st.sampled_from(paths), st.one_of(JSON.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)))
    def any_body(path: str, body: bytes) -> None:
        status, _ = send(bot.url + path, body=body, headers={"Authorization": f"Bearer {lead}"})
        assert status < 500

    any_body()


def send_raw(url: str, body: bytes, headers: dict | None = None) -> tuple[int, str, bytes]:
    """POST `body`: the status, the Content-Type and the body, whatever they are."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


# What Python's JSON parser cannot take: a nesting deeper than it recurses, and a number longer
# than int() converts (4,300 digits); both raised exceptions other than a JSON error.
UNPARSABLE = {"nested 30,000 deep": b"[" * 30_000, "nested 2,000 deep": b'{"text": ' + b"[" * 2_000,
              "a 5,000-digit number": b'{"text": "hi", "client_id": ' + b"7" * 5_000 + b"}"}  # fmt: skip


def test_json_the_parser_cannot_take_gets_a_json_400_on_every_api(bot, redis_server):
    lead = add_agent(redis_server, "nesting-lead", "en", role="lead")
    assert say(bot, "nesting-session-1", "hello")[0] == 200
    first = session_of(bot, "nesting-session-1")
    cid = conversation_id(f"webchat:{first}:{first}")
    other = session_of(bot, "nesting-session-2")
    endpoints = {
        "web chat message": (f"{bot.url}/api/webchat/{other}/messages", {}),
        "web chat press": (f"{bot.url}/api/webchat/{other}/press", {}),
        "agent reply": (f"{bot.url}/api/conversations/{cid}/reply", {"Authorization": f"Bearer {lead}"}),
        "agent claim": (f"{bot.url}/api/queue/claim", {"Authorization": f"Bearer {lead}"}),
    }
    for endpoint, (url, headers) in endpoints.items():
        for what, body in UNPARSABLE.items():
            if endpoint == "web chat press" and len(body) > 4096:
                if what.endswith("number"):
                    continue  # the press reads 4 KiB: too short for a number int() refuses
                body = body[:4096]
            status, content_type, raw = send_raw(url, body, {"Content-Type": "application/json", **headers})
            assert 400 <= status < 500, (endpoint, what, status, raw[:200])
            assert content_type.startswith("application/json"), (endpoint, what, content_type)
            assert json.loads(raw)["error"] in ("bad_json", "bad_action"), (endpoint, what)
    assert "RecursionError" not in bot.logs() and "integer string conversion" not in bot.logs()


@pytest.fixture(scope="module")
def limited(tmp_path_factory, redis_server, model_path):
    """A bot behind a proxy that allows 3 messages a minute per session and 5 per address."""
    workdir = tmp_path_factory.mktemp("limited")
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["web"].update(rate_per_session_minute=3, rate_per_ip_minute=5, trust_forwarded_for=True)
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    url = redis_server.url.rsplit("/", 1)[0] + "/11"
    redis_sync.Redis.from_url(url).flushdb()
    bot = BotProcess(url, workdir / "bot.log", workdir / "config.yml").start()
    yield bot
    bot.stop()


def test_the_web_chat_limits_each_session_and_each_address(limited):
    if time.time() % 60 > 50:  # the limits count per minute: start the count in a fresh one
        time.sleep(61 - time.time() % 60)

    def say(session: str, address: str) -> tuple[int, dict]:
        return send(f"{limited.url}/api/webchat/{session_of(limited, session)}/messages",
                    body=json.dumps({"text": "fees?"}).encode(),
                    headers={"Content-Type": "application/json", "X-Forwarded-For": f"10.9.9.9, {address}",
                             "Accept-Language": "es"})  # fmt: skip

    assert [say("limit-session-a", "203.0.113.7")[0] for _ in range(3)] == [200, 200, 200]
    status, headers = say("limit-session-a", "203.0.113.7")
    assert status == 429 and 0 < int(headers["Retry-After"]) <= 60
    assert say("limit-session-b", "203.0.113.7")[0] == 200, "another session, same address: 5th of 5"
    assert say("limit-session-c", "203.0.113.7")[0] == 429, "the address is over its limit"
    assert say("limit-session-d", "198.51.100.4")[0] == 200, "another address is not affected"
    request = urllib.request.Request(f"{limited.url}/api/webchat/{session_of(limited, 'limit-session-c')}/messages",
                                     method="POST", data=b'{"text": "hola"}',
                                     headers={"X-Forwarded-For": "203.0.113.7", "Accept-Language": "es",
                                              "Content-Type": "application/json"})  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert "rápido" in json.loads(refused.value.read())["reply"], "told in the user's language"
