"""The dev sets (tests/dev/, written by other hands than the training data, never trained on)
through `replay`: how the bot does on text nobody who wrote its training data wrote.

- unrelated/: small talk, goodbyes, other domains, market chatter and news addressed to the bot:
  it must not call a person, must not take the urgent lane, must not answer a support question.
- handoff/: compromise reports written in panic, requests for a person, complaints: every one
  reaches a person, every compromise report in the urgent lane.
- support/: real customers' questions: intent, the specific answer, wrong answers, entities.
- short/: two- and three-word messages: the language they are in, from the text alone and
  with a browser that says English.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict

import pytest

from tests.conftest import ROOT, normal_text, training_examples

DEV = ROOT / "tests" / "dev"
LANGUAGES = ("en", "zh", "es", "fr", "ru", "ja", "ko", "vi")
HARMLESS = {"greet", "thanks", "out_of_scope"}  # answering unrelated text with these is right
SETS = ("unrelated", "handoff", "support", "short")
HANDS = ("first", "second", "third", "fourth", "fifth")  # who wrote a dev line (`hand`; the first hand has none)


def _rows(name: str, lang: str) -> list[dict]:
    path = DEV / name / f"{lang}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def dev(model_path) -> list[tuple[str, str, dict, dict]]:
    """(set, language, row, replay output) for every dev line; short phrases twice, once
    with an English browser's hint (`short_hinted`)."""
    rows, lines = [], []
    for name in SETS:
        for lang in LANGUAGES:
            for row in _rows(name, lang):
                variants = [(name, None)] + ([("short_hinted", "en")] if name == "short" else [])
                for set_name, hint in variants:
                    record = {"id": len(lines), "platform": "dev", "chat_type": "private",
                              "chat_id": f"d{len(lines)}", "user_id": f"u{len(lines)}", "text": row["text"]}
                    if hint:
                        record["language_hint"] = hint
                    lines.append(json.dumps(record, ensure_ascii=False))
                    rows.append((set_name, lang, row))
    done = subprocess.run([sys.executable, "-m", "bot", "replay"], cwd=ROOT, input="\n".join(lines).encode(),
                          capture_output=True, timeout=900)  # fmt: skip
    outputs = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(outputs) == len(rows), done.stderr.decode()[-3000:]
    return [(s, lang, row, out) for (s, lang, row), out in zip(rows, outputs, strict=True)]


def _reaches_a_person(out: dict) -> bool:
    """A decision with a lane is handed off by the inbox, also when its reply starts with the
    warning about a pasted secret (action `warn_secret`)."""
    return out["priority"] is not None


def _stats(dev: list, by: str = "language") -> dict[str, Counter]:
    """Counts per language (or per `hand` that wrote the line), and over all as `all`."""
    stats: dict[str, Counter] = defaultdict(Counter)
    for name, lang, row, out in dev:
        s = stats[lang if by == "language" else row.get("hand", "first")]
        if name == "unrelated":
            s["u"] += 1
            s["u_handoff"] += _reaches_a_person(out)
            s["u_urgent"] += out["priority"] == "urgent"
            s["u_wrong"] += out["action"] == "answer" and out["intent"] not in HARMLESS
        elif name == "handoff":
            s["h"] += 1
            s["h_ok"] += _reaches_a_person(out)
            if row["intent"] == "account_compromised":
                s["c"] += 1
                s["c_urgent"] += out["priority"] == "urgent"
        elif name == "support":
            s["q"] += 1
            s["q_intent"] += out["intent"] == row["intent"]
            s["q_answer"] += out["action"] == "answer" and out.get("answer_id") == row["answer_id"]
            s["q_answers"] += out["action"] == "answer"
            s["q_tap"] += (out["action"] == "answer" and out["intent"] == row["intent"]) or (
                out["action"] == "clarify" and any(a.split("/")[0] == row["intent"] for a in out["suggested"]))
            s["q_wrong"] += out["action"] == "answer" and out["intent"] != row["intent"]
            s["q_handoff"] += _reaches_a_person(out)
            for kind, value in row.get("entities", {}).items():
                s["e"] += 1
                s["e_found"] += value in out.get("entities", {}).get(kind, [])
        else:
            key = "s" if name == "short" else "sh"
            s[key] += 1
            s[f"{key}_ok"] += out["language"] == row["language"]
    stats["all"] = sum(stats.values(), Counter())
    return stats


def _pct(s: Counter, part: str, whole: str) -> str:
    return f"{100 * s[part] / s[whole]:.1f}%" if s[whole] else "-"


def _table(stats: dict[str, Counter], dev_rows: list | None = None) -> str:
    head = ("lang", "unrel", "handoff", "urgent", "wrong", "urgent-n", "reached", "urgent", "support", "intent",
            "answer", "1 tap", "wrong", "entities", "short", "lang", "en-hint")  # fmt: skip
    lines = ["", "Dev sets (text not written by the training data's authors; never trained on):",
             " ".join(f"{h:>9}" for h in head)]  # fmt: skip
    for lang in (*LANGUAGES, "all"):
        s = stats[lang]
        cells = (lang, s["u"], _pct(s, "u_handoff", "u"), _pct(s, "u_urgent", "u"), _pct(s, "u_wrong", "u"),
                 s["h"], _pct(s, "h_ok", "h"), _pct(s, "c_urgent", "c"), s["q"], _pct(s, "q_intent", "q"),
                 _pct(s, "q_answer", "q"), _pct(s, "q_tap", "q"),
                 _pct(s, "q_wrong", "q_answers"), _pct(s, "e_found", "e"), s["s"], _pct(s, "s_ok", "s"),
                 _pct(s, "sh_ok", "sh"))  # fmt: skip
        lines.append(" ".join(f"{c:>9}" for c in cells))
    hands = _stats(dev_rows, by="hand") if dev_rows else {}
    if hands:
        lines.append("By the hand that wrote the lines (each later hand wrote blind: its lines were measured "
                     "before anything was tuned to them, then added here):")
        for hand in sorted(set(hands) - {"all"}, key=HANDS.index):
            h = hands[hand]
            cells = (hand, h["u"], _pct(h, "u_handoff", "u"), _pct(h, "u_urgent", "u"), _pct(h, "u_wrong", "u"),
                     h["h"], _pct(h, "h_ok", "h"), _pct(h, "c_urgent", "c"))  # fmt: skip
            lines.append(" ".join(f"{c:>9}" for c in cells))
    lines.append("unrel: handoff/urgent/wrong on unrelated text. urgent-n: compromise reports, requests for "
                 "a person and complaints written in panic; reached: handed to a person; urgent: compromise "
                 "reports in the urgent lane. support: intent right, the specific answer right, the right topic "
                 "answered or offered as a button, wrong answers / answers, entities found. short: language "
                 "right from the text alone, and with an English browser's hint.")  # fmt: skip
    return "\n".join(lines)


# The targets of issue 14 on text we did not write.
TARGETS = {"u_handoff": 0.03, "u_urgent": 0.003, "u_wrong": 0.01, "s_ok": 0.97}


def test_dev_table(dev, capsys):
    stats = _stats(dev)
    with capsys.disabled():
        print(_table(stats, dev))
    total = stats["all"]
    assert total["u"] >= 100 * len(LANGUAGES) and total["s"] >= 100 * len(LANGUAGES)
    assert total["u_handoff"] / total["u"] <= TARGETS["u_handoff"], "unrelated text handed to a person"
    assert total["u_urgent"] / total["u"] <= TARGETS["u_urgent"], "unrelated text in the urgent lane"
    assert total["u_wrong"] / total["u"] <= TARGETS["u_wrong"], "unrelated text answered as a support question"
    assert total["s_ok"] / total["s"] >= TARGETS["s_ok"], "short phrases: language"
    for lang in LANGUAGES:
        assert stats[lang]["s_ok"] / stats[lang]["s"] >= 0.93, f"{lang}: short phrases' language"


def test_frightened_messages_reach_a_person_and_compromise_reports_the_urgent_lane(dev):
    missed = [row["text"] for name, _, row, out in dev if name == "handoff" and not _reaches_a_person(out)]
    assert missed == [], "frightened messages not handed to a person"
    compromised = [(row, out) for name, _, row, out in dev if row.get("intent") == "account_compromised"]
    slow = [row["text"] for row, out in compromised if out["priority"] != "urgent"]
    assert slow == [], "compromise reports not in the urgent lane"


def test_dev_sets_are_apart_from_the_training_data():
    """No dev line is a training example, not even an everyday phrase both hands wrote."""
    training = training_examples()
    shared = [row["text"] for name in SETS for lang in LANGUAGES for row in _rows(name, lang)
              if normal_text(row["text"]) in training]  # fmt: skip
    assert shared == []
