"""What a user notices of the decision policy, the specific answers and the entities: small
talk is not handed to people, the question asked gets its own answer, and what the user names
(a network, a coin, two networks) changes the answer where it should."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain.messages import InboundMessage


def decide(pipeline, text: str, hint: str | None = None):
    message = InboundMessage(platform="test", chat_id="c1", chat_kind="private", user_id="u1", text=text,
                             language_hint=hint)  # fmt: skip
    return asyncio.run(pipeline.process(message))


@pytest.mark.parametrize("text", [
    "that's all i need, i'm going now", "see you later", "is the earth flat", "what's the weather tomorrow",
    "can i deposit a check", "change color contrast", "wen moon ser", "my gmail account is locked",
])  # fmt: skip
def test_small_talk_and_other_domains_are_not_handed_to_people_nor_answered_as_support(pipeline, text):
    decision = decide(pipeline, text)
    assert decision.action.value != "handoff", (text, decision.intent)
    assert decision.priority is None
    if decision.action.value == "answer":
        assert decision.intent in ("greet", "thanks", "out_of_scope"), (text, decision.intent)


@pytest.mark.parametrize("text", [
    "i forgot my steam password and the reset mail never arrives",
    "mi cuenta de Instagram pide verificar identidad con selfie y no pasa",
    "Netflix says someone logged in to my account from another country, should i worry?",
    "la app de Nequi no me deja verificar mi identidad, rechaza la foto de la cédula",
])  # fmt: skip
def test_another_companys_account_gets_the_answer_that_it_is_theirs(pipeline, text):
    """Our own reset or 2FA steps would be wrong there, and a break-in at Netflix is no case for
    our security team."""
    decision = decide(pipeline, text)
    assert decision.priority is None, text
    assert decision.action.value in ("answer", "clarify"), text
    if decision.action.value == "answer":
        assert decision.answer_id == "out_of_scope/other_exchange", (text, decision.answer_id)


@pytest.mark.parametrize("text", [
    "someone logged in to my account and withdrew my BTC",
    "someone logged in to my gmail and changed the e-mail on my account here",
])  # fmt: skip
def test_a_break_in_naming_a_mail_or_a_coin_is_still_ours(pipeline, text):
    assert decide(pipeline, text).priority is not None, text


def test_each_question_of_an_intent_gets_its_own_answer(pipeline):
    enable = decide(pipeline, "how do I turn on 2FA?")
    lost = decide(pipeline, "I lost my phone and my google authenticator with it")
    assert (enable.intent, lost.intent) == ("two_factor_auth", "two_factor_auth")
    assert (enable.answer_id, lost.answer_id) == ("two_factor_auth/enable", "two_factor_auth/lost_device")
    assert enable.reply_text != lost.reply_text


@pytest.mark.parametrize("text, language, topics", [
    ("deposit", "en", {"deposit_missing", "fees"}), ("depósito", "es", {"deposit_missing"}),
])  # fmt: skip
def test_an_unsure_guess_is_offered_as_buttons_above_the_person(pipeline, text, language, topics):
    """One word could be a deposit that has not arrived or the deposit fees: the bot asks,
    offering both answers by the question each answers, in the user's language."""
    decision = decide(pipeline, text)
    assert decision.action.value == "clarify" and decision.language == language
    buttons = decision.reply.buttons
    assert buttons[-1].action == "handoff" and 1 <= len(buttons) - 1 <= 2
    offered = [b.action for b in buttons[:-1]]
    assert all(a.startswith("answer:") for a in offered), offered
    assert {a.split(":")[1] for a in offered} == topics, offered
    labels = [pipeline.texts.title(a.removeprefix("answer:").replace(":", "/"), language) for a in offered]
    assert [b.label for b in buttons[:-1]] == labels


def test_a_confident_answer_and_small_talk_offer_no_guesses(pipeline):
    assert not any(b.action.startswith("answer:") for b in decide(pipeline, "my deposit has not arrived").reply.buttons)
    small_talk = decide(pipeline, "is the earth flat")
    assert small_talk.reply is None or not any(b.action.startswith("answer:") for b in small_talk.reply.buttons)


@pytest.mark.parametrize("text", ["我的充值没到账", "비밀번호를 잊어버렸어요", "my deposit has not arrived"])
def test_a_reference_number_added_to_a_question_changes_nothing(pipeline, text):
    plain = decide(pipeline, text)
    for extra in (" (ref 900200)", " order #88123456", " 250 USDT"):
        with_ref = decide(pipeline, text + extra)
        assert (with_ref.intent, with_ref.action) == (plain.intent, plain.action), extra


def test_a_network_named_in_a_deposit_question_brings_its_confirmations(pipeline):
    decision = decide(pipeline, "my USDT deposit on TRC20 is still waiting for confirmations")
    assert decision.intent == "deposit_missing"
    assert decision.entities == {"coin": ["USDT"], "network": ["TRC20"]}
    assert "TRC20" in decision.reply_text and "20" in decision.reply_text.split("TRC20", 1)[1]


def test_two_networks_in_a_deposit_question_get_the_wrong_network_steps(pipeline):
    decision = decide(pipeline, "I sent USDT on BEP20 but my deposit address is TRC20, deposit not credited")
    assert decision.intent == "deposit_missing"
    assert decision.entities["network"] == ["BEP20", "TRC20"]
    assert "BEP20 / TRC20" in decision.reply_text


def test_a_labelled_transaction_hash_is_kept_and_named_a_bare_one_is_redacted(pipeline):
    txid = "9f" * 32
    kept = decide(pipeline, f"deposit not arrived, txid {txid}")
    assert kept.entities.get("txid") == [txid] and kept.action.value == "answer"
    redacted = decide(pipeline, f"my deposit {txid}")
    assert "txid" not in redacted.entities and redacted.action.value == "warn_secret"


def test_a_short_spanish_question_from_an_english_browser_is_answered_in_spanish(pipeline):
    decision = decide(pipeline, "retiro pendiente", hint="en-US")
    assert decision.language == "es"
    assert decision.intent == "withdrawal_pending"
