"""The web chat page when the user types fast: Debian's Chromium driven by Playwright, against
the real bot process and Redis. Every line shows exactly once, each reply right under the
question it answers (q1, r1, q2, r2, ...), and a reload shows the same."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest
import redis as redis_sync
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import CHROMIUM, BotProcess
from tests.helpers import Watched, session_of

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (make test installs it)")

QUESTIONS = [
    "hello",
    "how do I reset my password",
    "what are the fees",
    "thanks",
    "my deposit has not arrived",
]
# What the page shows: each line's kind and text, top to bottom (a pending line counts too).
LINES = """els => els.map(e => [e.className, e.querySelector('.text') ? e.querySelector('.text').textContent : ''])"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, redis_server, model_path):
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/11"  # this module's own database
    redis_sync.Redis.from_url(redis_url).flushdb()
    bot = BotProcess(redis_url, tmp_path_factory.mktemp("webchat-order") / "bot.log").start()
    yield bot
    bot.stop()


@pytest.fixture(scope="module")
def expected(site) -> list[list[str]]:
    """The conversation as the API gives it when each question waits for its answer: a fresh
    session asked the same questions one by one, [question, reply, ...] per question."""
    conversation = []
    for question in QUESTIONS:
        request = urllib.request.Request(
            f"{site.url}/api/webchat/{session_of(site, 'order-reference-0001')}/messages", method="POST",
            data=json.dumps({"text": question}).encode(), headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
        replies = [reply["text"] for reply in body["replies"]]
        assert replies, f"the bot answers {question!r}"
        conversation.append([body["message"]["text"], *replies])
    replies = [text for group in conversation for text in group[1:]]
    assert len(set(replies)) == len(replies), f"the test needs a different reply to each question: {replies}"
    return conversation


def shown(page) -> list[tuple[str, str]]:
    return [(kind, text) for kind, text in page.eval_on_selector_all("#log > li", LINES)]


def wait_for_every_reply(page, count: int) -> None:
    page.wait_for_function("n => document.querySelectorAll('#log li.bot').length >= n", arg=count, timeout=30_000)
    try:
        page.wait_for_function("() => !document.querySelector('#log li.pending')", timeout=5_000)
    except PlaywrightTimeout:
        pass  # a line left pending fails the comparison below, which shows the whole page
    page.wait_for_timeout(1500)  # a line drawn twice, or late, would show by now


def assert_in_order(page, expected: list[list[str]]) -> None:
    lines = shown(page)
    texts = [text for _, text in lines]
    for group in expected:
        for text in group:
            assert texts.count(text) == 1, f"{text!r} is shown {texts.count(text)} times: {lines}"
    want = [("user" if i == 0 else "bot", text) for group in expected for i, text in enumerate(group)]
    assert lines == want, "each reply right under its own question"


@pytest.mark.parametrize("gap_ms", [300, 0], ids=["300ms-apart", "no-delay"])
def test_fast_typing_shows_each_reply_under_its_question_once(site, browser, expected, gap_ms):
    user = Watched(browser)
    try:
        user.page.goto(site.url + "/")
        for question in QUESTIONS:
            user.page.fill("#text", question)
            user.page.press("#text", "Enter")
            if gap_ms:
                user.page.wait_for_timeout(gap_ms)
        wait_for_every_reply(user.page, sum(len(group) - 1 for group in expected))
        assert_in_order(user.page, expected)

        user.page.reload()
        user.page.wait_for_function(
            "n => document.querySelectorAll('#log > li').length >= n", arg=sum(map(len, expected)), timeout=15_000
        )
        user.page.wait_for_timeout(1000)
        assert_in_order(user.page, expected)
        assert not user.dialogs and not user.csp
    finally:
        user.close()
