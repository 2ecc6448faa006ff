"""Signals that hand a message to a person whatever the NLU says (`data/signals.yml`)."""

from __future__ import annotations

import pytest
import yaml

from bot.domain.signals import Signals
from tests.conftest import ROOT

signals = Signals.load()


@pytest.mark.parametrize("text", [
    "there's an api key i didn't create in my account", "withdrawal to an address that is not mine",
    "有一笔提币不是我操作的", "alguien entró a mi cuenta y sacó todo", "je n'ai pas fait ce retrait",
    "кто-то вывел все мои usdt", "身に覚えのない出金があります", "제가 안 한 주문이 체결됐어요",
    "tôi không hề rút số tiền này",
    # Negation after the object, spoken French without "ne", Vietnamese typed without accents.
    "API 키가 새로 생겼는데 저는 만든 적 없어요", "2단계 인증이 꺼져 있어요 제가 끈 거 아닌데",
    "y a des ordres que j'ai pas passés", "sang ngu day tai khoan bi rut sach", "出金なんてしてないのに出金完了メール",
])  # fmt: skip
def test_activity_the_user_did_not_do_goes_to_the_security_lane(text):
    assert signals.intent_for(text) == "account_compromised"


@pytest.mark.parametrize("text", [
    "your outage liquidated me, I want compensation", "系统卡顿导致爆仓 要求赔偿", "exijo una indemnización",
    "je veux être dédommagé", "требую компенсацию за простой", "損失を補償してください", "손해 배상 요구합니다",
    "sàn phải bồi thường cho tôi",
])  # fmt: skip
def test_a_demand_for_money_goes_to_a_person(text):
    assert signals.intent_for(text) == "complaint"


@pytest.mark.parametrize("text", [
    "i can't withdraw", "tôi không rút được tiền", "이벤트 보상 언제 지급돼요", "我没法提现",
    "why is my account suspended, i didnt do anything wrong", "quelqu'un a pris en charge mon ticket ?",
    "KYC 신청한 적 없는데 어떻게 해요", "被爆仓了 余额全没了", "подозрительных входов не было, почему блок?",
    "개미는 또 털렸네", "まだ出金してないけど手数料は？",
])  # fmt: skip
def test_ordinary_questions_do_not_trip_a_signal(text):
    assert signals.intent_for(text) is None


def test_no_signal_fires_on_the_training_data_of_answerable_intents():
    fired = []
    # Not the `.outside.yml` files: another service's hacked account or a flight's compensation
    # is no support question of ours, and a signal there costs an agent a look, not a user funds.
    for path in sorted(p for p in (ROOT / "data" / "nlu").glob("*.yml") if ".outside" not in p.name):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if block["intent"] in ("account_compromised", "complaint", "human_agent"):
                continue
            for line in block["examples"].splitlines():
                if line.startswith("- ") and signals.intent_for(line[2:]):
                    fired.append((path.stem, block["intent"], line[2:]))
    assert fired == []
