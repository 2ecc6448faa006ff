"""Configuration errors name the key; every language has every answer and reply."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_config
from bot.texts import REPLY_KEYS, Texts
from intents import INTENT_NAMES
from tests.conftest import ROOT


@pytest.mark.parametrize("text,message", [
    ("languages: [en]\nbogus: 1\n", "bogus: unknown key"),
    ("nlu:\n  confidence_threshold: high\n", "nlu.confidence_threshold: expected float"),
    ("nlu:\n  confidense: 0.5\n", "nlu.confidense: unknown key"),
    ("languages: [en, fr]\ndefault_language: de\n", "default_language"),
    ("web: [1]\n", "web: expected a mapping"),
    ("exchange: {name: X}\n: [\n", "not valid YAML"),
])  # fmt: skip
def test_a_bad_config_names_the_key(tmp_path, text, message):
    path = tmp_path / "config.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(path)


def test_redis_url_comes_from_the_environment():
    config = load_config(ROOT / "config.yml", env={"REDIS_URL": "redis://10.0.0.5:6380/2"})
    assert config.redis_url == "redis://10.0.0.5:6380/2"


def test_every_language_has_every_answer_and_reply_with_the_config_filled_in(config):
    texts = Texts.load(config.languages, INTENT_NAMES, config.placeholders)
    for lang in config.languages:
        for intent in INTENT_NAMES:
            answer = texts.answer(intent, lang)
            assert answer and "{" not in answer, (lang, intent)
        for key in REPLY_KEYS:
            assert texts.reply(key, lang, ticket="T-1", position=2, wait="5 min", limit=4000, status="x",
                               link="https://t.me/x", name="Ana")  # fmt: skip
    assert "ExampleX" in texts.answer("greet", "en")
    assert "https://example.com/account/freeze" in texts.answer("account_compromised", "ja")


def test_answers_differ_per_language(config):
    texts = Texts.load(config.languages, INTENT_NAMES, config.placeholders)
    for intent in INTENT_NAMES:
        assert len({texts.answer(intent, lang) for lang in config.languages}) == len(config.languages), intent
