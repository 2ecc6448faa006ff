"""Exactly-once replies (issue 16): every message with an idempotency key (the web chat page's
client id here) is answered once, whatever crashes in between: a resend after a lost response,
a Redis outage, `kill -9` of the bot or of Redis in the middle of a flood. The clients behave
like the page: a message that was refused (503) or got no answer is sent again with the same
client id until the bot takes it. A bot and a Redis (AOF, fsync always) of their own."""

from __future__ import annotations

import http.client
import threading
import time
import uuid
from collections import Counter

import pytest
import yaml

from tests.conftest import ROOT, BotProcess, RedisServer
from tests.helpers import Watched, call, session_of, wait_for

QUESTIONS = ("how long does a withdrawal take?", "what are the withdrawal fees?", "how do i enable 2fa?",
             "how do i reset my password?", "what is the minimum deposit?")  # fmt: skip
UNAVAILABLE_EN = yaml.safe_load((ROOT / "data/replies/en.yml").read_text())["error_unavailable"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, model_path):
    workdir = tmp_path_factory.mktemp("once")
    redis = RedisServer(workdir, appendonly=True, appendfsync="always").start()
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["limits"]["redelivery_seconds"] = 2
    config["web"]["rate_per_ip_minute"] = 1_000_000
    config["web"]["rate_per_session_minute"] = 1_000
    config_path = workdir / "config.yml"
    config_path.write_text(yaml.safe_dump(config))
    bot = BotProcess(redis.url, workdir / "bot.log", config_path).start()
    yield {"redis": redis, "bot": bot}
    bot.stop()
    redis.stop()


def send(bot, session: str, text: str, client_id: str) -> tuple[int, dict]:
    """One POST as the page sends it; (0, {}) when no whole answer came (the bot was down, or
    its worker was killed while writing the answer: the page sends again either way)."""
    try:
        return call(bot, "POST", f"/api/webchat/{session_of(bot, session)}/messages",
                    {"text": text, "client_id": client_id})
    except (OSError, http.client.HTTPException):  # IncompleteRead is no OSError
        return 0, {}


def send_until_taken(bot, session: str, text: str, client_id: str, give_up: float = 120) -> dict:
    """What the page does: resend with the same client id until the bot takes the message."""
    deadline = time.monotonic() + give_up
    while time.monotonic() < deadline:
        status, body = send(bot, session, text, client_id)
        if status == 200:
            return body
        time.sleep(0.3)
    raise AssertionError(f"{client_id} was never taken")


def answers_by_client(bot, session: str) -> Counter:
    """How many bot lines answer each of the session's messages (by the page's client id): an
    answer given at once names its question's line; one recovered after a crash its client id."""
    status, body = call(bot, "GET", f"/api/webchat/{session_of(bot, session)}/messages?after=0-0")
    assert status == 200
    lines = body["messages"]
    client_of = {line["id"]: line.get("client_id") for line in lines if line["from"] == "user"}
    return Counter(line.get("answers") or client_of.get(line.get("reply_to")) for line in lines
                   if line["from"] == "bot")  # fmt: skip



def test_a_resent_message_is_answered_once(stack):
    bot = stack["bot"]
    session, client_id = "once-resend-0001", uuid.uuid4().hex
    status, first = send(bot, session, "how do i enable 2fa?", client_id)
    status_again, again = send(bot, session, "how do i enable 2fa?", client_id)
    assert (status, first["action"]) == (200, "answer") and first["replies"]
    assert (status_again, again["duplicate"], again["replies"]) == (200, True, [])
    status, history = call(bot, "GET", f"/api/webchat/{session_of(bot, session)}/messages?after=0-0")
    assert [line["from"] for line in history["messages"]] == ["user", "bot"]


def test_during_a_redis_outage_the_user_is_told_the_truth_and_the_resend_is_answered_once(stack):
    bot, server = stack["bot"], stack["redis"]
    session, client_id = "once-outage-0001", uuid.uuid4().hex
    server.stop()
    try:
        status, refused = send(bot, session, "what are the withdrawal fees?", client_id)
    finally:
        server.start()
    assert (status, refused["error"]) == (503, "unavailable")
    assert refused["reply"] == UNAVAILABLE_EN and "got your message" not in refused["reply"].lower()
    assert "not" in refused["message"], "the API says the message was not taken"
    body = send_until_taken(bot, session, "what are the withdrawal fees?", client_id)
    assert body["replies"] or body.get("duplicate")
    assert wait_for(lambda: answers_by_client(bot, session), timeout=60) == Counter({client_id: 1})


def flood(bot, sessions: int, per_session: int, crash) -> dict[str, list[str]]:
    """`sessions` users each send `per_session` questions in order, as the page does, while
    `crash` runs once a few messages in; their client ids by session."""
    sent: dict[str, list[str]] = {f"once-flood-{uuid.uuid4().hex[:12]}": [] for _ in range(sessions)}
    for session in sent:
        session_of(bot, session)  # issued before the crash

    def user(session: str) -> None:
        for n in range(per_session):
            client_id = uuid.uuid4().hex
            sent[session].append(client_id)
            send_until_taken(bot, session, QUESTIONS[n % len(QUESTIONS)], client_id)

    threads = [threading.Thread(target=user, args=(session,)) for session in sent]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    crash()
    for thread in threads:
        thread.join(timeout=300)
    return sent


def count_answers(bot, sent: dict[str, list[str]]) -> tuple[int, int, int]:
    """(messages, answered exactly once, answered more than once), once every message has an answer."""
    def all_answered() -> dict[str, Counter] | None:
        found = {session: answers_by_client(bot, session) for session in sent}
        complete = all(found[s][c] for s, ids in sent.items() for c in ids)
        return found if complete else None

    found = wait_for(all_answered, timeout=90) or {session: answers_by_client(bot, session) for session in sent}
    time.sleep(3)  # anything late (a second recovery) would show by now
    found = {session: answers_by_client(bot, session) for session in sent}
    counts = [found[s][c] for s, ids in sent.items() for c in ids]
    return len(counts), sum(1 for n in counts if n == 1), sum(1 for n in counts if n > 1)


def test_kill_9_of_the_bot_mid_flood_answers_every_message_exactly_once(stack):
    bot = stack["bot"]

    def crash() -> None:
        bot.process.kill()
        bot.process.wait()
        bot.start()

    sent = flood(bot, sessions=8, per_session=12, crash=crash)
    total, once, twice = count_answers(bot, sent)
    print(f"kill -9 of the bot: {total} messages, {once} answered once, {twice} more than once")
    assert (once, twice) == (total, 0)


def test_kill_9_of_redis_mid_flood_answers_every_message_exactly_once(stack):
    bot, server = stack["bot"], stack["redis"]

    def crash() -> None:
        server.process.kill()  # no shutdown: what the AOF has (fsync always) is what survives
        server.process.wait()
        time.sleep(1)
        server.start()

    sent = flood(bot, sessions=8, per_session=12, crash=crash)
    total, once, twice = count_answers(bot, sent)
    print(f"kill -9 of Redis: {total} messages, {once} answered once, {twice} more than once")
    assert (once, twice) == (total, 0)
    assert len({c for ids in sent.values() for c in ids}) == total


def test_the_page_keeps_a_message_the_bot_could_not_take_and_sends_it_again(stack, browser):
    """In Chromium: during a Redis outage the page says so (not "got your message"), keeps the
    line, and once Redis is back the message is answered, once, under its question."""
    bot, server = stack["bot"], stack["redis"]
    user = Watched(browser)
    try:
        user.page.goto(bot.url + "/")
        user.page.wait_for_timeout(500)  # the history was read: the page polls for news
        server.stop()
        try:
            user.page.fill("#text", "how long does a withdrawal take?")
            user.page.press("#text", "Enter")
            notice = user.page.locator("#log li.error")
            notice.wait_for(timeout=15_000)
            assert notice.inner_text().strip() == UNAVAILABLE_EN
            assert user.page.locator("#log li.user.retrying").count() == 1
        finally:
            server.start()
        user.page.locator("#log li.bot").first.wait_for(timeout=30_000)
        user.page.wait_for_timeout(2000)
        lines = user.page.eval_on_selector_all("#log li", "items => items.map(i => i.className)")
        assert lines == ["user", "bot"], lines
        assert not user.dialogs and not user.csp
    finally:
        user.close()
