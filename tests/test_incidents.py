"""Incident mode against the real bot process and Redis: a lead declares one over the API, the
bot answers its topic with the status message in the user's language, groups hand-offs on it
instead of queueing them, tells the group when it ends, and suggests incidents on spikes."""

from __future__ import annotations

import time

import pytest

from tests.helpers import add_agent, call, say, session_of

STATUS = {
    "en": "Known issue: TRC20 withdrawals are delayed by network congestion. Funds are safe; ETA 2 hours.",
    "zh": "已知问题：TRC20 提现因网络拥堵延迟，资金安全，预计2小时内恢复。",
}


@pytest.fixture(scope="module")
def lead(redis_server):
    return add_agent(redis_server, "lead-incidents", "en,zh", role="lead")


def later_messages(bot, session: str, after: str) -> list[dict]:
    return call(bot, "GET", f"/api/webchat/{session_of(bot, session)}/messages?after={after}&wait=10")[1]["messages"]


def test_only_leads_declare_incidents_and_bad_ones_are_refused(bot, redis_server, lead):
    agent = add_agent(redis_server, "agent-incidents", "en")
    body = {"intents": ["withdrawal_pending"], "status": STATUS}
    assert call(bot, "POST", "/api/incidents", body, token=agent)[0] == 403
    assert call(bot, "POST", "/api/incidents", {"intents": ["nope"], "status": STATUS}, token=lead)[0] == 400
    assert call(bot, "POST", "/api/incidents", {"intents": ["fees"], "status": {"xx": "?"}}, token=lead)[0] == 400


def test_an_incident_answers_its_topic_in_two_languages_and_groups_hand_offs(bot, lead):
    status, incident = call(bot, "POST", "/api/incidents", {"intents": ["withdrawal_pending"], "status": STATUS},
                            token=lead)  # fmt: skip
    assert status == 201
    try:
        _, en = say(bot, "incident-en-0001", "my usdt withdrawal is stuck on pending for hours")
        assert en["replies"][0]["text"] == STATUS["en"]
        _, zh = say(bot, "incident-zh-0001", "提现一直在处理中 怎么回事")
        assert zh["replies"][0]["text"] == STATUS["zh"]
        _, other = say(bot, "incident-en-0002", "what are the trading fees?")
        assert other["replies"][0]["text"] != STATUS["en"] and "fee" in other["replies"][0]["text"].lower()

        # Asking for a person about it: grouped on the incident, not a ticket in the queue.
        _, person = say(bot, "incident-en-0001", "I want to talk to a human")
        text = person["replies"][0]["text"]
        assert text.startswith(STATUS["en"]) and "T-" not in text
        queue = call(bot, "GET", "/api/queue", token=lead)[1]["queue"]
        listed = call(bot, "GET", "/api/incidents", token=lead)[1]["incidents"]
        grouped = next(i for i in listed if i["id"] == incident["id"])["grouped"]
        assert len(grouped) == 1 and grouped[0] not in {item["id"] for item in queue}
    finally:
        final = {"en": "TRC20 withdrawals are flowing again. Thanks for your patience!"}
        status, ended = call(bot, "DELETE", f"/api/incidents/{incident['id']}", {"final": final}, token=lead)
    assert status == 200 and ended["told"] == 1
    told = [m["text"] for m in later_messages(bot, "incident-en-0001", person["cursor"])]
    assert told == [final["en"]]
    _, after = say(bot, "incident-en-0003", "my withdrawal is stuck on pending")
    assert after["replies"][0]["text"] != STATUS["en"], "over: the usual answer again"


def test_a_spike_of_one_question_suggests_an_incident_to_leads(bot, lead):
    for n in range(12):
        say(bot, f"spike-user-{n:04d}", "deposit not credited yet, where is my usdt??")
    spike = None
    for _ in range(30):  # the counts reach Redis in batches, every half second
        suggestions = call(bot, "GET", "/api/incidents", token=lead)[1]["suggestions"]
        spike = next((s for s in suggestions if s["intent"] == "deposit_missing"), None)
        if spike:
            break
        time.sleep(0.2)
    assert spike and spike["count"] >= 10 and spike["minutes"] == 5


def test_feedback_and_phishing_reports_are_filed_for_leads(bot, redis_server, lead):
    say(bot, "filed-user-0001", "pls add a dark mode to the app, the chart page is too bright")
    say(bot, "filed-user-0002", "is examp1e-x-support.com legit? @ExampleX_Help_Desk DMed me a link https://bit.ly/3xamp")
    items = call(bot, "GET", "/api/feedback-items", token=lead)[1]["items"]
    assert "dark mode" in items[0]["text"] and items[0]["platform"] == "webchat"
    report = call(bot, "GET", "/api/phishing-reports", token=lead)[1]["reports"][0]
    assert set(report["links"]) == {"examp1e-x-support.com", "https://bit.ly/3xamp"}
    assert report["handles"] == ["@ExampleX_Help_Desk"]
    agent = add_agent(redis_server, "agent-filed", "en")
    assert call(bot, "GET", "/api/phishing-reports", token=agent)[0] == 403
