"""What a message names, in the ways users of each launch language write it."""

from __future__ import annotations

import pytest

from bot.domain import entities
from bot.domain.entities import extract

TXID = "0x" + "ab12" * 16


@pytest.mark.parametrize("text,expected", [
    (f"my 250 USDT on TRC20 has not arrived, txid {TXID}",
     {"coin": ["USDT"], "network": ["TRC20"], "amount": ["250"], "txid": [TXID]}),
    ("我的充值没到账 (ref 900200)", {"ticket_id": ["900200"]}),
    ("500U 波场 还没到", {"coin": ["USDT"], "network": ["TRC20"], "amount": ["500"]}),
    ("envié 0,5 btc por arbitrum, orden #88123456",
     {"coin": ["BTC"], "network": ["ARBITRUM"], "amount": ["0.5"], "order_id": ["88123456"]}),
    ("retrait de 1,200.50 usdt sur le réseau BEP20", {"coin": ["USDT"], "network": ["BEP20"], "amount": ["1200.50"]}),
    ("заявка № 12345, вывод 100 usdt через TRC20",
     {"coin": ["USDT"], "network": ["TRC20"], "amount": ["100"], "ticket_id": ["12345"]}),
    ("工单号：7731 提币 0.3 eth", {"coin": ["ETH"], "amount": ["0.3"], "ticket_id": ["7731"]}),
    ("XRP 50 送ったけどタグ忘れた", {"coin": ["XRP"], "amount": ["50"]}),
    ("주문번호 12345678 미체결", {"order_id": ["12345678"]}),
    ("nạp 3 SOL qua mạng solana chưa về", {"coin": ["SOL"], "amount": ["3"]}),
    ("sent 3 SOL on solana", {"coin": ["SOL"], "network": ["SOL"], "amount": ["3"]}),
    ("USDT-ERC20 sent to a TRC20 address", {"coin": ["USDT"], "network": ["ERC20", "TRC20"]}),
    ("any update on T-1042?", {"ticket_id": ["T-1042"]}),
])  # fmt: skip
def test_what_a_message_names_is_found(text, expected):
    assert extract(text) == expected


@pytest.mark.parametrize("text", [
    "tengo sol en la playa",  # the sun, not Solana
    "c'est ton compte ?",  # "your", not Toncoin
    "click the link please",  # a word, not Chainlink
    "I have 2 questions about fees",
])  # fmt: skip
def test_everyday_words_are_not_taken_for_coins(text):
    assert extract(text) == {}


@pytest.mark.parametrize("text", [
    "my gmail account is locked", "12306账号被锁了咋解锁", "インスタのアカウント凍結された", "PS5 비번 바꾸는 법",
    "не могу войти в госуслуги",
])  # fmt: skip
def test_another_companys_name_reads_as_one_word(text):
    """What the classifier learned of some companies' names holds for every name in the list."""
    assert entities.SERVICE_MARK in entities.with_services_marked(text).split()


@pytest.mark.parametrize("text", [
    "google authenticator codes rejected", "can I deposit from my bank", "withdraw 250 usdt on trc20",
    "the app crashes on my iphone", "como verifico mi identidad",
])  # fmt: skip
def test_the_exchanges_own_words_are_no_other_company(text):
    assert entities.with_services_marked(text) == text


@pytest.mark.parametrize("text, theirs", [
    ("Revolut wants a new selfie and keeps rejecting it", True),
    ("сбербанк онлайн не пускает, пароль забыл", True),
    ("케이뱅크 본인인증이 계속 안 돼요", True),
    ("sent 300 USDT from Revolut, where is it", False),  # a coin: the exchange's matter
    ("my bank rejected the card payment", False),  # no bank named
])  # fmt: skip
def test_a_bank_or_payment_app_by_name_unless_crypto_is_named(text, theirs):
    """Their sign-in and identity checks are theirs; the tokenizer still reads bank names as
    words (fiat deposits name banks), so what counts is the name, not the model's reading."""
    assert entities.names_a_bank_or_payment_app(text) is theirs
    assert entities.with_services_marked(text) == text


@pytest.mark.parametrize("text,expected", [
    # Typed in capitals on a Turkish keyboard: İ is i to the pattern, and to the lookup behind it
    # (lower() made "bi̇tcoi̇n" of it, no coin: the message failed in the pipeline).
    ("BİTCOİN ÇEKİMİM NEREDE", {"coin": ["BTC"]}),
    ("0.5 BİTCOİN gönderdim, via SOLANA", {"network": ["SOL"], "amount": ["0.5"], "coin": ["BTC", "SOL"]}),
])
def test_names_typed_with_turkish_capitals_are_found(text, expected):
    assert extract(text) == expected
