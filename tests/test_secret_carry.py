"""Secrets pasted in two messages: a seed phrase 6 + 6 words, a hex key 32 + 32 digits. Both
halves are redacted (the first where the transcript stored it), the user is warned, and what
is kept between the messages holds no word of the secret. Ordinary conversations are not
joined: measured on every training example of the 8 languages."""

from __future__ import annotations

import random

import pytest
import yaml
from mnemonic import Mnemonic

from bot.domain import secret_carry, secret_guard
from bot.domain.messages import Action, InboundMessage
from bot.services.inbox import Inbox
from bot.stores import keys
from bot.stores.conversations import conversation_id
from bot.stores.holder import Stores
from tests.conftest import ROOT, stored_text
from tests.helpers import LANGUAGES

rng = random.Random(16)


@pytest.fixture
async def inbox(redis, pipeline, config):
    return Inbox(config, pipeline, await Stores.open(redis, LANGUAGES))


def _message(text: str, user: str = "u1") -> InboundMessage:
    return InboundMessage("webchat", f"chat-{user}", "private", user, text, addressed=True)


def _transcript_text(lines: list[dict]) -> str:
    return "\n".join(line["text"] for line in lines if line["from"] == "user")


def _runs_of_three(words: list[str]) -> list[str]:
    """Every three words of the secret in a row: none may be stored anywhere."""
    return [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]


@pytest.mark.parametrize("wordlist,language,opening", [
    ("english", "en", "hi, I need help with my wallet"),
    ("spanish", "es", "hola, necesito ayuda con mi billetera"),
])  # fmt: skip
async def test_a_seed_phrase_pasted_six_words_at_a_time_is_redacted_in_both_messages(
    inbox, redis, redis_server, pipeline, wordlist, language, opening
):
    words = Mnemonic(wordlist).to_mnemonic(rng.randbytes(16)).split()
    await inbox.handle(_message(opening))
    first = await inbox.handle(_message(" ".join(words[:6])))
    assert first.action is not Action.WARN_SECRET, "six words alone are not a phrase yet"
    second = await inbox.handle(_message(" ".join(words[6:])))

    assert second.action is Action.WARN_SECRET
    assert pipeline.warning(("mnemonic",), language, False) in second.reply.text, "warned, in the user's language"
    transcript = _transcript_text(await inbox.conversations.transcript(conversation_id("webchat:chat-u1:u1")))
    assert opening in transcript and transcript.count("[mnemonic removed]") == 2
    everything = "\n".join(stored_text(redis_server.url.rsplit("/", 1)[0] + "/3").values())
    assert [run for run in _runs_of_three(words) if run in everything] == []


async def test_a_hex_key_pasted_in_two_halves_is_redacted_in_both_messages(inbox, redis, redis_server):
    key = rng.randbytes(32).hex()
    await inbox.handle(_message(f"here is my key, first part {key[:32]}", user="u2"))
    second = await inbox.handle(_message(key[32:], user="u2"))

    assert second.action is Action.WARN_SECRET and second.secret_kinds == ("private_key",)
    transcript = _transcript_text(await inbox.conversations.transcript(conversation_id("webchat:chat-u2:u2")))
    assert "here is my key, first part [private_key removed]" in transcript
    everything = "\n".join(stored_text(redis_server.url.rsplit("/", 1)[0] + "/3").values())
    assert key[:32] not in everything and key[32:] not in everything


async def test_what_is_kept_between_the_halves_names_no_word(inbox, redis):
    words = Mnemonic("english").to_mnemonic(rng.randbytes(16)).split()
    await inbox.handle(_message(" ".join(words[:6]), user="u3"))
    kept = (await redis.get(keys.secret_marks(conversation_id("webchat:chat-u3:u3")))).decode()
    assert kept.startswith("english 6 1") and not any(word in kept for word in words)
    assert 0 < await redis.ttl(keys.secret_marks(conversation_id("webchat:chat-u3:u3"))) <= 300


@pytest.mark.parametrize("twice", ["can two people share one account", "3f2a9c0d4b1e8a7f6c5d4e3b2a1f0e9d"])
async def test_a_message_sent_twice_is_not_taken_for_a_split_secret(inbox, twice):
    """Six words of the English wordlist, or an id of 32 hex digits, repeated by an impatient
    user: no halves of a secret (those are never the same)."""
    await inbox.handle(_message(twice, user="u4"))
    again = await inbox.handle(_message(twice, user="u4"))
    assert again.action is not Action.WARN_SECRET
    transcript = _transcript_text(await inbox.conversations.transcript(conversation_id("webchat:chat-u4:u4")))
    assert transcript.count(twice) == 2


def _follow(messages: list[str]) -> list[secret_carry.CarryStep]:
    marks: tuple[secret_carry.CarryMark, ...] = ()
    steps = []
    for text in messages:
        step = secret_carry.follow(marks, text, secret_guard.scan(text).redacted_text)
        steps.append(step)
        marks = step.next_marks
    return steps


def test_a_txid_in_two_halves_stays_a_txid():
    txid = rng.randbytes(32).hex()
    steps = _follow([f"deposit missing, txid {txid[:32]}", txid[32:]])
    assert not steps[1].joined and steps[1].text == txid[32:]


def test_a_phrase_in_pieces_of_four_is_joined_at_twelve_words():
    words = Mnemonic("english").to_mnemonic(rng.randbytes(16)).split()
    steps = _follow([" ".join(words[i : i + 4]) for i in (0, 4, 8)])
    assert [s.joined for s in steps] == [False, False, True]
    assert steps[2].rewrite is not None and steps[2].rewrite.lines == 2
    earlier = secret_carry.redact_earlier([" ".join(words[:4]), " ".join(words[4:8])], steps[2].rewrite)
    assert earlier == ["[mnemonic removed]", "[mnemonic removed]"]


def _examples(path) -> list[str]:
    blocks = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
    return [line[2:] for block in blocks for line in block["examples"].splitlines() if line.startswith("- ")]


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_ordinary_messages_one_after_another_are_never_joined(language):
    """Every training example of the language (and its out-of-scope set) after every other,
    in file order and shuffled: no two are joined into a secret."""
    examples = [text for path in sorted((ROOT / "data" / "nlu").glob(f"{language}*.yml")) for text in _examples(path)]
    shuffled = random.Random(language).sample(examples, len(examples))
    joined = [s.text for s in _follow(examples) + _follow(shuffled) if s.joined]
    assert joined == []
