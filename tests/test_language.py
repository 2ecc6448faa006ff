"""Language detection beyond the held-out set: scripts, hints, short texts, other languages."""

from __future__ import annotations

import pytest

from bot.domain.language import LanguageDetector

LAUNCH = ("en", "zh", "es", "fr", "ru", "ja", "ko", "vi")


@pytest.fixture(scope="module")
def detector(pipeline) -> LanguageDetector:
    return pipeline.detector


@pytest.mark.parametrize("text,language", [
    ("USDT提现到账了吗", "zh"), ("USDTの出金まだ？", "ja"), ("BTC 출금 안돼요", "ko"),
    ("мой BTC не пришел", "ru"), ("rút tiền USDT chưa về", "vi"), ("mi retiro de USDT no llega", "es"),
    ("mon retrait USDT n'arrive pas", "fr"), ("my USDT withdrawal is stuck", "en"),
])  # fmt: skip
def test_mixed_scripts_go_by_the_users_own_script(detector, text, language):
    assert detector.detect(text).language == language


def test_very_short_text_follows_the_hint_and_the_conversation(detector):
    assert detector.detect("ok", hint="fr").language == "fr"
    assert detector.detect("ok", previous="es").language == "es"
    assert detector.detect("ok", hint="pt-BR", previous="vi").language == "vi"
    assert detector.detect("ok").language == "en"


def test_kanji_only_text_goes_by_the_characters_unless_the_user_says(detector):
    assert detector.detect("本人確認").language == "ja"
    assert detector.detect("出金遅延").language == "ja"
    assert detector.detect("提现延迟").language == "zh"
    assert detector.detect("提现延迟", hint="ja").language == "ja"


def test_a_short_text_plainly_in_another_language_beats_the_browser_hint(detector):
    assert detector.detect("retiro pendiente", hint="en").language == "es"
    assert detector.detect("dépôt manquant", hint="en-US").language == "fr"
    assert detector.detect("ok", hint="es").language == "es"  # says little: the hint decides


def test_other_languages_are_recorded_and_answered_in_the_default(detector):
    german = detector.detect("Wo ist meine Auszahlung, sie ist seit gestern nicht angekommen")
    assert (german.detected, german.language) == ("de", "en")
    ukrainian = detector.detect("де мої гроші, виведення не прийшло")
    assert (ukrainian.detected, ukrainian.language) == ("uk", "en")


def test_the_same_text_always_gets_the_same_answer(detector):
    texts = ["retiro pendiente", "dépôt pas reçu", "rut tien lau qua", "deposit missing"]
    first = [detector.detect(t).detected for t in texts]
    assert [detector.detect(t).detected for t in texts * 3] == first * 3
