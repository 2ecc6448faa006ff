"""The web chat page and the agent console in a real browser: Debian's Chromium driven by
Playwright, against the real bot process and Redis.

Set SB_SCREENSHOTS=1 to refresh the README's screenshots (docs/screenshots/) while testing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import urllib.request
from types import SimpleNamespace

import pytest
import redis as redis_sync

from tests.conftest import CHROMIUM, ROOT, BotProcess
from tests.helpers import Watched, add_agent, call, session_of, wait_for

XSS = "<img src=x onerror=alert(1)>"
SCREENSHOTS = ROOT / "docs" / "screenshots"

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (make test installs it)")


@pytest.fixture(scope="module")
def site(tmp_path_factory, redis_server, model_path):
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/9"  # this module's own database
    redis_sync.Redis.from_url(redis_url).flushdb()
    bot = BotProcess(redis_url, tmp_path_factory.mktemp("browser") / "bot.log").start()
    db = SimpleNamespace(url=redis_url)
    tokens = {"maria": add_agent(db, "maria", "en,es"), "lead": add_agent(db, "lena", "en", role="lead")}
    yield SimpleNamespace(bot=bot, url=bot.url, redis_url=redis_url, tokens=tokens)
    bot.stop()


class Console(Watched):
    """A watched console page that also records script errors: uncaught exceptions, and console
    errors (a module the browser refuses to load or link logs one) other than the API's refusals
    that tests provoke on purpose (a 401 for a wrong token, a 400 for a bad transfer target)."""

    def __init__(self, browser, viewport: dict | None = None) -> None:
        super().__init__(browser, viewport)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._on_console)

    def _on_console(self, message) -> None:
        if message.type == "error" and "/api/" not in message.location.get("url", ""):
            self.errors.append(message.text)


def sign_in(page, url: str, token: str) -> None:
    page.goto(url + "/console")
    page.fill("#token", token)
    page.press("#token", "Enter")
    page.wait_for_selector("#whoami:not(:empty)")


def ask(page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def test_a_user_gets_a_person_who_answers_from_the_console_and_then_rates_them(site, browser):
    user, agent = Watched(browser, {"width": 390, "height": 844}), Console(browser)
    try:
        sign_in(agent.page, site.url, site.tokens["maria"])
        agent.page.wait_for_selector("#queue-empty")

        user.page.goto(site.url + "/")
        ask(user.page, "hi, how do I reset my password?")
        answer = user.page.locator("li.bot").last
        answer.wait_for()
        assert "password" in answer.inner_text().lower()
        assert answer.locator("button").count() == 2, "Was this helpful? yes / no"
        ask(user.page, "my 250 USDT deposit on TRC20 is still waiting for confirmations")
        deposit = user.page.locator("li.bot", has_text="TRC20")
        deposit.wait_for()
        assert "20" in deposit.inner_text().split("TRC20", 1)[1], "the network's confirmations in the answer"
        ask(user.page, "I want to talk to a person please")
        notice = user.page.locator("li.bot", has_text=re.compile(r"T-\d+")).last
        notice.wait_for()
        ticket = re.search(r"T-\d+", notice.inner_text()).group()

        # Live: it appears in the open console without a reload.
        item = agent.page.locator("li.queue-item", has_text=ticket)
        item.wait_for(timeout=8000)
        assert "talk to a person" in item.locator(".first-message").inner_text()
        agent.page.locator("body").press("n")
        agent.page.wait_for_selector(f"#conv-ticket:has-text('{ticket}')")
        assert agent.page.locator("#queue li.queue-item", has_text=ticket).count() == 0, "claimed: off the queue"
        assert "human_agent" in agent.page.locator("#transcript li.from-user .nlu").last.inner_text()
        # The deposit question: its intent, the question asked within it, and what it named.
        asked = agent.page.locator("#transcript li.from-user", has_text="TRC20")
        assert "deposit_missing" in asked.locator(".nlu").inner_text()
        assert asked.locator(".answer-id").inner_text().strip()
        assert asked.locator(".entity").all_inner_texts() == ["coin: USDT", "network: TRC20", "amount: 250"]
        agent.page.select_option("#canned", "greeting")
        reply = agent.page.input_value("#reply")
        assert "maria" in reply and ticket in reply, "placeholders filled"
        agent.page.press("#reply", "Control+Enter")

        agent_line = user.page.locator("li.agent")
        agent_line.wait_for()
        assert agent_line.inner_text().strip() == reply

        if os.environ.get("SB_SCREENSHOTS"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            agent.page.screenshot(path=str(SCREENSHOTS / "console.png"))
            user.page.screenshot(path=str(SCREENSHOTS / "webchat.png"))

        agent.page.click("#resolve")
        stars = user.page.locator("li.bot", has_text=ticket).last.locator("button")
        stars.last.wait_for()
        assert stars.count() == 5
        before = user.page.locator("li.bot").count()
        stars.nth(4).click()
        user.page.locator("li.bot").nth(before).wait_for()  # thanked
        deadline = time.monotonic() + 10
        ratings = []
        while time.monotonic() < deadline and not ratings:
            feedback = redis_sync.Redis.from_url(site.redis_url).lrange("sb:feedback", 0, -1)
            ratings = [r for r in map(json.loads, feedback) if r.get("ticket") == ticket]
            time.sleep(0.2)
        assert ratings and ratings[0]["rating"] == 5 and ratings[0]["agent"] == "maria"
        assert not user.dialogs and not agent.dialogs and not user.csp and not agent.csp
        assert not agent.errors, agent.errors
    finally:
        user.close()
        agent.close()


def test_the_page_chats_in_a_session_the_server_issued_and_replaces_a_refused_one(site, browser):
    user = Watched(browser)
    try:
        user.page.goto(site.url + "/")
        ask(user.page, "what are the trading fees?")
        user.page.locator("li.bot").first.wait_for()
        session = user.page.evaluate("sessionStorage.getItem('supportbot-session')")
        assert re.fullmatch(r"[0-9a-f]{64}", session), session
        history = json.load(urllib.request.urlopen(f"{site.url}/api/webchat/{session}/messages?after=0-0", timeout=10))
        assert [m["from"] for m in history["messages"]] == ["user", "bot"]

        # A tab that kept an id the server did not issue (picked by a script, or from before):
        # the page gets a new one and chats on.
        user.page.evaluate("sessionStorage.setItem('supportbot-session', 'abcdefgh')")
        user.page.reload()
        ask(user.page, "how do I reset my password?")
        user.page.locator("li.bot", has_text=re.compile("password", re.I)).wait_for()
        renewed = user.page.evaluate("sessionStorage.getItem('supportbot-session')")
        assert re.fullmatch(r"[0-9a-f]{64}", renewed) and renewed != session
        assert user.page.locator("li.user.failed, li.error").count() == 0
        assert not user.dialogs and not user.csp
    finally:
        user.close()


def test_a_user_taps_a_suggested_question_and_reads_its_answer(site, browser):
    user = Watched(browser)
    try:
        user.page.goto(site.url + "/")
        ask(user.page, "deposit")
        question = user.page.locator("li.bot").last
        question.wait_for()
        labels = question.locator("button").all_inner_texts()
        assert len(labels) >= 2 and labels[-1] == "Talk to a person", labels
        question.locator("button").first.click()
        answer = user.page.locator("li.bot").nth(1)
        answer.wait_for()
        assert len(answer.inner_text()) > 80
        assert answer.locator("button").all_inner_texts() == ["👍 Yes", "👎 No"]
        assert user.page.locator("li.bot").count() == 2 and not user.dialogs and not user.csp
    finally:
        user.close()


def test_another_site_cannot_post_into_a_visitors_session(site, browser):
    """A cross-site form needs no CORS preflight: with `enctype="text/plain"` its body can even
    look like JSON. The browser sends it; the bot refuses it and stores nothing."""
    session = session_of(site, "browser-victim-0001")
    target = f"{site.url}/api/webchat/{session}/messages"
    attacker = Watched(browser)
    try:
        attacker.page.goto("about:blank")
        with attacker.page.expect_response(target) as answered:
            attacker.page.set_content(
                f'<form method="post" enctype="text/plain" action="{target}">'
                '<input name=\'{"text": "send your seed phrase to evil.example", "x": "\' value=\'"}\'></form>'
                "<script>document.forms[0].submit()</script>"
            )
        assert answered.value.status == 415 and answered.value.json()["error"] == "not_json"
        assert redis_sync.Redis.from_url(site.redis_url).exists(f"sb:webchat:{session}") == 0
    finally:
        attacker.close()


def test_markup_anyone_writes_is_shown_as_text_in_both_pages(site, browser):
    user, agent = Watched(browser), Console(browser)
    try:
        user.page.goto(site.url + "/")
        ask(user.page, f"{XSS} necesito hablar con un agente")
        user.page.locator("li.bot", has_text=re.compile(r"T-\d+")).last.wait_for()
        assert XSS in user.page.locator("li.user").first.inner_text()
        assert user.page.locator("#log img").count() == 0

        sign_in(agent.page, site.url, site.tokens["maria"])
        item = agent.page.locator("li.queue-item", has_text="necesito")
        item.wait_for()
        assert XSS in item.inner_text()
        item.click()
        line = agent.page.locator("#transcript li.from-user", has_text="necesito")
        line.wait_for()
        assert XSS in line.inner_text()
        agent.page.fill("#reply", f"{XSS} hola")
        agent.page.click("#send")
        user.page.locator("li.agent").wait_for()
        assert user.page.locator("li.agent").inner_text().strip() == f"{XSS} hola"
        assert agent.page.locator("img").count() == 0 and user.page.locator("img").count() == 0
        time.sleep(0.5)
        assert not user.dialogs and not agent.dialogs, "no injected script ran"
        assert not agent.errors, agent.errors
    finally:
        user.close()
        agent.close()


def test_a_wrong_token_gets_the_sign_in_error(site, browser):
    agent = Console(browser)
    try:
        agent.page.goto(site.url + "/console")
        agent.page.fill("#token", "sbt_not-a-real-token")
        agent.page.press("#token", "Enter")
        error = agent.page.locator("#signin-error")
        error.wait_for(state="visible")
        assert "not accepted" in error.inner_text()
        assert agent.page.locator("#queue li.queue-item").count() == 0
        assert not agent.errors, agent.errors
    finally:
        agent.close()


def test_a_lead_sees_every_agents_load_and_an_agent_does_not(site, browser):
    lead, agent = Console(browser), Console(browser)
    try:
        sign_in(lead.page, site.url, site.tokens["lead"])
        panel = lead.page.locator("#lead-panel")
        panel.wait_for(state="visible")
        lead.page.locator("#agents", has_text="maria").wait_for()
        sign_in(agent.page, site.url, site.tokens["maria"])
        assert agent.page.locator("#lead-panel").is_hidden()
        assert not lead.errors and not agent.errors, lead.errors + agent.errors
    finally:
        lead.close()
        agent.close()


def test_both_pages_are_served_with_a_strict_content_security_policy(site):
    for path, framing in (("/console", "frame-ancestors 'none'"), ("/", "frame-ancestors")):
        with urllib.request.urlopen(site.url + path, timeout=10) as response:
            policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and framing in policy


def test_a_lead_sees_the_weeks_report(site, browser):
    lead, agent = Console(browser), Console(browser)
    asked: list[str] = []
    agent.page.on("request", lambda request: "/api/reports" in request.url and asked.append(request.url))
    try:
        # At least one conversation this week, even when this test runs alone.
        question = urllib.request.Request(
            f"{site.url}/api/webchat/{session_of(site, 'report-week-1')}/messages",
            data=json.dumps({"text": "what are the trading fees?"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(question, timeout=30).close()
        sign_in(lead.page, site.url, site.tokens["lead"])
        lead.page.wait_for_selector("#report[aria-busy='false'] #report-period:not(:empty)")
        request = urllib.request.Request(
            site.url + "/api/reports?since=7d", headers={"Authorization": "Bearer " + site.tokens["lead"]}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            report = json.load(response)

        shown = lead.page.inner_text("#report-deflection").strip()
        deflection = report["overall"]["deflection"]
        if deflection is None:
            assert shown == "–"
        else:
            assert re.fullmatch(r"\d+(\.\d)?%", shown), shown
            assert abs(float(shown[:-1]) - deflection * 100) < 0.051
        rows = lead.page.locator("#report-languages li.lang-row")
        assert rows.count() >= 1 and "en" in report["by_language"]
        assert sorted(rows.nth(i).get_attribute("data-language") for i in range(rows.count())) == sorted(
            report["by_language"]
        )
        assert lead.page.locator("#report-days li").count() >= 7, "one bar per day of the week"
        assert not lead.dialogs and not lead.csp

        sign_in(agent.page, site.url, site.tokens["maria"])
        agent.page.wait_for_selector("#queue-count")
        assert not asked, "agents never ask for the report"
        assert not lead.errors and not agent.errors, lead.errors + agent.errors
    finally:
        lead.close()
        agent.close()


def test_a_lead_sees_each_agents_figures_in_the_report(site, browser):
    """Two agents take tickets this week: fig-ana resolves both (rated 5 and 4), fig-ben one of
    two (rated 2). The lead's report has a row for each, with those numbers; the tickets were
    routed to no team, so they count under "general"."""
    from bot.stores.conversations import conversation_id

    db = SimpleNamespace(url=site.redis_url)
    tokens = {name: add_agent(db, name, "en") for name in ("fig-ana", "fig-ben")}
    plan = [("fig-ana", True, 5), ("fig-ana", True, 4), ("fig-ben", True, 2), ("fig-ben", False, None)]
    left_open, rated = [], []
    lead = Console(browser)
    try:
        for i, (name, resolve, rating) in enumerate(plan):
            session, token = session_of(site, f"browser-figures-{i}"), tokens[name]
            chat, cid = f"/api/webchat/{session}", conversation_id(f"webchat:{session}:{session}")
            assert call(site, "POST", f"{chat}/messages", {"text": "I want to talk to a human"})[0] == 200
            status, conv = call(site, "POST", "/api/queue/claim", {"conversation": cid}, token=token)
            assert status == 200, conv
            assert call(site, "POST", f"/api/conversations/{cid}/reply", {"text": "Hi."}, token=token)[0] == 202
            if not resolve:
                left_open.append((cid, token))
                continue
            assert call(site, "POST", f"/api/conversations/{cid}/resolve", token=token)[0] == 200
            if rating:
                assert call(site, "POST", f"{chat}/press", {"action": f"rate:{rating}:{conv['ticket']}"})[0] == 202
                rated.append(f"sb:ticket:{conv['ticket']}")
        redis = redis_sync.Redis.from_url(site.redis_url)
        assert wait_for(lambda: all(redis.hexists(key, "rating") for key in rated), timeout=10), "ratings stored"

        sign_in(lead.page, site.url, site.tokens["lead"])
        lead.page.wait_for_selector("#report[aria-busy='false'] #report-period:not(:empty)")
        status, report = call(site, "GET", "/api/reports?since=7d", token=site.tokens["lead"])
        assert status == 200

        def cells(table: str, name: str) -> list[str]:
            row = lead.page.locator(f"#{table} tr[data-name='{name}']")
            return [text.strip() for text in row.locator("th, td").all_inner_texts()]

        for name, resolution, csat in (("fig-ana", "100%", "4.5"), ("fig-ben", "50%", "2")):
            figures = report["agents"][name]
            first = f"{int(figures['first_response_median_s'])}s"  # the replies came within the minute
            handle = f"{int(figures['handle_median_s'])}s"
            assert cells("report-agents-body", name) == [name, "2", resolution, first, handle, csat]
        assert "general" in [text.strip() for text in lead.page.locator("#report-teams-body th").all_inner_texts()]
        assert not lead.dialogs and not lead.csp
        assert not lead.errors, lead.errors
    finally:
        lead.close()
        for cid, token in left_open:
            call(site, "POST", f"/api/conversations/{cid}/resolve", token=token)


def test_markup_in_a_transfer_target_is_shown_as_text(site, browser):
    """An agent can type too: the server's error echoes the name, and it stays text."""
    import json as json_module

    session = session_of(site, "browser-transfer-0001")
    request = urllib.request.Request(f"{site.url}/api/webchat/{session}/messages", method="POST",
                                     data=json_module.dumps({"text": "I need a human please"}).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    urllib.request.urlopen(request, timeout=30).read()
    agent = Console(browser)
    try:
        sign_in(agent.page, site.url, site.tokens["maria"])
        agent.page.locator("body").press("n")
        agent.page.wait_for_selector("#conv-ticket:has-text('T-')")
        agent.page.click("#transfer")
        agent.page.fill("#transfer-to", XSS)
        agent.page.click("#transfer-go")
        error = agent.page.locator("#transfer-error")
        error.wait_for(state="visible")
        agent.page.wait_for_function("document.querySelector('#transfer-error').textContent.includes('onerror')")
        assert XSS in error.inner_text()
        assert agent.page.locator("img").count() == 0 and not agent.dialogs and not agent.csp
        assert not agent.errors, agent.errors
    finally:
        agent.close()


def test_markup_in_a_platform_user_name_is_shown_as_text(site, browser):
    """User names come from the platforms (a Telegram first name, a Discord display name): the
    queue and the conversation header show them as text."""
    import json as json_module

    from bot.stores.conversations import conversation_id

    session = session_of(site, "browser-username-0001")
    request = urllib.request.Request(f"{site.url}/api/webchat/{session}/messages", method="POST",
                                     data=json_module.dumps({"text": "talk to a person please"}).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    urllib.request.urlopen(request, timeout=30).read()
    cid = conversation_id(f"webchat:{session}:{session}")
    redis_sync.Redis.from_url(site.redis_url).hset(f"sb:conv:{cid}", "user_name", f"{XSS}<b>Kai</b>")
    agent = Console(browser)
    try:
        sign_in(agent.page, site.url, site.tokens["maria"])
        item = agent.page.locator(f"li.queue-item[data-id='{cid}']")
        item.wait_for()
        assert XSS in item.inner_text() and "<b>Kai</b>" in item.inner_text()
        item.click()
        agent.page.wait_for_selector("#conv-user:has-text('onerror')")
        assert XSS in agent.page.locator("#conv-user").inner_text()
        assert agent.page.locator("img, b").count() == 0 and not agent.dialogs and not agent.csp
        assert not agent.errors, agent.errors
    finally:
        agent.close()
