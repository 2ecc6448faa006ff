"""The help center: articles in every language, a search that works for CJK and Latin text,
and the bot offering articles when it is unsure (the real bot process, through the web chat).

The queries here are written for this test; none is in the NLU training data or the held-out
set."""

from __future__ import annotations

import re

import pytest

from bot.config import load_config
from bot.domain.helpcenter import HelpCenter
from tests.helpers import say

LANGUAGES = ("en", "zh", "es", "fr", "ru", "ja", "ko", "vi")
QUERIES = [
    ("en", "my deposit hasn't arrived", "deposit-not-credited"),
    ("en", "how to set up google authenticator", "two-factor-authentication"),
    ("zh", "提现一直在处理中", "withdrawal-pending"),
    ("zh", "充值没到账", "deposit-not-credited"),
    ("es", "me liquidaron la posición de futuros", "futures-liquidation-and-funding"),
    ("fr", "mon retrait est bloqué depuis hier", "withdrawal-pending"),
    ("ru", "аккаунт заблокирован", "account-locked"),
    ("ru", "как не попасться на мошенников", "avoiding-scams-and-phishing"),
    ("ja", "本人確認が通らない", "kyc-verification"),
    ("ja", "出金が届かない", "withdrawal-pending"),
    ("ko", "출금 한도", "withdrawal-limits"),
    ("ko", "구글 OTP 분실", "two-factor-authentication"),
    ("vi", "quên mật khẩu", "password-reset"),
    ("vi", "nạp tiền chưa về", "deposit-not-credited"),
]


@pytest.fixture(scope="module")
def helpcenter() -> HelpCenter:
    return HelpCenter.load(load_config().placeholders)


def test_every_language_has_the_same_articles_with_links_filled(helpcenter):
    slugs = {lang: {a.slug for a in helpcenter.articles if a.language == lang} for lang in LANGUAGES}
    assert len(slugs["en"]) >= 12 and all(found == slugs["en"] for found in slugs.values())
    for article in helpcenter.articles:
        assert article.title and len(article.body) > 100
        assert not re.search(r"\{\w+\}", article.body), f"{article.language}/{article.slug}: a placeholder left"
        assert article.url.startswith("https://help.example.com/")


@pytest.mark.parametrize(("language", "query", "expected"), QUERIES)
def test_the_right_article_comes_first(helpcenter, language, query, expected):
    found = helpcenter.search(query, language)
    assert found and found[0].slug == expected, [a.slug for a in found]
    assert all(a.language == language for a in found)


@pytest.mark.parametrize(("language", "chatter"), [("en", "the weather is nice today"), ("en", "asdf qwerty"),
                                                   ("zh", "今天天气不错"), ("es", "jajaja buenas noches")])  # fmt: skip
def test_chatter_finds_no_article(helpcenter, language, chatter):
    assert helpcenter.search(chatter, language) == []


def test_an_unsure_question_is_offered_three_articles_in_its_language(bot):
    status, body = say(bot, "helpcenter-es-001", "pregunta sobre google y la red memo")
    assert status == 200 and body["action"] == "clarify"
    links = re.findall(r"https://help\.example\.com/(\w+)/([\w-]+)", body["replies"][0]["text"])
    assert len(links) == 3 and {lang for lang, _ in links} == {"es"}
    assert "deposit-not-credited" in {slug for _, slug in links}

    status, body = say(bot, "helpcenter-zh-001", "备注 标签 网络 问一下")
    assert status == 200 and body["action"] == "clarify"
    links = re.findall(r"https://help\.example\.com/(\w+)/([\w-]+)", body["replies"][0]["text"])
    assert links and {lang for lang, _ in links} == {"zh"} and links[0][1] == "deposit-not-credited"
    assert "帮助中心" in body["replies"][0]["text"]


def test_help_searches_the_help_center_directly(bot):
    status, body = say(bot, "helpcenter-en-002", "/help withdrawal fees")
    assert status == 200 and body["action"] == "answer"
    assert "https://help.example.com/en/fees" in body["replies"][0]["text"]
    status, body = say(bot, "helpcenter-ko-002", "/help 출금 한도")
    assert "https://help.example.com/ko/withdrawal-limits" in body["replies"][0]["text"]
    status, body = say(bot, "helpcenter-en-003", "/help xyzzy")
    assert "/help" in body["replies"][0]["text"] and "https://help" not in body["replies"][0]["text"]
