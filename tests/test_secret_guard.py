"""The secret guard: what users paste is redacted, what they ask is left alone."""

from __future__ import annotations

import random

import pytest
import yaml
from mnemonic import Mnemonic

from bot.domain import secret_guard
from tests.conftest import ROOT

rng = random.Random(7)


def phrase(language: str, strength: int = 128) -> str:
    return Mnemonic(language).to_mnemonic(rng.randbytes(strength // 8))


@pytest.mark.parametrize("wordlist", ["english", "chinese_simplified", "chinese_traditional", "japanese",
                                      "korean", "spanish", "french"])  # fmt: skip
@pytest.mark.parametrize("strength", [128, 160, 192, 224, 256])
def test_a_pasted_phrase_of_any_length_is_removed(wordlist, strength):
    words = phrase(wordlist, strength)
    result = secret_guard.scan(f"is this right? {words} thx")
    assert result.kinds == ("mnemonic",)
    assert result.redacted_text == "is this right? [mnemonic removed] thx"


def test_numbered_and_comma_separated_phrases_are_removed():
    words = phrase("english").split()
    numbered = "\n".join(f"{i}. {w}" for i, w in enumerate(words, 1))
    commas = ", ".join(words)
    for text in (numbered, commas, words[0].upper() + " " + " ".join(words[1:])):
        result = secret_guard.scan(f"my seed:\n{text}")
        assert result.kinds == ("mnemonic",)
        assert all(w not in result.redacted_text.lower().split() for w in words[2:])


def test_unspaced_chinese_phrase_after_a_seed_word_is_removed():
    words = phrase("chinese_simplified").replace(" ", "")
    result = secret_guard.scan(f"我的助记词是{words}")
    assert result.kinds == ("mnemonic",)
    assert words not in result.redacted_text


@pytest.mark.parametrize("text", [
    "提币快三个小时了还在审核", "持仓里多出好多我从没买过的币", "有人要我的助记词 说帮我解冻",
    "应用商店里有个跟你们一样的app 是官方吗", "about above across act action actual add address",
])  # fmt: skip
def test_ordinary_text_is_not_a_phrase(text):
    assert secret_guard.scan(text).kinds == ()


def test_private_keys_are_removed_but_tx_hashes_stay():
    key = rng.randbytes(32).hex()
    assert secret_guard.scan(f"my private key {key}").redacted_text == "my private key [private_key removed]"
    assert secret_guard.scan(key).kinds == ("private_key",)
    assert secret_guard.scan(f"0x{key}").kinds == ("private_key",)
    tx = f"deposit not credited, tx hash 0x{key}"
    assert secret_guard.scan(tx).redacted_text == tx
    assert secret_guard.scan(f"txid {key} but here is my private key too").kinds == ("private_key",)


def test_wif_keys_with_a_valid_checksum_are_removed():
    wif = "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ"  # the textbook example key
    assert secret_guard.scan(f"wif: {wif}").kinds == ("private_key",)
    broken = wif[:-1] + ("K" if wif[-1] != "K" else "L")
    assert "private_key" not in secret_guard.scan(broken).kinds


def test_addresses_are_not_secrets():
    for address in ("0x742d35Cc6634C0532925a3b844Bc454e4438f44e", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
                    "TN3W4H6rK2ce4vX9YnFQHwKENnHjoxb3m9", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"):  # fmt: skip
        assert secret_guard.scan(f"sent to {address} not arrived").kinds == ()


def test_api_secrets_are_removed():
    secret = "".join(rng.choice("ABCDEFGHJKabcdefghjk0123456789") for _ in range(64))
    for text in (f"api secret: {secret}", f"my secret key is {secret}", f"APIシークレットは{secret}です", secret):
        result = secret_guard.scan(text)
        assert result.found and secret not in result.redacted_text, text


@pytest.mark.parametrize("text,password", [
    ("my password is hunter22!", "hunter22!"),
    ("password: Summer2024", "Summer2024"),
    ("pw Qx7!mmzp", "Qx7!mmzp"),
    ("mi contraseña es Perro_2291", "Perro_2291"),
    ("mot de passe : azerty123", "azerty123"),
    ("мой пароль Qwerty!234", "Qwerty!234"),
    ("密码是abc12345", "abc12345"),
    ("パスワードはAbc12345です", "Abc12345"),
    ("비밀번호는 dkssud123!! 이에요", "dkssud123!!"),
    ("mật khẩu là Matkhau@123", "Matkhau@123"),
    ("tried Sunny_Day2023 as my pass", "Sunny_Day2023"),
    ('password "correct horse"', "correct horse"),
])  # fmt: skip
def test_passwords_are_removed_in_every_language(text, password):
    result = secret_guard.scan(text)
    assert result.kinds == ("password",)
    assert password not in result.redacted_text


def test_questions_about_passwords_are_left_alone():
    """No training example of any language looks like a secret to the guard."""
    flagged = []
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            for line in block["examples"].splitlines():
                if line.startswith("- ") and secret_guard.scan(line[2:]).found:
                    flagged.append((path.stem, line[2:]))
    assert flagged == []


@pytest.mark.parametrize("text", [
    'got a password reset mail i never asked for, then "password changed successfully". not me',
    "頼んでないパスワードリセットのメールが来て、そのあと「パスワードが変更されました」。私じゃない",
    'нажал "забыли пароль", а письмо не пришло',
    'after I changed my password the app said "something went wrong, try later"',
])  # fmt: skip
def test_a_quoted_notice_near_a_password_word_is_not_a_password(text):
    """Users quote what the exchange told them; redacting it hid the report from the agent and
    warned the user about a secret they never pasted."""
    result = secret_guard.scan(text)
    assert result.kinds == ()
    assert result.redacted_text == text


@pytest.mark.parametrize("separator,size", [(" ", 8), ("\n", 8), (":", 2), (" ", 4), ("-", 16)])
def test_a_hex_key_written_in_groups_is_removed(separator, size):
    key = rng.randbytes(32).hex()
    grouped = separator.join(key[i : i + size] for i in range(0, 64, size))
    result = secret_guard.scan(f"my wallet key is {grouped} is that safe?")
    assert result.kinds == ("private_key",)
    assert result.redacted_text == "my wallet key is [private_key removed] is that safe?"


def test_a_txid_written_in_groups_stays():
    txid = rng.randbytes(32).hex()
    text = f"tx hash {' '.join(txid[i : i + 8] for i in range(0, 64, 8))} not credited"
    assert secret_guard.scan(text).redacted_text == text


@pytest.mark.parametrize("text,password", [
    ("my password is hunter", "hunter"),
    ("My password is Sunshine.", "Sunshine"),
    ("the password is dragon, why does login fail", "dragon"),
    ("mi contraseña es perro", "perro"),
    ("mon mot de passe est soleil", "soleil"),
    ("пароль это qwerty", "qwerty"),
    ("密码是hunter", "hunter"),
    ("비밀번호는 hunter 이에요", "hunter"),
])  # fmt: skip
def test_a_password_of_letters_alone_after_password_is_is_removed(text, password):
    result = secret_guard.scan(text)
    assert result.kinds == ("password",)
    assert password not in result.redacted_text


@pytest.mark.parametrize("text", [
    "Q0a01x03: how do I reset my password",
    "order A1B2C3D4E5: password reset mail never came",
    "X7Y8Z9 and I forgot my password",
    "my password is wrong",
    "my password is not working",
    "my password is expired, what now",
    "the password is too long for the form",
    "my password is correct but it says invalid",
    "Your password is incorrect",
    "is my password safe?",
    "mi contraseña es incorrecta",
    "mon mot de passe est faux",
    "my password is stolen, please help",
    "can I pass KYC with a passport from 2019",
])  # fmt: skip
def test_ordinary_sentences_about_passwords_are_not_redacted(text):
    result = secret_guard.scan(text)
    assert result.kinds == ()
    assert result.redacted_text == text
