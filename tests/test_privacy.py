"""A data request about one platform user: the export has everything kept about them, the
erasure leaves nothing of theirs in any Redis key (names and values of every type), the
reports count what they did anonymously, and leads alone may ask, each request in the audit
trail. The real bot process and a Redis of this module's own; one test drives the stores
directly for what the web chat cannot produce (other platforms' state, pending entries)."""

from __future__ import annotations

import ast
import getpass
import json
import os
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
import redis as redis_sync

from bot.domain.messages import InboundMessage, OutboundReply
from bot.services import privacy
from bot.services.privacy import DataRequests
from bot.stores import keys
from bot.stores.audit import user_ref
from bot.stores.channel_state import ChannelState
from bot.stores.holder import Stores
from bot.stores.personal_data import PersonalData
from tests.conftest import ROOT, BotProcess, RedisServer
from tests.helpers import LANGUAGES, add_agent, call, new_session

USER = OTHER = ""  # web chat sessions, issued when the bot starts (`site`)
SAID = ("I have a suggestion: please add a dark mode to the app", "I want to talk to a human",
        "my withdrawal to wallet zz-private-wallet-77 is late")  # fmt: skip
AGENT_SAID = "Hello, Ana here, checking wallet zz-private-wallet-77 for you"
OTHER_SAID = "how do I reset my password please"


def _values(client: redis_sync.Redis, key: bytes) -> list[bytes]:
    """Every value under `key`, whatever its type (hash fields with their names)."""
    kind = client.type(key).decode()
    if kind == "string":
        return [client.get(key) or b""]
    if kind == "hash":
        return [part for item in client.hgetall(key).items() for part in item]
    if kind == "list":
        return client.lrange(key, 0, -1)
    if kind in ("set", "zset"):
        return list(client.smembers(key) if kind == "set" else client.zrange(key, 0, -1))
    if kind == "stream":
        return [part for _, fields in client.xrange(key) for item in fields.items() for part in item]
    return []


def everything_stored(url: str, skip: tuple[str, ...] = ()) -> str:
    """Every key name and every value of every type in the database (but the keys `skip`),
    as one text."""
    client = redis_sync.Redis.from_url(url)
    return "\n".join(key.decode() + "\n" + b"\n".join(_values(client, key)).decode(errors="replace")
                     for key in client.scan_iter("*") if key.decode() not in skip)  # fmt: skip


def web(bot, session: str, path: str, body: dict) -> tuple[int, dict]:
    return call(bot, "POST", f"/api/webchat/{session}/{path}", body)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A user who filed a suggestion, asked for a person, was answered by an agent, rated the
    ticket 5 and found an answer helpful; and another user, who must keep their data."""
    folder = tmp_path_factory.mktemp("privacy")
    server = RedisServer(folder).start()
    bot = BotProcess(server.url, folder / "bot.log").start()
    global USER, OTHER  # a web chat user's id is their session's, which the bot issues
    USER, OTHER = new_session(bot), new_session(bot)
    agent, lead = add_agent(server, "ana", "en"), add_agent(server, "lea", "en", role="lead")
    for text in SAID[:2]:
        assert web(bot, USER, "messages", {"text": text})[0] == 200
    status, conv = call(bot, "POST", "/api/queue/claim", {}, token=agent)
    assert status == 200 and conv["user_id"] == USER
    assert web(bot, USER, "messages", {"text": SAID[2]})[0] == 200
    assert call(bot, "POST", f"/api/conversations/{conv['id']}/reply", {"text": AGENT_SAID}, token=agent)[0] == 202
    assert call(bot, "POST", f"/api/conversations/{conv['id']}/resolve", token=agent)[0] == 200
    assert web(bot, USER, "press", {"action": f"rate:5:{conv['ticket']}"})[0] == 202
    assert web(bot, USER, "press", {"action": "helpful:yes"})[0] == 202
    assert web(bot, OTHER, "messages", {"text": OTHER_SAID})[0] == 200
    deadline = time.monotonic() + 10  # the presses are handled after their 202
    while time.monotonic() < deadline and len(redis_sync.Redis.from_url(server.url).lrange(keys.FEEDBACK, 0, -1)) < 2:
        time.sleep(0.1)
    yield SimpleNamespace(bot=bot, url=server.url, agent=agent, lead=lead, conv=conv)
    bot.stop()
    server.stop()


def test_the_export_holds_the_conversation_ticket_rating_feedback_and_filed_items(site):
    status, document = call(site.bot, "GET", f"/api/users/webchat/{USER}/export", token=site.lead)
    assert status == 200 and document["user_id"] == USER
    said = [line["text"] for c in document["conversations"] for line in c["transcript"] if line["from"] == "user"]
    assert all(text in said for text in SAID)
    assert any(line["text"] == AGENT_SAID for c in document["conversations"] for line in c["transcript"])
    assert [t["rating"] for t in document["tickets"]] == ["5"] and document["tickets"][0]["id"] == site.conv["ticket"]
    assert sorted(str(f.get("rating") or f.get("value")) for f in document["feedback"]) == ["5", "yes"]
    assert [item["text"] for item in document["filed"][keys.FEEDBACK_ITEMS]] == [SAID[0]]
    assert SAID[0] in [line["text"] for line in document["webchat_lines"][USER]]
    assert OTHER_SAID not in json.dumps(document), "another user's data is not in the export"


def test_only_leads_ask_and_an_erasure_must_name_the_user_again(site):
    path = f"/api/users/webchat/{USER}"
    assert call(site.bot, "GET", f"{path}/export", token=site.agent)[0] == 403
    assert call(site.bot, "POST", f"{path}/erase", {"confirm": f"webchat:{USER}"}, token=site.agent)[0] == 403
    status, body = call(site.bot, "POST", f"{path}/erase", {"confirm": "webchat:someone-else"}, token=site.lead)
    assert (status, body["error"]) == (400, "not_confirmed")
    assert USER in everything_stored(site.url), "nothing was erased"


def test_an_erasure_leaves_nothing_of_the_user_and_the_reports_count_the_same(site):
    before = call(site.bot, "GET", "/api/reports?since=1d", token=site.lead)[1]
    status, body = call(site.bot, "POST", f"/api/users/webchat/{USER}/erase", {"confirm": f"webchat:{USER}"},
                        token=site.lead)  # fmt: skip
    assert status == 200 and body["erased"]["conversations"] == 1 and body["erased"]["filed"] == 1

    stored = everything_stored(site.url)
    assert USER not in stored
    # The trail names the conversation by its old id (what was done on it), and nothing else does.
    assert site.conv["id"] not in everything_stored(site.url, skip=(keys.AUDIT,))
    for text in (*SAID, AGENT_SAID, "zz-private-wallet-77"):
        assert text not in stored, f"{text!r} is still stored"
    assert OTHER in stored and OTHER_SAID in stored, "another user's data stays"

    after = call(site.bot, "GET", "/api/reports?since=1d", token=site.lead)[1]
    for figure in ("overall", "by_language", "by_platform", "ratings", "messages_per_day"):
        assert after[figure] == before[figure], figure
    for ranking in ("top_intents", "top_answers"):  # ties come in the order conversations are read
        assert sorted(after[ranking]) == sorted(before[ranking]), ranking
    assert before["overall"]["conversations"] == 2 and before["overall"]["ratings"] == 1

    status, document = call(site.bot, "GET", f"/api/users/webchat/{USER}/export", token=site.lead)
    assert status == 200 and document["conversations"] == [] and document["tickets"] == []


def test_data_requests_are_in_the_audit_under_a_pseudonym(site):
    status, page = call(site.bot, "GET", f"/api/audit?user=webchat:{USER}", token=site.lead)
    done = [(e["actor"], e["action"], e["outcome"]) for e in page["entries"]][::-1]
    assert status == 200 and {e["object"] for e in page["entries"]} == {user_ref("webchat", USER)}
    assert done == [("lea", "user_export", "ok"), ("ana", "user_export", "forbidden"),
                    ("ana", "user_erase", "forbidden"), ("lea", "user_erase", "not_confirmed"),
                    ("lea", "user_erase", "ok"), ("lea", "user_export", "ok")]  # fmt: skip


def test_the_command_line_exports_and_erases_and_is_audited(site):
    said = {"text": "cli user here: how do I verify my identity"}
    cli_user = new_session(site.bot)
    assert web(site.bot, cli_user, "messages", said)[0] == 200
    env = {**os.environ, "REDIS_URL": site.url}

    def users(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", "users", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)  # fmt: skip

    exported = users("export", "webchat", cli_user)
    assert exported.returncode == 0 and "cli user here" in exported.stdout
    assert users("erase", "webchat", cli_user).returncode == 2, "refused without --confirm"
    erased = users("erase", "webchat", cli_user, "--confirm", f"webchat:{cli_user}")
    assert erased.returncode == 0 and json.loads(erased.stdout)["erased"]["conversations"] == 1
    assert cli_user not in everything_stored(site.url)
    status, page = call(site.bot, "GET", f"/api/audit?user=webchat:{cli_user}", token=site.lead)
    assert [(e["actor"], e["action"], e["outcome"]) for e in page["entries"]][::-1] == [
        (f"cli:{getpass.getuser()}", "user_export", "ok"), (f"cli:{getpass.getuser()}", "user_erase", "not_confirmed"),
        (f"cli:{getpass.getuser()}", "user_erase", "ok")]  # fmt: skip


async def test_other_platforms_pending_entries_and_lead_lists_are_found_and_erased(redis):
    """A Telegram user in a group and in private, queued, with a pending message and reply, a
    private-move link, a filed phishing report and an impostor report; an X user's parked DM
    and counters; a Discord user's private thread."""
    stores = await Stores.open(redis, LANGUAGES)
    channel_state = ChannelState.on(redis)
    requests = DataRequests(PersonalData(redis, LANGUAGES), stores.files)
    secret_text = "tg-user-text zz-group-words"
    group = InboundMessage("telegram", "-100500", "group", "424242", secret_text, user_name="Tg Person")
    private = InboundMessage("telegram", "424242", "private", "424242", "private words zz-77")
    conv = await stores.conversations.for_message(group)
    await stores.conversations.append(conv.id, "user", secret_text, intent="phishing_report", action="answer",
                                      entities={"coin": ["BTC"], "txid": ["ab" * 32]})  # fmt: skip
    mine = await stores.conversations.for_message(private)
    await stores.queue.enqueue(mine.id, "high", "en", "human_agent")
    await stores.intake.accept(private)
    await stores.outbox.put(OutboundReply("telegram", "424242", "a reply zz-pending"), mine.id)
    await stores.moves.issue("telegram", "424242", {"from": conv.id})
    await stores.lead_lists.file(keys.PHISHING_REPORTS, {"conversation": conv.id, "text": secret_text})
    await stores.lead_lists.file(keys.IMPOSTORS, {"platform": "telegram", "user_id": "424242", "name": "Tg Person"})
    await stores.lead_lists.file(keys.IMPOSTORS, {"platform": "telegram", "user_id": "777", "name": "Someone Else"})
    await channel_state.x.park("55501", "parked dm zz-x", "cx", "agent")
    await channel_state.x.count_mention("55501", 1)
    x_conv = await stores.conversations.for_message(InboundMessage("x", "public:55501", "group", "55501", "x words"))

    document = await requests.export("telegram", "424242")
    assert {c["id"] for c in document["conversations"]} == {conv.id, mine.id}
    assert len(document["pending_messages"]) == len(document["pending_replies"]) == len(document["private_moves"]) == 1
    assert [i["name"] for i in document["filed"][keys.IMPOSTORS]] == ["Tg Person"]
    assert (await requests.export("x", "55501"))["x_parked_replies"] == [["parked dm zz-x", "cx", "agent"]]

    await requests.erase("telegram", "424242")
    await requests.erase("x", "55501")
    stored = everything_stored(_url(redis))
    for gone in ("424242", secret_text, "Tg Person", "zz-77", "zz-pending", "55501", "zz-x", "ab" * 32,
                 conv.id, mine.id, x_conv.id):  # fmt: skip
        assert gone not in stored, gone
    assert "Someone Else" in stored and await stores.queue.waiting() == []
    stub = [line for key in await redis.keys(f"{keys.CONVERSATION_PREFIX}*:log") for line in
            [json.loads(raw) for raw in await redis.lrange(key, 0, -1)] if line.get("intent") == "phishing_report"]
    assert stub and stub[0]["entities"] == {"coin": ["BTC"], "txid": ["(erased)"]} and "text" not in stub[0]


def _url(redis) -> str:
    kwargs = redis.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs['db']}"


def test_every_key_of_keys_py_is_listed_in_the_privacy_service():
    """A new key is checked for users' data: the service's docstring says what becomes of it."""
    tree = ast.parse((ROOT / "bot/stores/keys.py").read_text(encoding="utf-8"))
    names = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    names += [target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets
              if isinstance(target, ast.Name) and not target.id.endswith("_PREFIX") and target.id != "ANY"]  # fmt: skip
    missing = [name for name in names if f"`keys.{name}`" not in privacy.__doc__]
    assert names and missing == []
