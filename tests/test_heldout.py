"""The held-out set (tests/heldout/<lang>.jsonl, never used for training) through `replay`:
language, intent, wrong auto-answers, hand-offs, secrets and group chatter, per language.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from mnemonic import Mnemonic

from tests.conftest import ROOT, normal_text, training_examples

HELDOUT = ROOT / "tests" / "heldout"
LANGUAGES = ("en", "zh", "es", "fr", "ru", "ja", "ko", "vi")
HANDOFF_INTENTS = {"account_compromised": "urgent", "complaint": "high", "human_agent": "normal"}
WORDLIST = {"zh": "chinese_simplified", "ja": "japanese", "ko": "korean", "es": "spanish", "fr": "french"}
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _fill(row: dict, lang: str, rng: random.Random) -> tuple[str, list[str]]:
    """The row's text with its secret filled in, and the strings that must never come back."""
    text = row["text"]
    if row.get("secret") == "mnemonic":
        wordlist = WORDLIST.get(lang, "english") if rng.random() < 0.5 else "english"
        phrase = Mnemonic(wordlist).to_mnemonic(rng.randbytes(rng.choice((16, 32))))
        text = text.replace("{mnemonic}", phrase)
        # Any run of four words of the phrase in a reply would be an echo.
        words = phrase.split()
        return text, [" ".join(words[i : i + 4]) for i in range(0, len(words) - 3, 4)]
    if row.get("secret") == "private_key":
        key = rng.randbytes(32).hex()
        return text.replace("{private_key}", key), [key]
    if row.get("secret") == "api_secret":
        secret = "".join(rng.choice(_BASE58) for _ in range(64))
        return text.replace("{api_secret}", secret), [secret]
    if row.get("secret") == "password":
        return text, [row["value"]]
    return text, []


@pytest.fixture(scope="module")
def results(model_path: Path) -> list[tuple[str, dict, dict, list[str]]]:
    rng = random.Random(20261122)
    rows, lines = [], []
    for lang in LANGUAGES:
        for raw in (HELDOUT / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines():
            if not raw.strip():
                continue
            row = json.loads(raw)
            text, forbidden = _fill(row, lang, rng)
            chatter = bool(row.get("chatter"))
            lines.append(json.dumps({
                "id": len(lines), "platform": "test", "chat_type": "group" if chatter else "private",
                "chat_id": f"c{len(lines)}", "user_id": f"u{len(lines)}", "text": text, "addressed": not chatter,
            }, ensure_ascii=False))  # fmt: skip
            rows.append((lang, row, forbidden))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "replay"], cwd=ROOT, input="\n".join(lines).encode(),
        capture_output=True, timeout=600,
    )  # fmt: skip
    outputs = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(outputs) == len(rows), done.stderr.decode()[-3000:]
    assert [o["id"] for o in outputs] == list(range(len(rows)))
    return [(lang, row, out, forbidden) for (lang, row, forbidden), out in zip(rows, outputs, strict=True)]


def _table(results: list) -> tuple[str, dict]:
    stats: dict[str, Counter] = defaultdict(Counter)
    for lang, row, out, _ in results:
        s = stats[lang]
        if "intent" not in row:
            continue
        s["n"] += 1
        s["language"] += out["language"] == lang
        s["intent"] += out["intent"] == row["intent"]
        s["clarify"] += out["action"] == "clarify"
        s["offered"] += out["action"] == "clarify" and any(a.split("/")[0] == row["intent"] for a in out["suggested"])
        if out["action"] == "answer":
            s["answers"] += 1
            s["wrong"] += out["intent"] != row["intent"]
    stats["all"] = sum(stats.values(), Counter())
    lines = ["", f"{'lang':<5} {'n':>4} {'language':>9} {'intent':>7} {'clarify':>8} {'offered':>8} "
                 f"{'wrong/answers':>14}"]  # fmt: skip
    for lang in (*LANGUAGES, "all"):
        s = stats[lang]
        lines.append(
            f"{lang:<5} {s['n']:>4} {100 * s['language'] / s['n']:>8.1f}% {100 * s['intent'] / s['n']:>6.1f}% "
            f"{100 * s['clarify'] / s['n']:>7.1f}% {100 * s['offered'] / s['n']:>7.1f}% "
            f"{100 * s['wrong'] / max(1, s['answers']):>13.1f}%"
        )
    return "\n".join(lines), stats


def test_per_language_accuracy(results, capsys):
    table, stats = _table(results)
    with capsys.disabled():
        print(table)
    for lang in LANGUAGES:
        s = stats[lang]
        assert s["language"] / s["n"] >= 0.99, f"{lang}: language right on {s['language']}/{s['n']}"
        assert s["intent"] / s["n"] >= 0.85, f"{lang}: intent right on {s['intent']}/{s['n']}"
    total = stats["all"]
    assert total["intent"] / total["n"] >= 0.95
    assert total["wrong"] / total["answers"] <= 0.015, "wrong auto-answers"


def test_handoff_intents_are_always_handed_off(results):
    rows = [(lang, row, out) for lang, row, out, _ in results if row.get("intent") in HANDOFF_INTENTS]
    assert len(rows) == 9 * len(HANDOFF_INTENTS) * len(LANGUAGES)
    assert [(lang, row["text"], out["action"]) for lang, row, out in rows if out["action"] != "handoff"] == []


def test_account_compromised_is_always_urgent(results):
    rows = [(row["text"], out) for _, row, out, _ in results if row.get("intent") == "account_compromised"]
    assert len(rows) >= 8 * len(LANGUAGES)
    assert [text for text, out in rows if out["priority"] != "urgent"] == []


def test_secrets_are_warned_and_never_echoed(results):
    secret_rows = [(lang, row, out, forbidden) for lang, row, out, forbidden in results if "secret" in row]
    assert len(secret_rows) >= 10 * len(LANGUAGES)
    not_warned = [(lang, row["text"]) for lang, row, out, _ in secret_rows if out.get("action") != "warn_secret"]
    assert not not_warned
    for lang, row, out, forbidden in results:
        for value in forbidden:
            assert value not in json.dumps(out, ensure_ascii=False), f"{lang}: a secret came back: {row['text']}"


def test_group_chatter_is_ignored(results):
    chatter = [(row["text"], out) for _, row, out, _ in results if row.get("chatter")]
    assert len(chatter) >= 10 * len(LANGUAGES)
    assert [text for text, out in chatter if out["action"] != "ignore" or out["reply"]] == []


def test_ordinary_messages_are_not_taken_for_secrets(results):
    flagged = [(lang, row["text"]) for lang, row, out, _ in results
               if "intent" in row and out["action"] == "warn_secret"]  # fmt: skip
    assert not flagged


def test_heldout_never_in_training_data():
    training = training_examples()
    heldout = [
        json.loads(line)["text"]
        for lang in LANGUAGES
        for line in (HELDOUT / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(training) > 5000
    assert [text for text in heldout if normal_text(text) in training] == []
