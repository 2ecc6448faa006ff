"""The `replay` contract: JSON lines in, one decision per line out, bad lines included."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from mnemonic import Mnemonic

from tests.conftest import ROOT, free_port

SEED = Mnemonic("english").to_mnemonic(bytes(range(16)))
CONTRACT_KEYS = {"id", "language", "intent", "confidence", "action", "priority", "reply", "answer_id", "entities",
                 "suggested"}


def line(ident: str, text: object, **fields: object) -> bytes:
    record = {"id": ident, "platform": "telegram", "chat_type": "private", "chat_id": "c1",
              "user_id": ident, "text": text, "addressed": True, **fields}  # fmt: skip
    return json.dumps(record, ensure_ascii=False).encode()


INPUT = [
    line("es", "hola, mi retiro de USDT lleva 3 horas pendiente"),
    b"this is not json",
    b"[1, 2, 3]",
    b'{"id": "no-text"}',
    b'{"id": "binary", "text": "\xff\xfe\x00\x01"}',
    line("huge", "a" * 1_000_000),
    line("empty", "   "),
    line("control", "hi\x00there"),
    line("number", 42),
    line("chatter", "lol eth to the moon", chat_type="group", chat_id="g1", addressed=False),
    line("group-secret", f"guys is this safe {SEED}", chat_type="group", chat_id="g1", addressed=False),
    line("group-question", "@ExampleXBot como verifico mi identidad?", chat_type="group", chat_id="g1"),
    line("seed", SEED),
    line("hacked", "someone logged into my account and withdrew all my btc"),
    line("human", "i want to talk to a real person"),
    line("complaint", "this is the worst service ever, I demand compensation for my losses"),
    line("gibberish", "blorf snargle wibble zork"),
    line("after", "where is my deposit? sent usdt trc20 an hour ago"),
]


@pytest.fixture(scope="module")
def outputs(model_path) -> dict:
    # No Redis answers at this address: replay must not need one.
    env_redis = f"redis://127.0.0.1:{free_port()}/0"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "replay"], cwd=ROOT, input=b"\n".join(INPUT) + b"\n",
        capture_output=True, timeout=300, env={**__import__("os").environ, "REDIS_URL": env_redis},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    lines = [json.loads(out) for out in done.stdout.decode().splitlines()]
    assert len(lines) == len(INPUT), "one output line per input line"
    return {"lines": lines, "stderr": done.stderr.decode()}


def test_one_line_out_per_line_in_in_order(outputs):
    ids = [out.get("id") for out in outputs["lines"]]
    assert ids[0] == "es" and ids[-1] == "after"
    assert ids[11:16] == ["group-question", "seed", "hacked", "human", "complaint"]


def test_decisions_carry_exactly_the_contract_fields(outputs):
    good = [out for out in outputs["lines"] if "error" not in out]
    assert len(good) == 10
    for out in good:
        assert set(out) == CONTRACT_KEYS
        assert out["action"] in {"answer", "clarify", "handoff", "warn_secret", "ignore"}
        assert "{" not in out["reply"], "every placeholder is filled"


def test_a_spanish_question_gets_a_spanish_answer(outputs):
    out = outputs["lines"][0]
    assert (out["language"], out["intent"], out["action"]) == ("es", "withdrawal_pending", "answer")
    assert "ExampleX" in out["reply"] or "retiro" in out["reply"].lower()


@pytest.mark.parametrize("index,code", [(1, "not_json"), (2, "not_object"), (3, "missing_text"), (4, "not_utf8"),
                                        (5, "too_long"), (6, "empty"), (7, "binary"), (8, "not_text")])  # fmt: skip
def test_bad_lines_get_a_clear_error_and_the_run_goes_on(outputs, index, code):
    out = outputs["lines"][index]
    assert out["error"].startswith(code)


def test_huge_text_is_refused_without_being_echoed(outputs):
    out = outputs["lines"][5]
    assert out["id"] == "huge" and len(json.dumps(out)) < 2000


def test_groups_are_silent_unless_addressed_or_a_secret_is_pasted(outputs):
    chatter, group_secret, question = outputs["lines"][9:12]
    assert (chatter["action"], chatter["reply"]) == ("ignore", "")
    assert group_secret["action"] == "warn_secret"
    assert question["action"] in ("answer", "clarify") and question["reply"], "addressed: answered or asked"
    assert question["language"] == "es"


def test_a_seed_phrase_is_warned_about_and_never_repeated(outputs):
    for out in (outputs["lines"][10], outputs["lines"][12]):
        assert out["action"] == "warn_secret"
        assert SEED.split()[3] not in out["reply"].split()
        assert " ".join(SEED.split()[:3]) not in out["reply"]
    assert " ".join(SEED.split()[:3]) not in outputs["stderr"]


def test_what_a_bot_must_not_handle_alone_is_handed_off(outputs):
    hacked, human, complaint = outputs["lines"][13:16]
    assert (hacked["intent"], hacked["action"], hacked["priority"]) == ("account_compromised", "handoff", "urgent")
    assert "https://example.com/account/freeze" in hacked["reply"], "the safety steps come in the same reply"
    assert (human["action"], human["priority"]) == ("handoff", "normal")
    assert (complaint["action"], complaint["priority"]) == ("handoff", "high")


def test_nonsense_gets_a_question_or_the_scope_reply_not_a_guess(outputs):
    out = outputs["lines"][16]
    assert out["action"] == "clarify" or (out["action"], out["intent"]) == ("answer", "out_of_scope")
    assert out["reply"]


def test_the_question_asked_and_what_it_names_come_with_the_decision(outputs):
    out = outputs["lines"][17]
    assert out["intent"] == "deposit_missing" and out["answer_id"].startswith("deposit_missing/")
    assert out["entities"] == {"coin": ["USDT"], "network": ["TRC20"]}
