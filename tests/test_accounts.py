"""Account-aware support (issue 18) end to end (the browser tests last: a module's Playwright
keeps a loop the async tests cannot share): the bot as a process, the demo back office
(`python -m demo_backoffice`) as a process, a user on the web chat linking their account on the
exchange's sign-in page and asking about their own deposits, withdrawals and lock; and the
events endpoint refusing what a forger, a replayer or another user sends."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis as redis_sync
import yaml

from bot.domain.messages import InboundMessage
from bot.services.accounts import Accounts
from bot.services.backoffice_client import BackOfficeClient
from bot.services.inbox import Inbox
from bot.services.replies import Replies
from bot.stores.conversations import conversation_id
from bot.stores.holder import Stores
from demo_backoffice import seed
from demo_backoffice.sign_in import sign_in_on_link_page
from tests.conftest import CHROMIUM, ROOT, BotProcess, free_port
from tests.helpers import Watched, add_agent, call, say, session_of, wait_for
from tests.standins.discord_api import PUBLIC_CHANNEL, DiscordStandIn
from tests.standins.telegram_api import TelegramStandIn
from tests.test_browser import Console, sign_in

TOKEN, SIGNING = secrets.token_urlsafe(24), secrets.token_urlsafe(24)


def SITE_DB(redis_server) -> str:  # noqa: N802
    """The bot's own database: the `redis` fixture flushes database 0 around in-process tests."""
    return redis_server.url.rsplit("/", 1)[0] + "/7"


class DemoBackOffice:
    def __init__(self, bot_url: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {"PATH": "/usr/bin:/bin", "BACKOFFICE_TOKEN": TOKEN, "BACKOFFICE_SIGNING_SECRET": SIGNING}
        self.log = open(log, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "demo_backoffice", "--port", str(self.port),
                                         "--bot-url", bot_url], cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)  # fmt: skip
        wait_for(lambda: _ok(self.url + "/v1/health"), timeout=20)

    def faults(self, mode: str, delay_s: float = 0.0) -> None:
        request = urllib.request.Request(self.url + "/demo/faults", method="POST",
                                         data=json.dumps({"mode": mode, "delay_s": delay_s}).encode(),
                                         headers={"Authorization": f"Bearer {TOKEN}",
                                                  "Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def site(redis_server, model_path, tmp_path_factory):
    """The bot, with the demo back office it reads accounts from."""
    workdir = tmp_path_factory.mktemp("accounts")
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["web"]["rate_per_ip_minute"] = 1_000_000
    bot = BotProcess(SITE_DB(redis_server), workdir / "bot.log", workdir / "config.yml",
                     env={"BACKOFFICE_TOKEN": TOKEN, "BACKOFFICE_SIGNING_SECRET": SIGNING})  # fmt: skip
    office = DemoBackOffice(bot.url, workdir / "backoffice.log")
    config["backoffice"]["url"] = office.url
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    bot.start()
    yield bot, office
    bot.stop()
    office.stop()


def reply_text(body: dict) -> str:
    return "\n".join(reply["text"] for reply in body["replies"])


def link(bot, office, session: str, user: str) -> str:
    """Link the web chat session to the demo account `user` through the sign-in page; the
    notice the bot then sends in the chat."""
    status, body = say(bot, session, "/link")
    text = reply_text(body)
    assert status == 200 and office.url + "/link/" in text, text
    assert "never ask you for a password" in text
    url = next(word for word in text.split() if word.startswith(office.url + "/link/"))
    assert "Linked" in sign_in_on_link_page(url, user)
    lines = wait_for(lambda: [line for line in call(bot, "GET", f"/api/webchat/{session_of(bot, session)}/messages")[1]
                              ["messages"] if "is linked" in line["text"]])  # fmt: skip
    return lines[0]["text"]


def test_a_linked_user_asking_about_a_deposit_by_txid_gets_its_confirmations(site):
    bot, office = site
    notice = link(bot, office, "acct-alice", "alice")
    assert "10****89" in notice and "10234589" not in notice
    _, body = say(bot, "acct-alice", f"my usdt deposit has not arrived, txid {seed.ALICE_USDT_TXID}")
    text = reply_text(body)
    assert text.startswith("Your deposit of 500.00 USDT (TRC20): 12 of 20 confirmations, about 4 min left."), text
    assert "10234589" not in text


def test_a_withdrawal_under_review_and_a_locked_account_are_told_with_their_reasons(site):
    bot, office = site
    link(bot, office, "acct-alice-2", "alice")
    _, body = say(bot, "acct-alice-2", "my withdrawal is still pending, why?")
    assert "under review. We are checking that this withdrawal was made by you" in reply_text(body)
    link(bot, office, "acct-bob", "bob")
    _, body = say(bot, "acct-bob", "why is my account locked?")
    assert "Locked after 5 failed sign-in attempts" in reply_text(body)


def test_an_unlinked_user_is_offered_the_link_and_unlinking_forgets_it(site):
    bot, office = site
    _, body = say(bot, "acct-nobody", "my deposit hasn't arrived yet")
    assert "write /link" in reply_text(body)
    assert any(b["action"] == "account:link" for r in body["replies"] for b in r.get("buttons", []))
    link(bot, office, "acct-leaving", "alice")
    _, body = say(bot, "acct-leaving", "/unlink")
    assert "no longer linked" in reply_text(body)
    _, body = say(bot, "acct-leaving", "my deposit hasn't arrived yet")
    assert "write /link" in reply_text(body) and "500.00 USDT" not in reply_text(body)


def test_the_exchange_removing_a_link_unlinks_the_user_in_the_chat(site, redis_server):
    """The user removes the chat on the exchange's own links page: its signed `link.revoked`
    reaches the bot, which forgets the link (the next deposit question offers /link again)."""
    bot, office = site
    link(bot, office, "acct-removed", "carol")
    key = f"sb:account-link:webchat:{session_of(bot, 'acct-removed')}"
    ref = redis_sync.Redis.from_url(SITE_DB(redis_server)).hget(key, "ref").decode()
    form = urllib.parse.urlencode({"username": "carol", "password": "demo", "account_ref": ref}).encode()
    with urllib.request.urlopen(urllib.request.Request(office.url + "/links", data=form), timeout=10) as response:
        assert "Removed." in response.read().decode()
    wait_for(lambda: not redis_sync.Redis.from_url(SITE_DB(redis_server)).exists(key))
    _, body = say(bot, "acct-removed", "my deposit hasn't arrived yet")
    assert "write /link" in reply_text(body)


@pytest.mark.parametrize("mode", ["slow", "error", "nonsense"])
def test_a_back_office_down_slow_or_talking_nonsense_gets_the_general_answer_within_3_s(site, mode):
    bot, office = site
    link(bot, office, f"acct-fault-{mode}", "alice")
    office.faults(mode, delay_s=5.0)
    try:
        began = time.monotonic()
        status, body = say(bot, f"acct-fault-{mode}", "my deposit has not arrived")
        took = time.monotonic() - began
    finally:
        office.faults("none")
    text = reply_text(body)
    assert status == 200 and took < 3, took
    assert text.startswith("I can't see your account right now") and "deposit" in text.lower()
    assert bot.logs().count("back office: deposits failed") >= 1
    metrics = urllib.request.urlopen(bot.url + "/metrics", timeout=5).read().decode()
    counted = re.search(r'supportbot_backoffice_failures_total\{call="deposits"\} (\d+)', metrics)
    assert counted and int(counted.group(1)) >= 1


def _event(body: dict | bytes, secret: str = SIGNING, at: float | None = None) -> tuple[bytes, str]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    t = str(int(time.time() if at is None else at))
    return raw, f"t={t}, v1={hmac.new(secret.encode(), t.encode() + b'.' + raw, hashlib.sha256).hexdigest()}"


def _send(bot, raw: bytes, signature: str) -> int:
    request = urllib.request.Request(bot.url + "/backoffice/v1/events", data=raw, method="POST",
                                     headers={"X-Backoffice-Signature": signature,
                                              "Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _request_link(bot, office, session: str) -> str:
    """A link request for `session`, as the bot made it; its request id."""
    _, body = say(bot, session, "/link")
    url = next(word for word in reply_text(body).split() if word.startswith(office.url + "/link/"))
    return url.rsplit("/", 1)[1]


def test_forged_replayed_foreign_and_unknown_confirmations_are_refused_and_logged(site):
    bot, office = site
    session = session_of(bot, "acct-target")
    request_id = _request_link(bot, office, "acct-target")
    confirmed = {"event": "link.confirmed", "request_id": request_id, "account_ref": "forged-ref-000000000000",
                 "platform": "webchat", "platform_user_id": session, "confirmed_at": "2026-12-07T00:00:00Z"}
    assert _send(bot, *_event({**confirmed, "event_id": "e1"}, secret="not-the-secret")) == 401
    assert _send(bot, *_event({**confirmed, "event_id": "e2"}, at=time.time() - 3600)) == 401
    other = session_of(bot, "acct-attacker")
    assert _send(bot, *_event({**confirmed, "platform_user_id": other, "event_id": "e3"})) == 403
    assert _send(bot, *_event({**confirmed, "request_id": "never-made", "event_id": "e4"})) == 410
    first = _event({**confirmed, "event_id": "e5"})
    assert _send(bot, *first) == 200
    assert _send(bot, *first) == 409, "the same event again"
    assert _send(bot, *_event({**confirmed, "event_id": "e6"})) == 410, "the request is spent"
    # Signed but not an event: JSON nested deeper than the parser recurses was a 500.
    assert _send(bot, *_event(b"[" * 5_000 + b"]" * 5_000)) == 400
    assert _send(bot, *_event(b"\xff not json")) == 400
    for code in ("bad_signature", "foreign", "unknown", "replayed"):
        assert f"back office event refused: {code}" in bot.logs()
    assert SIGNING not in bot.logs() and TOKEN not in bot.logs()


async def test_linking_is_refused_outside_a_private_chat(site, redis, config, pipeline):
    """Checked on the service (the web chat is always private): a group's /link makes no link
    request at all, so nothing an onlooker could open."""
    _, office = site
    stores = await Stores.open(redis, ["en"])
    client = BackOfficeClient(office.url, TOKEN)
    replies = Replies(pipeline.texts, stores.outbox, stores.conversations)
    accounts = Accounts(config, pipeline.texts, stores, replies, client)
    group = InboundMessage("telegram", "-100", "group", "42", "/link", addressed=True)
    try:
        text = await accounts.link(group, "c-group", "en")
    finally:
        await client.close()
    assert "only link accounts in a private chat" in text
    assert not [key async for key in redis.scan_iter("sb:link-request:*")]


def _press(bot, session: str, action: str) -> None:
    status, body = call(bot, "POST", f"/api/webchat/{session_of(bot, session)}/press", {"action": action})
    assert status == 202, body


def _line(bot, session: str, wanted: str) -> dict:
    return wait_for(lambda: next((line for line in call(bot, "GET", f"/api/webchat/{session_of(bot, session)}/messages")
                                  [1]["messages"] if wanted in line["text"]), None))  # fmt: skip


def test_a_linked_user_reporting_a_break_in_freezes_the_account_with_one_confirmed_tap(site, redis_server):
    bot, office = site
    link(bot, office, "acct-hacked", "erin")
    _, body = say(bot, "acct-hacked", "someone logged into my account and withdrew all my usdt, it wasn't me")
    actions = [b["action"] for r in body["replies"] for b in r.get("buttons", [])]
    assert "freeze your account now" in reply_text(body).lower() or "freeze it now" in reply_text(body).lower()
    assert "account:freeze" in actions and "account:freeze:yes" not in actions, "a tap asks first"
    _press(bot, "acct-hacked", "account:freeze")
    confirm = _line(bot, "acct-hacked", "Freeze your account now?")
    assert [b["action"] for b in confirm["buttons"]] == ["account:freeze:yes"]
    _press(bot, "acct-hacked", "account:freeze:yes")
    _line(bot, "acct-hacked", "Your account is frozen")
    ref = redis_sync.Redis.from_url(SITE_DB(redis_server)).hget(
        f"sb:account-link:webchat:{session_of(bot, 'acct-hacked')}", "ref").decode()
    request = urllib.request.Request(f"{office.url}/v1/links/{ref}/account",
                                     headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=5) as response:
        account = json.loads(response.read())
    assert account["locked"] and "frozen_by_user" in [r["code"] for r in account["restrictions"]]
    _press(bot, "acct-hacked", "account:freeze:yes")
    _line(bot, "acct-hacked", "was already frozen")


def test_an_unlinked_break_in_report_gets_no_freeze_button_and_a_forged_press_does_nothing(site):
    bot, _ = site
    _, body = say(bot, "acct-hacked-unlinked", "someone logged into my account and withdrew all my usdt, it wasn't me")
    assert "account:freeze" not in [b["action"] for r in body["replies"] for b in r.get("buttons", [])]
    _press(bot, "acct-hacked-unlinked", "account:freeze:yes")
    time.sleep(1)
    lines = call(bot, "GET", f"/api/webchat/{session_of(bot, 'acct-hacked-unlinked')}/messages")[1]["messages"]
    assert not [line for line in lines if "frozen" in line["text"]]


def test_a_vip_at_the_exchange_takes_the_vip_lane_and_goes_to_the_vip_team(site, redis_server):
    bot, office = site
    link(bot, office, "acct-vip", "carol")
    say(bot, "acct-vip", "I want to talk to a human")
    session = session_of(bot, "acct-vip")
    cid = conversation_id(f"webchat:{session}:{session}")
    assert redis_sync.Redis.from_url(SITE_DB(redis_server)).zscore("sb:q:vip:vip:en", cid) is not None


ACCOUNT_DATA = ("500.00", "10****89", "confirmations, about", "under review", "120.00 XRP", "1000.00 USDT")


async def test_no_account_data_reaches_a_group_and_the_same_user_in_private_gets_it(site, redis, config, pipeline,
                                                                                    redis_server):  # fmt: skip
    """A linked user asking about their account in a group: every message the bot sends there
    (and anything it queues anywhere) holds none of their data; in private the same questions
    are answered from it, so the link works and the group's silence about it is the rule's."""
    bot, office = site
    link(bot, office, "acct-group-source", "alice")
    ref = redis_sync.Redis.from_url(SITE_DB(redis_server)).hget(
        f"sb:account-link:webchat:{session_of(bot, 'acct-group-source')}", "ref").decode()
    stores = await Stores.open(redis, ["en"])
    await stores.links.requested("r-group", "telegram", "4242", "4242", "c-private", 600)
    assert (await stores.links.confirm("r-group", "telegram", "4242", ref, "ev-group", 86400)).outcome == "linked"
    client = BackOfficeClient(office.url, TOKEN)
    inbox = Inbox(config, pipeline, stores, None, client)
    questions = ("where is my usdt deposit?", "my withdrawal is pending", "why is my account locked?",
                 "is my kyc verified?", f"txid {seed.ALICE_USDT_TXID} not credited")  # fmt: skip
    try:
        for n, text in enumerate(questions):
            await inbox.handle(InboundMessage("telegram", "-1001", "group", "4242", text, addressed=True,
                                              message_id=f"g{n}"), reply_inline=False)  # fmt: skip
        sent = [fields for name in ("telegram", "webchat", "discord", "x")
                for _, fields in await redis.xrange(f"sb:outbox:{name}")]  # fmt: skip
        texts = [value.decode() for fields in sent for key, value in fields.items() if key == b"text"]
        assert texts, "the group was answered"
        assert not [t for t in texts for data in ACCOUNT_DATA if data in t], texts
        private = await inbox.handle(InboundMessage("telegram", "4242", "private", "4242", questions[0],
                                                    addressed=True, message_id="p1"))  # fmt: skip
        assert "500.00 USDT (TRC20)" in private.reply.text
    finally:
        await client.close()


async def test_a_link_request_and_a_link_expire(redis):
    """A link request not confirmed within its life is refused (410 at the events endpoint: it
    is "unknown" then); a link lasts `backoffice.link_days`, then the user is unlinked."""
    stores = await Stores.open(redis, ["en"])
    await stores.links.requested("r-old", "webchat", "u-old", "u-old", "c-old", 1)
    await asyncio.sleep(1.5)
    assert (await stores.links.confirm("r-old", "webchat", "u-old", "ref-x", "ev-old", 60)).outcome == "unknown"
    await stores.links.requested("r-new", "webchat", "u-new", "u-new", "c-new", 60)
    assert (await stores.links.confirm("r-new", "webchat", "u-new", "ref-y", "ev-new", 1)).outcome == "linked"
    assert await stores.links.ref_of("webchat", "u-new") == "ref-y"
    await asyncio.sleep(1.5)
    assert await stores.links.ref_of("webchat", "u-new") is None


def link_in_a_dm_and_ask_about_the_deposit(office, push, sent) -> None:
    """On a platform's stand-in: /link in the DM, sign in as alice, the linked notice, then a
    deposit question by txid answered from her account. `push(text)` writes in the DM,
    `sent(count)` waits for that many of the bot's DM messages and returns their texts."""
    push("/link")
    url = next(word for word in sent(1)[0].split() if word.startswith(office.url + "/link/"))
    sign_in_on_link_page(url, "alice")
    assert "10****89" in sent(2)[1]
    push(f"deposit not credited, txid {seed.ALICE_USDT_TXID}")
    assert "12 of 20 confirmations" in sent(3)[2]


@pytest.fixture(scope="module")
def telegram_site(redis_server, model_path, tmp_path_factory):
    """A Telegram bot (on the Bot API stand-in) with the demo back office."""
    standin = TelegramStandIn().start()
    workdir = tmp_path_factory.mktemp("accounts-telegram")
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["telegram"].update(enabled=True, base_url=standin.base_url)
    bot = BotProcess(redis_server.url.rsplit("/", 1)[0] + "/6", workdir / "bot.log", workdir / "config.yml",
                     env={"BACKOFFICE_TOKEN": TOKEN, "BACKOFFICE_SIGNING_SECRET": SIGNING,
                          "TELEGRAM_TOKEN": "123456:TEST-token-for-the-stand-in"})  # fmt: skip
    office = DemoBackOffice(bot.url, workdir / "backoffice.log")
    config["backoffice"]["url"] = office.url
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    bot.start()
    wait_for(lambda: any(m == "getUpdates" for m, _ in standin.calls))
    yield standin, bot, office
    bot.stop()
    office.stop()


def test_a_telegram_user_links_in_a_dm_and_their_group_question_reveals_nothing(telegram_site):
    standin, bot, office = telegram_site
    dm, group, user = 7301, -1007301, 7301
    standin.push(group, "/link@ExampleXBot", chat_type="supergroup", user_id=user)
    refusal = standin.wait_sent(group)[0]["text"]
    assert "only link accounts in a private chat" in refusal and office.url not in refusal
    link_in_a_dm_and_ask_about_the_deposit(office, lambda text: standin.push(dm, text, user_id=user),
                                           lambda count: [m["text"] for m in standin.wait_sent(dm, count=count)])
    for text in ("@ExampleXBot where is my usdt deposit?", "@ExampleXBot my withdrawal is pending",
                 "@ExampleXBot why is my account locked?"):  # fmt: skip
        standin.push(group, text, chat_type="supergroup", user_id=user)
    wait_for(lambda: len(standin.sent(group)) >= 4)
    time.sleep(1)
    in_group = [m["text"] for m in standin.sent(group)]
    assert not [t for t in in_group for data in ACCOUNT_DATA if data in t], in_group


@pytest.fixture(scope="module")
def discord_site(redis_server, model_path, tmp_path_factory):
    """A Discord bot (on the gateway and REST stand-in) with the demo back office."""
    standin = DiscordStandIn().start()
    workdir = tmp_path_factory.mktemp("accounts-discord")
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["discord"].update(enabled=True, api_base_url=standin.api_base, gateway_url=standin.gateway_url)
    bot = BotProcess(redis_server.url.rsplit("/", 1)[0] + "/5", workdir / "bot.log", workdir / "config.yml",
                     env={"BACKOFFICE_TOKEN": TOKEN, "BACKOFFICE_SIGNING_SECRET": SIGNING,
                          "DISCORD_TOKEN": "MTEwMDAw.TEST-discord-token.for-the-stand-in"})  # fmt: skip
    office = DemoBackOffice(bot.url, workdir / "backoffice.log")
    config["backoffice"]["url"] = office.url
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    bot.start()
    assert standin.identified.wait(30), "the bot connected to the gateway"
    yield standin, bot, office
    bot.stop()
    office.stop()


def test_a_discord_user_links_in_a_dm_and_a_channel_question_reveals_nothing(discord_site):
    standin, bot, office = discord_site
    user = 1400000000000007301
    dm = standin.dm_channel(user)
    link_in_a_dm_and_ask_about_the_deposit(office, lambda text: standin.push_message(dm, text, user_id=user),
                                           lambda count: [m["content"] for m in standin.wait_sent(dm, count=count)])
    standin.push_message(PUBLIC_CHANNEL, "where is my usdt deposit?", user_id=user, mention_bot=True)
    standin.push_message(PUBLIC_CHANNEL, "my withdrawal is pending", user_id=user, mention_bot=True)
    wait_for(lambda: len(standin.sent(PUBLIC_CHANNEL)) >= 2)
    time.sleep(1)
    everywhere_but_the_dm = [m.get("content") or "" for m in standin.sent() if int(m["channel_id"]) != dm]
    assert not [t for t in everywhere_but_the_dm for data in ACCOUNT_DATA if data in t], everywhere_but_the_dm


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (make test installs it)")
def test_the_agent_reads_refreshes_and_freezes_the_users_account_and_each_step_is_audited(site, browser, redis_server):
    bot, office = site
    link(bot, office, "acct-card", "alice")
    _, body = say(bot, "acct-card", "I want to talk to a human")
    ticket = re.search(r"T-\d+", reply_text(body)).group()
    token = add_agent(SimpleNamespace(url=SITE_DB(redis_server)), "card-agent", "en")
    agent = Console(browser)
    try:
        sign_in(agent.page, bot.url, token)
        agent.page.locator("li.queue-item", has_text=ticket).click(timeout=8000)
        agent.page.wait_for_selector(f"#conv-ticket:has-text('{ticket}')")
        card = agent.page.locator("#account-card")
        card.locator("dd", has_text="10****89").wait_for()
        text = card.inner_text()
        assert "10234589" not in text and "12/20" in text and "under_review" in text and "XRP" in text
        agent.page.click("#account-refresh")
        card.locator("dd", has_text="10****89").wait_for()
        agent.page.click("#account-freeze")  # asks once more before it acts
        assert agent.page.is_hidden("#account-freeze") and agent.page.is_visible("#account-freeze-confirm")
        agent.page.click("#account-freeze-confirm")
        card.locator("li", has_text="frozen_by_user").wait_for()
        assert card.locator("dd.account-locked").inner_text() == "yes"
        agent.page.locator("#transcript li", has_text="Account frozen at the exchange by card-agent").wait_for()
        assert not agent.errors and not agent.csp, (agent.errors, agent.csp)
    finally:
        agent.close()
    reads = [fields for _, fields in redis_sync.Redis.from_url(SITE_DB(redis_server)).xrange("sb:audit")
             if fields[b"action"] == b"account.lookup:card" and fields[b"actor"] == b"card-agent"]
    assert len(reads) >= 2, "the first read and the refresh, each under the agent's name"
    frozen = [fields for _, fields in redis_sync.Redis.from_url(SITE_DB(redis_server)).xrange("sb:audit")
              if fields[b"action"] == b"account.freeze" and fields[b"actor"] == b"card-agent"]  # fmt: skip
    assert len(frozen) == 1 and frozen[0][b"outcome"] == b"ok"


def test_a_lookup_for_another_agents_or_an_unknown_conversation_is_refused(site, redis_server):
    bot, _ = site
    token = add_agent(SimpleNamespace(url=SITE_DB(redis_server)), "card-stranger", "en")
    status, _ = call(bot, "GET", "/api/conversations/c000000000000/account", token=token)
    assert status == 404
    status, _ = call(bot, "GET", "/api/conversations/c000000000000/account")
    assert status == 401
    status, _ = call(bot, "POST", "/api/conversations/c000000000000/account/freeze", {}, token=token)
    assert status == 404, "nobody freezes an account through a conversation that is not theirs"


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (make test installs it)")
def test_the_web_chat_page_offers_linking_and_unlinking_as_buttons(site, browser):
    bot, office = site
    user = Watched(browser)
    try:
        user.page.goto(bot.url + "/")
        user.page.click("#link-account")
        offer = user.page.locator("li.bot", has_text=office.url + "/link/")
        offer.wait_for()
        assert "never ask you for a password" in offer.inner_text()
        user.page.click("#unlink-account")
        user.page.locator("li.bot", has_text="No account is linked").wait_for()
        assert not user.dialogs and not user.csp
    finally:
        user.close()

