"""Configuration errors name the key; every language has every answer and reply."""

from __future__ import annotations

import pytest
import yaml

from bot.config import ConfigError, load_config
from bot.domain.texts import REPLY_KEYS, Texts, answer_ids
from intents import INTENT_NAMES
from tests.conftest import ROOT


@pytest.mark.parametrize("text,message", [
    ("languages: [en]\nbogus: 1\n", "bogus: unknown key"),
    ("nlu:\n  confidence_threshold: high\n", "nlu.confidence_threshold: expected float"),
    ("nlu:\n  confidense: 0.5\n", "nlu.confidense: unknown key"),
    ("languages: [en, fr]\ndefault_language: de\n", "default_language"),
    ("web: [1]\n", "web: expected a mapping"),
    ("exchange: {name: X}\n: [\n", "not valid YAML"),
    ("attachments:\n  keep_days: 0\n", "keep_days >= 1"),
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
    assert len(answer_ids(INTENT_NAMES)) >= 60
    for lang in config.languages:
        for answer_id in answer_ids(INTENT_NAMES):
            answer = texts.answer(answer_id, lang)
            assert answer and "{" not in answer, (lang, answer_id)
        for key in REPLY_KEYS:
            assert texts.reply(key, lang, ticket="T-1", position=2, wait="5 min", limit=4000, status="x",
                               link="https://t.me/x", name="Ana", network="TRC20", networks="ERC20 / TRC20",
                               confirmations=20, coin="XRP", url="https://x", minutes=5, uid="1****2",
                               amount="1.00", seen=1, required=2, reason="r", txid="t", level=1, address="a***@x.com",
                                   opens="2026-12-08 09:00 (UTC)", max_mb=10)  # fmt: skip
    assert "ExampleX" in texts.answer("greet/what_can_you_do", "en")
    assert "https://example.com/account/freeze" in texts.answer("account_compromised", "ja")


def test_answers_differ_per_language_and_per_question(config):
    texts = Texts.load(config.languages, INTENT_NAMES, config.placeholders)
    ids = answer_ids(INTENT_NAMES)
    for answer_id in ids:
        assert len({texts.answer(answer_id, lang) for lang in config.languages}) == len(config.languages), answer_id
    for lang in config.languages:
        assert len({texts.answer(answer_id, lang) for answer_id in ids}) == len(ids), lang


def test_every_question_has_a_button_label_per_language_that_fits_a_button(config):
    """The label a suggested answer carries ("did you mean...?"): short, and different for
    each question of a language, or two buttons would read alike."""
    texts = Texts.load(config.languages, INTENT_NAMES, config.placeholders)
    questions = [a for a in answer_ids(INTENT_NAMES) if "/" in a]
    for lang in config.languages:
        labels = [texts.title(a, lang) for a in questions]
        limit = 16 if lang in ("zh", "ja", "ko") else 38
        assert all(0 < len(label) <= limit and "{" not in label for label in labels), lang
        assert len(set(labels)) == len(labels), lang


@pytest.mark.parametrize(("settings", "env", "message"), [
    ("telegram:\n  enabled: true\n", {}, "telegram.enabled is true, but TELEGRAM_TOKEN is not in the environment"),
    ("discord:\n  enabled: true\n", {}, "DISCORD_TOKEN is not in the environment"),
    ("x:\n  enabled: true\n", {"X_BEARER_TOKEN": "b", "X_API_KEY": "k"},
     "X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_SECRET"),
    ("telegram:\n  enabled: true\n  webhook_url: https://bot.example.com/telegram/webhook\n",
     {"TELEGRAM_TOKEN": "123:secret-value"}, "TELEGRAM_WEBHOOK_SECRET is not in the environment"),
    ("telegram:\n  enabled: yes please\n", {}, "telegram.enabled: expected bool"),
])  # fmt: skip
def test_an_enabled_platform_needs_its_credentials(tmp_path, settings, env, message):
    from bot.environment import check_environment

    path = tmp_path / "config.yml"
    path.write_text(settings)
    with pytest.raises(ConfigError, match=message) as raised:
        check_environment(load_config(path, env=env), env)
    assert "secret-value" not in str(raised.value)


def check_config(tmp_path, text: str, redis_url: str, **env: str):
    import os
    import subprocess
    import sys

    path = tmp_path / "config.yml"
    path.write_text(text)
    return subprocess.run([sys.executable, "-m", "bot", "check-config", "--config", str(path)], cwd=ROOT,
                          env={**os.environ, "REDIS_URL": redis_url, **env}, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_check_config_says_what_is_wrong_without_starting(tmp_path, redis_server):
    base = (ROOT / "config.yml").read_text()
    done = check_config(tmp_path, base, redis_server.url)
    assert done.returncode == 0 and "configuration OK: platforms webchat" in done.stdout
    done = check_config(tmp_path, base.replace("max_message_chars: 4000", "max_message_chars: lots"), redis_server.url)
    assert done.returncode == 2 and "limits.max_message_chars: expected int, got 'lots'" in done.stderr
    enabled = yaml.safe_load(base)
    enabled["discord"]["enabled"] = True
    done = check_config(tmp_path, yaml.safe_dump(enabled), redis_server.url, DISCORD_TOKEN="")
    assert done.returncode == 2 and "DISCORD_TOKEN is not in the environment" in done.stderr
    done = check_config(tmp_path, base, "redis://127.0.0.1:1/0")
    assert done.returncode == 2 and "Redis at REDIS_URL is not reachable" in done.stderr
    done = check_config(tmp_path, base, redis_server.url, TELEGRAM_TOKEN="123:idle-token-value")
    assert "telegram credentials are in the environment but telegram.enabled is false" in done.stdout
    assert "idle-token-value" not in done.stdout + done.stderr


def test_a_language_without_texts_stops_the_bot_before_any_worker_starts(tmp_path, model_path):
    """The pipeline is built once, before the workers fork: a missing answers file is said
    once, with its path, and the bot exits 2 (a worker dying of it would be restarted forever)."""
    import os
    import subprocess
    import sys

    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["languages"] = [*config["languages"], "de"]
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config))
    done = subprocess.run([sys.executable, "-m", "bot", "run", "--config", str(path), "--port", "1"], cwd=ROOT,
                          env={**os.environ, "SUPPORTBOT_WORKERS": "2"}, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.count("data/answers/de.yml: missing") == 1, done.stderr[-2000:]
