"""Internal notes, @mentions and private canned answers (issue 19) end to end: one bot process
with the web chat, Telegram (on the Bot API stand-in), Discord (on the gateway stand-in) and X
(on its API stand-in), a Redis database of its own, the agent API over HTTP; the console in
Chromium last.

A note is for agents only: whatever each platform's stand-in received, and whatever the web
chat lets its user read, never holds a note's text."""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.parse
import urllib.request
from types import SimpleNamespace

import pytest
import redis as redis_sync
import yaml

from bot.stores.conversations import conversation_id
from tests.conftest import CHROMIUM, ROOT, BotProcess, stored_text
from tests.helpers import X_CREDENTIALS, add_agent, call, say, session_of, wait_for
from tests.standins.discord_api import DiscordStandIn
from tests.standins.telegram_api import TelegramStandIn
from tests.standins.x_api import XStandIn
from tests.test_browser import Console, sign_in

TELEGRAM_TOKEN = "123456:TEST-token-for-the-stand-in"
DISCORD_TOKEN = "MTEwMDAw.TEST-discord-token.for-the-stand-in"
SEED = "legal winner thank year wave sausage worth useful legal winner thank yellow"  # a BIP39 test vector


@pytest.fixture(scope="module")
def site(redis_server, model_path, tmp_path_factory):
    """The bot on the four platforms, and its agents: alice, bob and carol, and a lead."""
    telegram, discord, x = TelegramStandIn().start(), DiscordStandIn().start(), XStandIn().start()
    workdir = tmp_path_factory.mktemp("notes")
    url = redis_server.url.rsplit("/", 1)[0] + "/14"  # this module's own database
    redis_sync.Redis.from_url(url).flushdb()
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["web"]["rate_per_ip_minute"] = 1_000_000
    config["telegram"].update(enabled=True, base_url=telegram.base_url)
    config["discord"].update(enabled=True, api_base_url=discord.api_base, gateway_url=discord.gateway_url)
    config["x"].update(enabled=True, api_base_url=x.base_url, poll_interval_seconds=0.3)
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    bot = BotProcess(url, workdir / "bot.log", workdir / "config.yml",
                     env={"TELEGRAM_TOKEN": TELEGRAM_TOKEN, "DISCORD_TOKEN": DISCORD_TOKEN,
                          **X_CREDENTIALS}).start()  # fmt: skip
    assert discord.identified.wait(30), "the bot connected to the gateway"
    wait_for(lambda: any(m == "getUpdates" for m, _ in telegram.calls))
    db = SimpleNamespace(url=url)
    tokens = {name: add_agent(db, name, "en,es") for name in ("alice", "bob", "carol")}
    tokens["lead"] = add_agent(db, "nora", "en", role="lead")
    yield SimpleNamespace(bot=bot, url=url, tokens=tokens, telegram=telegram, discord=discord, x=x)
    bot.stop()
    discord.stop()
    x.stop()


def claim(site, cid: str, agent: str = "alice") -> dict:
    status, conv = call(site.bot, "POST", "/api/queue/claim", {"conversation": cid}, token=site.tokens[agent])
    assert status == 200 and conv["id"] == cid, (status, conv)
    return conv


def note(site, cid: str, text: str, agent: str = "alice") -> tuple[int, dict]:
    return call(site.bot, "POST", f"/api/conversations/{cid}/notes", {"text": text}, token=site.tokens[agent])


def reply(site, cid: str, text: str, agent: str = "alice") -> None:
    status, body = call(site.bot, "POST", f"/api/conversations/{cid}/reply", {"text": text}, token=site.tokens[agent])
    assert status == 202, body


def transcript(site, cid: str, agent: str = "alice") -> list[dict]:
    status, conv = call(site.bot, "GET", f"/api/conversations/{cid}", token=site.tokens[agent])
    assert status == 200, conv
    return conv["transcript"]


def webchat_conversation(site, name: str) -> str:
    status, body = say(site.bot, name, "I want to talk to a human please")
    assert status == 200 and body["action"] == "handoff", body
    session = session_of(site.bot, name)
    return conversation_id(f"webchat:{session}:{session}")


def webchat_lines(site, name: str) -> list[dict]:
    """Every line the web chat's user can read in their session, from the start."""
    status, body = call(site.bot, "GET", f"/api/webchat/{session_of(site.bot, name)}/messages?after=0-0")
    assert status == 200
    return body["messages"]


class Events:
    """An agent's /api/events stream, read in a thread: the events it was shown, by type."""

    def __init__(self, site, agent: str) -> None:
        self.seen: list[tuple[str, dict]] = []
        self.connected = threading.Event()
        request = urllib.request.Request(site.bot.url + "/api/events",
                                         headers={"Authorization": f"Bearer {site.tokens[agent]}"})  # fmt: skip
        threading.Thread(target=self._listen, args=(request,), daemon=True).start()
        assert self.connected.wait(10), "the event stream answered"

    def _listen(self, request) -> None:
        kind = ""
        try:
            with urllib.request.urlopen(request, timeout=30) as stream:
                for raw in stream:
                    line = raw.decode().strip()
                    self.connected.set()
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        self.seen.append((kind, json.loads(line[6:])))
        except OSError:
            pass  # the test is over, or the stream timed out

    def of(self, kind: str) -> list[dict]:
        return [data for seen, data in self.seen if seen == kind]


def test_a_note_reaches_no_user_on_any_platform_and_the_transcript_marks_it(site):
    web = webchat_conversation(site, "notes-web-0001")
    site.telegram.push(7901, "I need a human please", user_id=7901)
    assert site.telegram.wait_sent(7901), "the hand-off notice"
    user = 1400000000000007901
    dm = site.discord.dm_channel(user)
    site.discord.push_message(dm, "talk to a human please", user_id=user)
    assert site.discord.wait_sent(dm), "the hand-off notice"
    x_user = "1600000000000007901"
    site.x.dm(x_user, "I need a human please")
    assert site.x.wait_dms(x_user), "the hand-off notice"
    conversations = {"webchat": web, "telegram": conversation_id("telegram:7901:7901"),
                     "discord": conversation_id(f"discord:{dm}:{user}"),
                     "x": conversation_id(f"x:dm:{x_user}:{x_user}")}  # fmt: skip
    for platform, cid in conversations.items():
        claim(site, cid)
        status, added = note(site, cid, f"internal: {platform} user seems unsure, check KYC zq-note-{platform}")
        assert status == 201 and added["redacted"] is False and added["mentioned"] == []
        # A reply after the note: once it arrives, anything queued before it would have too.
        reply(site, cid, f"Hello from alice on {platform}")
        lines = transcript(site, cid)
        notes = [line for line in lines if line["from"] == "note"]
        assert [(n["agent"], n["text"]) for n in notes] == [
            ("alice", f"internal: {platform} user seems unsure, check KYC zq-note-{platform}")
        ]
        assert [line["from"] for line in lines][-2:] == ["note", "agent:alice"]

    wait_for(lambda: any(m["from"] == "agent" for m in webchat_lines(site, "notes-web-0001")))
    assert site.telegram.wait_sent(7901, count=2)[-1]["text"] == "Hello from alice on telegram"
    assert site.discord.wait_sent(dm, count=2)[-1]["content"] == "Hello from alice on discord"
    assert site.x.wait_dms(x_user, count=2)[-1]["text"] == "Hello from alice on x"
    time.sleep(1)
    assert "zq-note" not in json.dumps(webchat_lines(site, "notes-web-0001"), ensure_ascii=False)
    assert "zq-note" not in json.dumps(site.telegram.calls, ensure_ascii=False), "nothing Telegram received"
    assert "zq-note" not in json.dumps(site.discord.calls, ensure_ascii=False), "nothing Discord received"
    received_by_x = [site.x.calls, site.x.dms_sent(), site.x.posts()]
    assert "zq-note" not in json.dumps(received_by_x, ensure_ascii=False), "nothing X received"
    outside = {key: text for key, text in stored_text(site.url).items() if "zq-note" in text}
    assert set(outside) == {f"sb:conv:{cid}:log" for cid in conversations.values()}, "only in the transcripts"


def test_a_seed_phrase_in_a_note_is_redacted_before_it_is_stored_and_bad_notes_are_refused(site):
    cid = webchat_conversation(site, "notes-web-0002")
    claim(site, cid)
    status, added = note(site, cid, f"user pasted their seed in a DM: {SEED} (told them to move funds)")
    assert status == 201 and added["redacted"] is True and "[mnemonic removed]" in added["text"]
    assert "sausage" not in json.dumps(transcript(site, cid))
    assert not [key for key, text in stored_text(site.url).items() if "sausage worth useful" in text]
    assert note(site, cid, "x" * 4001)[0] == 413
    assert note(site, cid, "   ")[0] == 400
    status, body = note(site, cid, "look at \u202egnp.exe")
    assert status == 400 and "U+202E" in body["message"]
    assert note(site, cid, "not my conversation", agent="carol")[0] == 404


def test_a_mention_tells_bob_who_may_read_but_not_act_and_carol_sees_nothing(site):
    cid = webchat_conversation(site, "notes-web-0003")
    ticket = claim(site, cid)["ticket"]
    bob, carol, lead = Events(site, "bob"), Events(site, "carol"), Events(site, "lead")
    assert call(site.bot, "GET", f"/api/conversations/{cid}", token=site.tokens["bob"])[0] == 404, "not yet"
    text = "@bob could you check the KYC documents? @nobody-here, mail me@carol.example. " + "qwerty " * 20
    status, added = note(site, cid, text)
    assert status == 201 and added["mentioned"] == ["bob"]
    told = wait_for(lambda: bob.of("mentioned"), timeout=10)
    assert [(e["agent"], e["by"], e["conversation"], e["ticket"]) for e in told] == [("bob", "alice", cid, ticket)]
    assert told[0]["excerpt"] == text[:140]
    assert wait_for(lambda: lead.of("mentioned"), timeout=10), "leads see every event"

    status, conv = call(site.bot, "GET", f"/api/conversations/{cid}", token=site.tokens["bob"])
    assert status == 200 and [line["text"] for line in conv["transcript"] if line["from"] == "note"] == [text]
    for path, body in (("reply", {"text": "hi, bob here"}), ("resolve", None), ("release", None),
                       ("transfer", {"agent": "bob"}), ("notes", {"text": "bob's note"})):  # fmt: skip
        assert call(site.bot, "POST", f"/api/conversations/{cid}/{path}", body, token=site.tokens["bob"])[0] == 404
    assert call(site.bot, "GET", f"/api/conversations/{cid}/account", token=site.tokens["bob"])[0] == 404
    assert call(site.bot, "GET", f"/api/conversations/{cid}", token=site.tokens["carol"])[0] == 404
    time.sleep(1)
    assert carol.of("mentioned") == [], "no one else is told"
    assert not [m for m in webchat_lines(site, "notes-web-0003") if "KYC" in m["text"]]
    audit = [f for _, f in redis_sync.Redis.from_url(site.url).xrange("sb:audit") if f[b"object"] == cid.encode()]
    assert [(f[b"actor"], f[b"outcome"]) for f in audit if f[b"action"] == b"note"] == [
        (b"alice", b"ok"),
        (b"bob", b"not_found"),
    ]


def test_a_note_on_a_waiting_conversation_is_not_why_it_waits_and_an_export_marks_it_internal(site):
    cid = webchat_conversation(site, "notes-web-0004")
    assert note(site, cid, "VIP, be quick", agent="lead")[0] == 201, "a lead notes any conversation"
    status, queue = call(site.bot, "GET", "/api/queue", token=site.tokens["alice"])
    waiting = [c for c in queue["queue"] if c["id"] == cid]
    assert waiting and waiting[0]["first_message"] == "I want to talk to a human please"
    session = session_of(site.bot, "notes-web-0004")
    status, document = call(site.bot, "GET", f"/api/users/webchat/{session}/export", token=site.tokens["lead"])
    lines = [line for c in document["conversations"] for line in c["transcript"]]
    assert status == 200 and [(line["from"], line.get("agent"), line["text"]) for line in lines
                              if line.get("internal")] == [("note", "nora", "VIP, be quick")]  # fmt: skip
    assert all(line.get("internal") for line in lines if line["from"] == "note")


def test_private_canned_answers_are_their_agents_own_and_limited(site):
    def put(agent: str, title: str, text: str) -> tuple[int, dict]:
        return call(site.bot, "PUT", f"/api/canned/mine/{urllib.parse.quote(title, safe='')}", {"text": text},
                    token=site.tokens[agent])  # fmt: skip

    assert put("alice", "refund steps / KYC", "Hi, {name} here: about {ticket}...") == (
        200,
        {"title": "refund steps / KYC", "text": "Hi, {name} here: about {ticket}..."},
    )
    status, mine = call(site.bot, "GET", "/api/canned/mine", token=site.tokens["alice"])
    assert status == 200 and mine["mine"] == {"refund steps / KYC": "Hi, {name} here: about {ticket}..."}
    status, both = call(site.bot, "GET", "/api/canned?language=en", token=site.tokens["alice"])
    assert status == 200 and "greeting" in both["canned"] and list(both["mine"]) == ["refund steps / KYC"]
    for other in ("bob", "lead"):
        assert call(site.bot, "GET", "/api/canned/mine", token=site.tokens[other])[1]["mine"] == {}
        assert call(site.bot, "GET", "/api/canned?language=en", token=site.tokens[other])[1]["mine"] == {}
        assert call(site.bot, "DELETE", "/api/canned/mine/refund%20steps%20%2F%20KYC",
                    token=site.tokens[other])[0] == 404  # fmt: skip

    # The limits, on carol's (alice's own stay few: the console test adds to them).
    assert put("carol", "t" * 81, "text")[0] == 400
    assert put("carol", "long", "x" * 2001)[0] == 400
    assert put("carol", "empty", "  ")[0] == 400
    assert put("carol", "bell\x07", "text")[0] == 400
    for n in range(100):
        assert put("carol", f"answer {n:02}", f"text {n}")[0] == 200
    status, body = put("carol", "one too many", "text")
    assert (status, body["error"]) == (400, "too_many")
    assert put("carol", "answer 00", "a new text for an old title")[0] == 200, "changing one is no new one"
    assert put("bob", "bob's own", "text")[0] == 200, "the limit is per agent"
    deleted = call(site.bot, "DELETE", "/api/canned/mine/answer%2000", token=site.tokens["carol"])
    assert deleted == (200, {"deleted": True})
    assert call(site.bot, "DELETE", "/api/canned/mine/answer%2000", token=site.tokens["carol"])[0] == 404
    assert put("carol", "one too many", "text")[0] == 200
    assert len(call(site.bot, "GET", "/api/canned/mine", token=site.tokens["carol"])[1]["mine"]) == 100
    audit = [f for _, f in redis_sync.Redis.from_url(site.url).xrange("sb:audit") if f[b"actor"] == b"carol"]
    assert {f[b"action"] for f in audit} >= {b"canned_save", b"canned_delete"}


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (make test installs it)")
def test_a_note_in_the_console_shows_as_internal_and_the_mentioned_agent_opens_it(site, browser):
    cid = webchat_conversation(site, "notes-web-0005")
    ticket = claim(site, cid)["ticket"]
    alice, bob = Console(browser), Console(browser)
    try:
        sign_in(bob.page, site.bot.url, site.tokens["bob"])
        bob.page.wait_for_selector("#connection.conn-live")
        sign_in(alice.page, site.bot.url, site.tokens["alice"])
        alice.page.locator("#mine li.mine-item", has_text=ticket).click()
        alice.page.wait_for_selector(f"#conv-ticket:has-text('{ticket}')")
        alice.page.click("#mode-note")
        assert alice.page.is_hidden("#reply") and alice.page.is_visible("#note")
        assert "only agents see this" in alice.page.inner_text("#note-hint").lower()
        alice.page.fill("#note", "@bob please double-check the address <b>zq-console</b>")
        alice.page.press("#note", "Control+Enter")
        shown = alice.page.locator("#transcript li.from-note:not(.pending)", has_text="zq-console")
        shown.wait_for()
        assert shown.locator(".who").inner_text() == "Internal note by you"
        assert "@bob please double-check the address <b>zq-console</b>" in shown.locator(".text").inner_text()
        colour = shown.locator(".bubble").evaluate("(node) => getComputedStyle(node).backgroundColor")
        assert colour == "rgb(255, 248, 214)", "the yellow of a note"
        assert alice.page.input_value("#reply") == "", "nothing went to the reply box"

        mention = bob.page.locator("#mentions li.mention-item", has_text=f"You were mentioned in {ticket} by alice")
        mention.wait_for()
        mention.click()
        bob.page.wait_for_selector(f"#conv-ticket:has-text('{ticket}')")
        seen = bob.page.locator("#transcript li.from-note", has_text="zq-console")
        seen.wait_for()
        assert seen.locator(".who").inner_text() == "Internal note by alice"
        assert bob.page.is_disabled("#reply") and bob.page.is_disabled("#mode-note"), "bob reads, does not write"
        assert bob.page.is_visible("#conv-readonly") and bob.page.locator("#mentions li").count() == 0

        # Alice's own canned answers come first in the list, the team's after them.
        alice.page.click("#mode-reply")
        alice.page.click("#canned-manage")
        alice.page.fill("#canned-title", "kyc docs")
        alice.page.fill("#canned-text", "For {ticket}: please upload your ID.")
        alice.page.click("#canned-save")
        alice.page.locator("#canned-mine li", has_text="kyc docs").wait_for()
        alice.page.click("#canned-close")
        assert alice.page.locator("#canned optgroup").first.get_attribute("label") == "Mine"
        alice.page.select_option("#canned", "mine:kyc docs")
        assert alice.page.input_value("#reply") == f"For {ticket}: please upload your ID."
        alice.page.select_option("#canned", "greeting")
        sent = alice.page.input_value("#reply")
        assert sent.startswith(f"For {ticket}: please upload your ID.\n") and "alice" in sent
        alice.page.press("#reply", "Control+Enter")
        alice.page.locator("#transcript li.from-agent:not(.pending)", has_text="upload your ID").wait_for()
        assert not alice.errors and not bob.errors and not alice.dialogs and not alice.csp, alice.errors + bob.errors
    finally:
        alice.close()
        bob.close()
    lines = wait_for(lambda: [m for m in webchat_lines(site, "notes-web-0005") if m["from"] == "agent"])
    assert [m["text"] for m in lines] == [sent], "the reply reached the user"
    assert not [m for m in webchat_lines(site, "notes-web-0005") if "zq-console" in m["text"]], "the note did not"
