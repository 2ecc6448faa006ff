"""X end to end: real tweepy in the real bot process (one, then two replicas), against a
stand-in API v2 server on 127.0.0.1, with the real pipeline and Redis. No X host is ever
called."""

from __future__ import annotations

import re
import threading
import time
from types import SimpleNamespace

import pytest
import redis as redis_sync
import yaml

from adapters.x_posts import FILE_NOT_CARRIED, thread_posts, weighted_length, with_files_noted
from tests.agent_files import PDF, reply_with_files
from tests.conftest import ROOT, BotProcess, stored_text
from tests.helpers import X_CREDENTIALS, add_agent, call
from tests.standins import x_api
from tests.standins.x_api import BOT_USER_ID, XStandIn


class XBots:
    """The stand-in and the bot replicas that poll it, all on this module's Redis database."""

    def __init__(self, standin: XStandIn, redis_url: str, workdir) -> None:
        self.standin = standin
        self.redis_url = redis_url
        self.workdir = workdir
        self.replicas: list[BotProcess] = []

    def start_replica(self) -> BotProcess:
        log = self.workdir / f"bot-{len(self.replicas)}.log"
        bot = BotProcess(self.redis_url, log, self.workdir / "config.yml", env=X_CREDENTIALS).start()
        self.replicas.append(bot)
        return bot

    def stop(self, bot: BotProcess) -> None:
        bot.stop()
        self.replicas.remove(bot)

    def logs(self) -> str:
        return "".join(path.read_text(errors="replace") for path in self.workdir.glob("bot-*.log"))


def polled(standin: XStandIn, after: int = 0, timeout: float = 30) -> None:
    """Wait until the mentions timeline was read again after the `after`-th call."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any("/mentions" in path for _, path, _ in standin.calls[after:]):
            return
        time.sleep(0.05)
    raise AssertionError("the bot did not poll its mentions")


@pytest.fixture(scope="module")
def x(tmp_path_factory, redis_server, model_path):
    standin = XStandIn().start()
    workdir = tmp_path_factory.mktemp("x")
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["x"].update(enabled=True, api_base_url=standin.base_url, poll_interval_seconds=0.3, leader_lock_seconds=3)
    config["attachments"]["folder"] = str(workdir / "files")  # agents' files (kept, never sent on X)
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/7"  # this module's own database
    redis_sync.Redis.from_url(redis_url).flushdb()
    bots = XBots(standin, redis_url, workdir)
    bots.start_replica()
    polled(standin)  # the first poll marks where the bot starts
    polled(standin, len(standin.calls))
    yield bots
    for bot in list(bots.replicas):
        bots.stop(bot)
    logs = bots.logs()
    assert not any(value in logs for value in X_CREDENTIALS.values()), "credentials never reach the logs"


def replies_to(standin: XStandIn, tweet_id: str) -> list[dict]:
    return [p for p in standin.posts() if p.get("in_reply_to_tweet_id") == tweet_id]


def wait_replies(standin: XStandIn, tweet_id: str, count: int = 1, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(replies_to(standin, tweet_id)) < count:
        time.sleep(0.1)
    return replies_to(standin, tweet_id)


def test_weights_follow_x_counting():
    assert weighted_length("a" * 280) == 280
    assert weighted_length("你" * 140) == 280
    assert weighted_length("提现 https://example.com/a/very/long/path?with=query&and=more") == 4 + 1 + 23
    assert weighted_length("é ñ ü — ’") == 9, "Latin-1 and general punctuation weigh 1"
    assert weighted_length("🙂") == 2
    for text in ("a" * 280, "你" * 140, "提现 https://example.com/x", "é ñ — 🙂 ひらがな"):
        assert weighted_length(text) == x_api.weighted_length(text)


def test_kill_9_of_the_bot_mid_flood_answers_every_mention_exactly_once(x):
    """Mentions keep coming while the polling replica is killed and another starts: the new
    one reads from where the last confirmed poll left off, and nothing is answered twice."""
    standin = x.standin
    asked: list[str] = []
    done = threading.Event()

    def flood() -> None:
        n = 0
        while not done.is_set() and n < 60:  # before, during and after the crash
            asked.append(standin.mention("@ExampleX how do i enable 2fa?", user_id=f"16000000000000{n:05d}"))
            n += 1
            time.sleep(0.1)

    sender = threading.Thread(target=flood)
    sender.start()
    time.sleep(1.5)
    victim = x.replicas[0]
    victim.process.kill()
    victim.process.wait()
    x.replicas.remove(victim)
    x.start_replica()
    time.sleep(3)
    done.set()
    sender.join()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not all(replies_to(standin, t) for t in asked):
        time.sleep(0.5)
    time.sleep(3)
    counts = [len(replies_to(standin, t)) for t in asked]
    print(f"x, kill -9 mid-flood: {len(asked)} mentions, {counts.count(1)} answered once, "
          f"{sum(c > 1 for c in counts)} more than once, {counts.count(0)} never")
    twice = [[p["text"][:60] for p in replies_to(standin, t)] for t, c in zip(asked, counts, strict=True) if c > 1]
    assert counts == [1] * len(asked), twice


def test_a_spanish_mention_is_answered_in_spanish_in_its_thread(x):
    standin = x.standin
    tweet = standin.mention("@ExampleX hola, cómo verifico mi identidad?", user_id="1600000000000000011", lang="es")
    posts = wait_replies(standin, tweet)
    assert posts, "answered"
    assert "verificación" in posts[0]["text"].lower() and "identidad" in posts[0]["text"].lower()
    assert all(weighted_length(p["text"]) <= 280 for p in standin.posts())


def test_a_long_chinese_answer_becomes_a_numbered_thread_within_280_weighted(x):
    standin = x.standin
    question = "@ExampleX 合约强平、资金费率、ADL这些到底怎么回事"
    tweet = standin.mention(question, user_id="1600000000000000012", lang="zh")
    first = wait_replies(standin, tweet)
    assert first
    chain = [first[0]]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not chain[-1]["text"].endswith(f"{len(chain)}/{len(chain)}"):
        nxt = replies_to(standin, chain[-1]["id"])
        if nxt:
            chain.append(nxt[0])
        else:
            time.sleep(0.1)
    assert len(chain) >= 2, "more than one post"
    assert [re.search(r"(\d+)/(\d+)$", p["text"]).groups() for p in chain] == [
        (str(i), str(len(chain))) for i in range(1, len(chain) + 1)
    ]
    for post in chain:
        assert weighted_length(post["text"]) <= 280 and x_api.weighted_length(post["text"]) <= 280
        assert re.search(r"[\u4e00-\u9fff]", post["text"]), "in Chinese"
    assert weighted_length("".join(p["text"] for p in chain)) > 280


def test_own_posts_retweets_and_configured_bots_are_never_answered(x):
    standin = x.standin
    answered = standin.mention("@ExampleX what are the trading fees", user_id="1600000000000000013")
    own = standin.mention("@ExampleX thanks for reaching out!", user_id=BOT_USER_ID, username="ExampleX")
    retweet = standin.mention("RT @ana: @ExampleX what are the fees", user_id="1600000000000000014",
                              retweet_of=answered)  # fmt: skip
    assert wait_replies(standin, answered)
    polled(standin, len(standin.calls))
    assert not replies_to(standin, own) and not replies_to(standin, retweet)


def test_a_restart_between_polls_misses_nothing_and_answers_nothing_twice(x):
    standin = x.standin
    before = standin.mention("@ExampleX how do I deposit usdt", user_id="1600000000000000021")
    assert wait_replies(standin, before)
    x.stop(x.replicas[0])
    while_down = [standin.mention(f"@ExampleX how do i reset my password ({n})", user_id=f"16000000000000001{n:02d}")
                  for n in range(3)]  # fmt: skip
    x.start_replica()
    for tweet in while_down:
        assert wait_replies(standin, tweet), "a mention made while the bot was down is answered"
    polled(standin, len(standin.calls))
    polled(standin, len(standin.calls))
    for tweet in [before, *while_down]:
        assert len(replies_to(standin, tweet)) == 1, "answered exactly once"


def test_two_replicas_answer_each_mention_exactly_once(x):
    standin = x.standin
    second = x.start_replica()
    tweets = [standin.mention(f"@ExampleX what are the withdrawal fees #{n}", user_id=f"16000000000000002{n:02d}")
              for n in range(10)]  # fmt: skip
    for tweet in tweets:
        assert wait_replies(standin, tweet)
    # The leader dies (kill -9): the other replica takes over polling when the lock expires.
    leader = next(b for b in x.replicas if b is not second)
    leader.process.kill()
    leader.process.wait()
    x.stop(leader)
    later = standin.mention("@ExampleX how long does a withdrawal take", user_id="1600000000000000300")
    assert wait_replies(standin, later, timeout=30)
    polled(standin, len(standin.calls))
    for tweet in [*tweets, later]:
        assert len(replies_to(standin, tweet)) == 1


def test_a_hand_off_moves_to_a_dm_where_the_agents_reply_arrives(x):
    standin = x.standin
    user = "1600000000000000401"
    tweet = standin.mention("@ExampleX I need to talk to a human about my account", user_id=user)
    public = wait_replies(standin, tweet)[0]["text"]
    assert f"recipient_id={BOT_USER_ID}" in public and "T-" not in public, "no account matters in public"
    notice = standin.wait_dms(user)[0]["text"]
    assert re.search(r"T-\d+", notice)
    token = add_agent(SimpleNamespace(url=x.redis_url), "xavier", "en")
    status, conv = call(x.replicas[0], "POST", "/api/queue/claim", {"languages": ["en"]}, token=token)
    assert status == 200 and conv["platform"] == "x" and conv["chat_id"] == f"dm:{user}"
    text = "Hi, Xavier here. Can you tell me the email on your account?"
    assert call(x.replicas[0], "POST", f"/api/conversations/{conv['id']}/reply", {"text": text}, token=token)[0] == 202
    assert standin.wait_dms(user, count=2)[-1]["text"] == text

    # The user answers by DM: it reaches the agent, and the bot stays out of it.
    standin.dm(user, "it's ana@example.com")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        transcript = call(x.replicas[0], "GET", f"/api/conversations/{conv['id']}", token=token)[1]["transcript"]
        if any("ana@example.com" in line["text"] for line in transcript):
            break
        time.sleep(0.2)
    assert any("ana@example.com" in line["text"] for line in transcript)
    assert len(standin.dms_sent(user)) == 2

    # X carries no file here: the DM says which one the agent attached and how to get it.
    reply_with_files(x.replicas[0], conv["id"], token, "Here is your statement.", {"statement.pdf": PDF})
    assert standin.wait_dms(user, count=3)[-1]["text"] == (
        "Here is your statement.\n(The agent attached statement.pdf, which cannot be sent on X: "
        "ask us for it by e-mail or in the web chat.)")  # fmt: skip


def test_an_unsure_guess_in_a_dm_lists_the_offered_questions_for_lack_of_buttons(x):
    """X has no buttons: the answers the bot offers are listed by their question, which the
    user can write back; written back, the question is answered."""
    standin = x.standin
    user = "1600000000000000403"
    standin.dm(user, "deposit")
    first = standin.wait_dms(user)[0]["text"]
    offered = re.findall(r"^• (.+)$", first, re.M)
    assert offered and "human" in first, first
    standin.dm(user, offered[0])
    answer = standin.wait_dms(user, count=2)[1]["text"]
    assert "•" not in answer and len(answer) > 80, answer


def test_a_user_who_does_not_accept_dms_gets_the_notice_when_they_write(x):
    standin = x.standin
    user = "1600000000000000402"
    standin.dm_forbidden.add(user)
    tweet = standin.mention("@ExampleX can a real person check my account please", user_id=user)
    assert "recipient_id=" in wait_replies(standin, tweet)[0]["text"]
    polled(standin, len(standin.calls))
    assert not standin.dms_sent(user)
    standin.dm_forbidden.discard(user)
    standin.dm(user, "hi, here I am")
    assert re.search(r"T-\d+", standin.wait_dms(user)[0]["text"]), "the parked notice, once the user wrote"


def test_a_secret_in_a_public_mention_is_warned_about_and_stored_redacted(x):
    from mnemonic import Mnemonic

    standin = x.standin
    phrase = Mnemonic("english").to_mnemonic(bytes(range(90, 106)))
    tweet = standin.mention(f"@ExampleX wallet broken?? {phrase}", user_id="1600000000000000501")
    posts = wait_replies(standin, tweet)
    text = " ".join(p["text"] for p in standin.posts())
    words = phrase.split()
    assert not any(" ".join(words[i : i + 3]) in text for i in range(len(words) - 2)), "never repeated"
    assert "delete" in posts[0]["text"].lower() or "new wallet" in posts[0]["text"].lower()
    assert not any(" ".join(words[:3]) in dump for dump in stored_text(x.redis_url).values())


def test_a_429_waits_for_the_reset_and_then_answers(x):
    standin = x.standin
    standin.rate_limit("mentions", times=1, reset_in=2)
    started = time.monotonic()
    tweet = standin.mention("@ExampleX how do I enable 2fa", user_id="1600000000000000601")
    assert wait_replies(standin, tweet, timeout=30)
    assert time.monotonic() - started >= 1.5, "waited for x-rate-limit-reset"
    assert any(method.endswith(":429") for method, _, _ in standin.calls)
    assert len(replies_to(standin, tweet)) == 1


def test_bad_credentials_are_logged_with_what_to_fix_and_polling_goes_on(x):
    standin = x.standin
    standin.auth_failure = 401
    polled(standin, len(standin.calls))
    time.sleep(1)
    standin.auth_failure = None
    tweet = standin.mention("@ExampleX what are the fees", user_id="1600000000000000701")
    assert wait_replies(standin, tweet)
    assert x.logs().count("credentials are wrong or revoked") == 1


def test_files_x_cannot_carry_are_named_in_a_dm_and_left_unnamed_in_public():
    dm = with_files_noted("", ["statement.pdf", "deposit.png"], public=False)
    assert dm.splitlines() == [FILE_NOT_CARRIED.format(name=name) for name in ("statement.pdf", "deposit.png")]
    public = with_files_noted("See below.", ["ana-statement.pdf"], public=True)
    assert public.startswith("See below.\n(The agent attached a file,") and "ana" not in public


def test_thread_posts_number_only_long_texts():
    assert thread_posts("Short answer.") == ["Short answer."]
    long = "Withdrawals on TRC20 are delayed by network congestion. " * 12
    posts = thread_posts(long)
    assert len(posts) > 1 and all(weighted_length(p) <= 280 for p in posts)
    assert posts[0].endswith(f" 1/{len(posts)}")


def test_arbitrary_mentions_and_dms_never_break_the_poller(x):
    """Fuzzing the normalizer: any text and language tag, mentions and DMs alike."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    standin = x.standin
    tracebacks = x.logs().count("Traceback")  # earlier tests' expected ones (a 401 retried) stay out of it

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.text(max_size=600), st.sampled_from(["en", "und", "qme", "zxx", "es", "xx", ""]), st.booleans())
    def any_post(text: str, lang: str, as_dm: bool) -> None:
        if as_dm:
            standin.dm("1600000000000000801", text or " ")
        else:
            standin.mention(f"@ExampleX {text}", user_id="1600000000000000802", lang=lang or "en")

    any_post()
    polled(standin, len(standin.calls))
    polled(standin, len(standin.calls))
    assert all(bot.process.poll() is None for bot in x.replicas)
    tweet = standin.mention("@ExampleX what are the trading fees", user_id="1600000000000000803")
    assert wait_replies(standin, tweet), "still answering"
    assert x.logs().count("Traceback") == tracebacks


def test_refusals_are_told_apart_from_x_own_error_bodies():
    import tweepy

    from adapters.x_posts import DUPLICATE, OTHER, PERMISSION, refusal

    def forbidden(body: dict) -> tweepy.Forbidden:
        return tweepy.Forbidden(SimpleNamespace(status=403, reason="Forbidden"), response_json=body)

    problem = {"type": "about:blank", "title": "Forbidden", "status": 403}
    assert refusal(forbidden({**problem, "detail": x_api.DUPLICATE})) == DUPLICATE
    assert refusal(forbidden({**problem, "detail": "Your client app is not configured with the appropriate "
                              "oauth1 app permissions for this endpoint."})) == PERMISSION  # fmt: skip
    assert refusal(forbidden({**problem, "detail": "You currently have access to a subset of X API V2 endpoints",
                              "errors": [{"message": "You currently have access to a subset of X API V2 "
                                          "endpoints", "code": 453}]})) == PERMISSION  # fmt: skip
    assert refusal(forbidden({**problem, "detail": "You attempted to reply to a Tweet that is deleted or not "
                              "visible to you."})) == OTHER  # fmt: skip


def test_an_addressed_and_time_marked_thread_stays_within_280():
    from adapters.x_posts import ADDRESSING_WEIGHT, addressed, time_marked

    handle = "@" + "h" * 15  # the longest X allows
    for text in ("Withdrawals on TRC20 are delayed by network congestion. " * 12, "提现需要审核。" * 60, "a" * 280):
        for post in thread_posts(text, reserve=ADDRESSING_WEIGHT):
            assert weighted_length(time_marked(addressed(handle, post))) <= 280


# -- X refuses a text the account posted recently (issue 16, defect 10) ------------------------


def refused(standin: XStandIn, tweet_id: str) -> list[str]:
    """The texts X refused (403) as replies to `tweet_id`, in order."""
    return [params.get("text", "") for method, path, params in list(standin.calls)
            if method == "POST:403" and path == "/2/tweets"
            and (params.get("reply") or {}).get("in_reply_to_tweet_id") == tweet_id]  # fmt: skip


def wait_refused(standin: XStandIn, tweet_id: str, count: int = 1, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(refused(standin, tweet_id)) < count:
        time.sleep(0.1)
    return refused(standin, tweet_id)


def log_lines_about(x: XBots, tweet_id: str) -> str:
    return "\n".join(line for line in x.logs().splitlines() if tweet_id in line)


def test_two_users_asking_the_same_question_both_get_the_answer_in_public(x):
    standin = x.standin
    question = "@ExampleX how can I change the email on my account"
    first = standin.mention(question, user_id="1600000000000000901")
    assert wait_replies(standin, first), "the first user is answered"
    second = standin.mention(question, user_id="1600000000000000902")
    assert wait_replies(standin, second), "the second user is answered too, though the answer is the same"
    one, two = replies_to(standin, first)[0]["text"], replies_to(standin, second)[0]["text"]
    assert one.startswith("@user000901 ") and two.startswith("@user000902 "), "each reply names its user"
    assert one.removeprefix("@user000901 ") == two.removeprefix("@user000902 "), "the same answer"


def test_the_same_user_asking_again_is_answered_again_with_a_time_mark(x):
    standin = x.standin
    question = "@ExampleX how do I change my phone number"
    first = standin.mention(question, user_id="1600000000000000903")
    assert wait_replies(standin, first)
    earlier = replies_to(standin, first)[0]["text"]
    again = standin.mention(question, user_id="1600000000000000903")
    posts = wait_replies(standin, again)
    assert posts, "answered again"
    assert refused(standin, again) == [earlier], "X refused the same text once"
    mark = re.compile(r" · \d\d:\d\d:\d\d UTC(?= \d+/\d+$|$)")  # before a thread's number, if any
    assert mark.search(posts[0]["text"]) and mark.sub("", posts[0]["text"]) == earlier, posts[0]["text"]
    about = log_lines_about(x, again)
    assert "duplicate content" in about and "permission" not in about


def test_two_users_with_an_account_matter_both_get_the_private_pointer(x):
    standin = x.standin
    text = "@ExampleX someone logged into my account, I need a person to look at it"
    tweets = [standin.mention(text, user_id=user) for user in ("1600000000000000911", "1600000000000000912")]
    for tweet in tweets:
        posts = wait_replies(standin, tweet)
        assert posts, "both users are pointed to the private chat"
        assert f"recipient_id={BOT_USER_ID}" in posts[0]["text"] and "T-" not in posts[0]["text"]


def test_a_reply_x_keeps_refusing_as_duplicate_is_tried_twice_then_dropped(x):
    standin = x.standin
    standin.all_posts_duplicate = True
    try:
        tweet = standin.mention("@ExampleX what is the minimum deposit", user_id="1600000000000000921")
        assert len(wait_refused(standin, tweet, count=2)) == 2
        polled(standin, len(standin.calls))
        polled(standin, len(standin.calls))
        time.sleep(1)
        assert len(refused(standin, tweet)) == 2, "never more than one retry"
    finally:
        standin.all_posts_duplicate = False
    assert not replies_to(standin, tweet)
    about = log_lines_about(x, tweet)
    assert "not sent: duplicate content" in about


def test_a_read_only_app_is_final_and_logged_as_missing_permission(x):
    standin = x.standin
    standin.read_only_app = True
    try:
        tweet = standin.mention("@ExampleX what is the minimum withdrawal", user_id="1600000000000000931")
        assert wait_refused(standin, tweet)
        polled(standin, len(standin.calls))
        polled(standin, len(standin.calls))
        time.sleep(1)
        assert len(refused(standin, tweet)) == 1, "a permission refusal is not retried"
    finally:
        standin.read_only_app = False
    polled(standin, len(standin.calls))
    time.sleep(1)
    assert not replies_to(standin, tweet), "final: not sent later either"
    about = log_lines_about(x, tweet)
    assert "missing write permission" in about and "duplicate" not in about
    logs = x.logs()
    assert not any(value in logs for value in X_CREDENTIALS.values()), "no token in the logs"
    assert "oauth_signature" not in logs and "Authorization" not in logs
