"""The weekly report from real traffic: the bot process and its own Redis database, users on
the web chat, an agent over the API; then `python -m bot report` and /api/reports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
import redis as redis_sync
from PIL import Image

from tests.conftest import ROOT, BotProcess
from tests.helpers import add_agent, call, session_of

CHARTS = ("messages_per_day.png", "outcomes_by_language.png", "top_intents.png", "csat.png")


def say(site, session: str, text: str) -> dict:
    status, body = call(site.bot, "POST", f"/api/webchat/{session_of(site.bot, session)}/messages", {"text": text})
    assert status == 200
    return body


def press(site, session: str, action: str) -> None:
    assert call(site.bot, "POST", f"/api/webchat/{session_of(site.bot, session)}/press", {"action": action})[0] == 202


@pytest.fixture(scope="module")
def site(tmp_path_factory, redis_server, model_path):
    """Six web chat users: three answered, one unsure, two handed to a person who replies and
    resolves; the two rate 5 and 3, one answered user finds the answer helpful."""
    url = redis_server.url.rsplit("/", 1)[0] + "/10"
    redis_sync.Redis.from_url(url).flushdb()
    bot = BotProcess(url, tmp_path_factory.mktemp("reports") / "bot.log").start()
    site = SimpleNamespace(bot=bot, url=url)
    say(site, "report-en-fees", "how much is the withdrawal fee for USDT on TRC20?")
    press(site, "report-en-fees", "helpful:yes")
    say(site, "report-en-pass", "how do I reset my password")
    say(site, "report-es-kyc", "¿cómo verifico mi identidad?")
    say(site, "report-en-unsure", "question about google and the network memo")
    agent = add_agent(SimpleNamespace(url=url), "rita", "en,es")
    for session, text, rating in (("report-en-human", "I want to talk to a human", 5),
                                  ("report-es-human", "necesito hablar con un agente", 3)):  # fmt: skip
        say(site, session, text)
        status, conv = call(bot, "POST", "/api/queue/claim", {}, token=agent)
        assert status == 200
        assert call(bot, "POST", f"/api/conversations/{conv['id']}/reply", {"text": "Hi, Rita here."},
                    token=agent)[0] == 202  # fmt: skip
        assert call(bot, "POST", f"/api/conversations/{conv['id']}/resolve", token=agent)[0] == 200
        press(site, session, f"rate:{rating}:{conv['ticket']}")
    site.lead = add_agent(SimpleNamespace(url=url), "lena-reports", "en", role="lead")
    yield site
    bot.stop()


def test_the_report_has_the_numbers_of_the_traffic(site):
    status, report = call(site.bot, "GET", "/api/reports?since=1d", token=site.lead)
    assert status == 200
    overall = report["overall"]
    assert overall["conversations"] == 6 and overall["handoff_rate"] == round(2 / 6, 4)
    assert overall["deflection"] == round(4 / 6, 4)
    assert overall["tickets"] == 2 and overall["sla_kept"] == 1.0 and overall["first_response_median_s"] is not None
    assert overall["csat"] == 4.0 and overall["csat_satisfied"] == 0.5 and overall["helpful"] == 1.0
    assert report["by_language"]["es"]["conversations"] == 2 and report["by_language"]["es"]["handoff_rate"] == 0.5
    assert report["by_platform"]["webchat"]["conversations"] == 6
    assert {"fees", "password_reset", "kyc_verification", "human_agent"} <= {i for i, _ in report["top_intents"]}
    assert "fees/withdrawal_fees" in {a for a, _ in report["top_answers"]}
    assert report["entities"]["coin"] == [["USDT", 1]] and report["entities"]["network"] == [["TRC20", 1]]
    assert [text for text, _ in report["unanswered"]] == ["question about google and the network memo"]
    assert call(site.bot, "GET", "/api/reports?since=nonsense", token=site.lead)[0] == 400
    agent = add_agent(SimpleNamespace(url=site.url), "not-a-lead", "en")
    assert call(site.bot, "GET", "/api/reports", token=agent)[0] == 403


def test_the_command_prints_a_summary_and_writes_valid_charts_with_their_numbers(site, tmp_path):
    done = subprocess.run([sys.executable, "-m", "bot", "report", "--since", "7d", "--out", str(tmp_path)],
                          cwd=ROOT, env={**os.environ, "REDIS_URL": site.url}, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert re.search(r"deflection 66\.7%, hand-off rate 33\.3%", done.stdout)
    assert "CSAT 4.0 / 5 from 2 ratings (50.0% satisfied)" in done.stdout
    for name in CHARTS:
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.width > 300 and image.height > 200
    behind = json.loads((tmp_path / "report.json").read_text())
    assert behind["ratings"] == {"3": 1, "5": 1}
    assert sum(sum(day.values()) for day in behind["messages_per_day"].values()) == behind["overall"]["messages"]
    assert behind["by_language"]["en"]["conversations"] == 4


def test_a_bad_period_is_refused_clearly(site):
    done = subprocess.run([sys.executable, "-m", "bot", "report", "--since", "a week"], cwd=ROOT, timeout=120,
                          env={**os.environ, "REDIS_URL": site.url}, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 2 and "expected a number and a unit" in done.stderr
