"""Routing end to end (issue 19): the real bot process on a real Redis, web chat users, agents on
the agent API. An urgent hand-off reaches a security agent (offered, and on to the next one when
not accepted in time), a deposit question's "a person, please" overflows from payments to the
general team when no one is there, a user who comes back goes to the agent who helped them, a
team out of hours says when it opens, and no agent takes more than their maximum."""

from __future__ import annotations

import datetime
import shutil
import time
from types import SimpleNamespace

import pytest
import redis as redis_sync
import yaml

from tests.conftest import CHROMIUM, ROOT, BotProcess
from tests.helpers import add_agent, call, say, wait_for
from tests.test_browser import Console, sign_in

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TOMORROW = WEEKDAYS[(datetime.datetime.now(datetime.timezone.utc).weekday() + 1) % 7]
TEAMS = [
    {"name": "security", "lanes": ["urgent"], "intents": ["account_compromised"], "auto_assign": True},
    {"name": "payments", "intents": ["deposit_missing", "withdrawal_pending"]},
    {"name": "disputes", "intents": ["complaint"], "hours": {"timezone": "UTC", "days": [TOMORROW],
                                                               "from": "09:00", "to": "10:00"}},
    {"name": "general"},
]  # fmt: skip


@pytest.fixture(scope="module")
def site(redis_server, model_path, tmp_path_factory):
    """The bot with four teams (on a Redis database of its own) and its agents."""
    workdir = tmp_path_factory.mktemp("routing")
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["web"]["rate_per_ip_minute"] = 1_000_000
    config["routing"] = {"fallback_team": "general", "overflow_seconds": 2, "accept_seconds": 3,
                         "return_to_last_agent_minutes": 60, "teams": TEAMS}  # fmt: skip
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    url = redis_server.url.rsplit("/", 1)[0] + "/15"
    redis_sync.Redis.from_url(url).flushdb()
    bot = BotProcess(url, workdir / "bot.log", workdir / "config.yml").start()
    on_db = SimpleNamespace(url=url)  # add_agent's Redis: the bot's database
    tokens = {name: add_agent(on_db, name, "en", teams=teams, max_open=most)
              for name, teams, most in (("sec1", "security", None), ("sec2", "security", None),
                                        ("gen", "general", 1))}  # fmt: skip
    tokens["lead"] = add_agent(on_db, "lead", "en", role="lead")
    yield bot, tokens
    bot.stop()


def ticket_in(body: dict) -> str:
    text = " ".join(reply["text"] for reply in body["replies"])
    return next(word.strip(".,:;()·") for word in text.split() if word.startswith("T-"))


def held_by(bot, token: str, ticket: str) -> dict | None:
    """The agent's conversation with `ticket`, if they hold it (GET /api/me is also their heartbeat)."""
    _, me = call(bot, "GET", "/api/me", token=token)
    return next((c for c in me["conversations"] if c["ticket"] == ticket), None)


def waiting(bot, token: str, ticket: str) -> dict | None:
    _, queue = call(bot, "GET", "/api/queue", token=token)
    return next((c for c in queue["queue"] if c["ticket"] == ticket), None)


def test_an_urgent_hand_off_is_offered_to_a_security_agent_and_moves_on_when_not_accepted(site):
    bot, tokens = site
    for name in ("sec1", "sec2", "gen"):
        call(bot, "GET", "/api/me", token=tokens[name])  # on shift
    status, body = say(bot, "route-hacked", "someone logged into my account and withdrew all my usdt, it wasn't me")
    assert status == 200 and body["action"] == "handoff"
    ticket = ticket_in(body)
    first = wait_for(lambda: next((n for n in ("sec1", "sec2") if held_by(bot, tokens[n], ticket)), None), 10)
    offered = held_by(bot, tokens[first], ticket)
    assert offered["team"] == "security" and offered["offered"] is True
    assert call(bot, "POST", "/api/queue/claim", {}, token=tokens["gen"])[0] == 204, "nothing for general"
    assert held_by(bot, tokens["gen"], ticket) is None
    other = "sec2" if first == "sec1" else "sec1"
    # Not accepted within 3 s: it goes to the other security agent (never to general).
    moved = wait_for(lambda: held_by(bot, tokens[other], ticket), 15)
    assert moved["offered"] is True and held_by(bot, tokens[first], ticket) is None
    assert call(bot, "POST", f"/api/conversations/{moved['id']}/accept", token=tokens[other])[0] == 200
    time.sleep(4)  # past another accept period: accepted, it stays
    assert held_by(bot, tokens[other], ticket)["offered"] is False
    _, conv = call(bot, "GET", f"/api/conversations/{moved['id']}", token=tokens[other])
    assert any(f"not accepted in time by {first}" in line["text"] for line in conv["transcript"])


def test_a_person_asked_for_after_a_deposit_question_waits_for_payments_then_overflows(site):
    bot, tokens = site
    say(bot, "route-deposit", "my deposit hasn't arrived yet")
    status, body = say(bot, "route-deposit", "I want to talk to a real person")
    assert status == 200 and body["action"] == "handoff"
    ticket = ticket_in(body)
    entry = wait_for(lambda: waiting(bot, tokens["lead"], ticket), 5)
    assert entry["team"] in ("payments", "general")  # no one in payments: it overflows after 2 s
    entry = wait_for(lambda: (lambda e: e if e and e["team"] == "general" else None)(
        waiting(bot, tokens["lead"], ticket)), 15)  # fmt: skip
    assert entry["overflowed_from"] == "payments"
    _, conv = call(bot, "GET", f"/api/conversations/{entry['id']}", token=tokens["lead"])
    assert any("overflowed from payments to general" in line["text"] for line in conv["transcript"])
    status, claimed = call(bot, "POST", "/api/queue/claim", {"conversation": entry["id"]}, token=tokens["gen"])
    assert status == 200 and claimed["agent"] == "gen"
    call(bot, "POST", f"/api/conversations/{entry['id']}/reply", {"text": "Hi, I'm on it."}, token=tokens["gen"])
    assert call(bot, "POST", f"/api/conversations/{entry['id']}/resolve", token=tokens["gen"])[0] == 200


def test_a_returning_user_goes_back_to_their_agent_and_an_agent_at_their_maximum_claims_nothing(site):
    bot, tokens = site
    status, body = say(bot, "route-deposit", "I need a person again please, it still has not arrived")
    assert status == 200 and "helped you last time" in " ".join(r["text"] for r in body["replies"])
    ticket = ticket_in(body)
    assert held_by(bot, tokens["gen"], ticket)["agent"] == "gen"
    _, other = say(bot, "route-other", "I want to talk to a real person")
    assert waiting(bot, tokens["lead"], ticket_in(other))["team"] == "general"
    status, refused = call(bot, "POST", "/api/queue/claim", {}, token=tokens["gen"])
    assert status == 409 and refused["error"] == "at_capacity", "gen holds 1 of 1"


def test_a_team_out_of_hours_says_when_a_person_will_answer_and_keeps_the_place_in_line(site):
    bot, tokens = site
    status, body = say(bot, "route-dispute", "this is the worst service ever, I demand compensation for my losses")
    assert status == 200 and body["action"] == "handoff"
    text = " ".join(reply["text"] for reply in body["replies"])
    assert "09:00 (UTC)" in text and "keeps its place in line" in text, text
    entry = waiting(bot, tokens["lead"], ticket_in(body))
    assert entry["team"] == "disputes"
    assert waiting(bot, tokens["gen"], ticket_in(body)) is None, "agents see their own teams' queue"
    status, teams = call(bot, "GET", "/api/teams", token=tokens["gen"])
    disputes = next(t for t in teams["teams"] if t["name"] == "disputes")
    assert status == 200 and disputes["open"] is False and disputes["waiting"] >= 1


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (make test installs it)")
def test_presence_offers_and_the_leads_table_in_the_console(site, browser):
    """In Chromium: an agent accepts what is offered to them, goes away by choice and by being
    idle (no new work then), and the lead's table shows each agent's teams and presence."""
    bot, tokens = site
    call(bot, "POST", "/api/me/presence", {"presence": "away"}, token=tokens["sec2"])
    agent, lead = Console(browser), Console(browser)
    try:
        agent.page.clock.install()
        sign_in(agent.page, bot.url, tokens["sec1"])
        sign_in(lead.page, bot.url, tokens["lead"])
        assert agent.page.input_value("#presence") == "online"
        _, body = say(bot, "route-console", "someone logged into my account and withdrew all my usdt, it wasn't me")
        ticket = ticket_in(body)
        offered = agent.page.locator("#mine li.is-offered", has_text=ticket)
        offered.wait_for(timeout=15000)
        offered.locator("button.accept").click()
        agent.page.locator("#mine li.is-offered", has_text=ticket).wait_for(state="detached")
        assert held_by(bot, tokens["sec1"], ticket)["offered"] is False
        agent.page.select_option("#presence", "offline")
        row = lead.page.locator("#agents-body tr[data-name='sec1']")
        wait_for(lambda: "Offline" in row.inner_text(), 20)
        assert "security" in row.inner_text()
        agent.page.select_option("#presence", "online")
        wait_for(lambda: call(bot, "GET", "/api/me", token=tokens["sec1"])[1]["presence"] == "online", 10)
        agent.page.clock.fast_forward("11:00")  # 11 minutes with no activity (away after 10)
        wait_for(lambda: agent.page.input_value("#presence") == "away", 10)
        assert call(bot, "GET", "/api/me", token=tokens["sec1"])[1]["presence"] == "away"
        assert not agent.errors and not lead.errors, agent.errors + lead.errors
    finally:
        agent.context.close()
        lead.context.close()
