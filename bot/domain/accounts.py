"""A user's own account as the exchange's back office describes it (docs/backoffice-api.yaml),
and the lines the bot says about it. No I/O here: `bot/services/backoffice_client.py` reads
the back office, `bot/services/accounts.py` decides when to ask it.

Only what the contract lets the bot see exists here: a masked UID, the KYC level and status,
the VIP tier, restrictions with their reasons, and deposits and withdrawals (coin, network,
amount, progress, status and the reason in words fit for the user). Never a full UID, an
address, a balance, an e-mail or a phone number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

# The intents whose answer starts from the user's own data in a private chat.
ACCOUNT_INTENTS = ("deposit_missing", "withdrawal_pending", "account_locked", "kyc_verification")
# A transaction id in a message: a 64-hex hash (most chains, with or without 0x) or a
# base58 signature (Solana, 80-90 characters).
TXID = re.compile(r"\b(?:0x)?[0-9a-fA-F]{64}\b|\b[1-9A-HJ-NP-Za-km-z]{80,90}\b")
LATEST = 3  # deposits or withdrawals told when the message names none


class BadAnswer(ValueError):
    """The back office answered something that is not the contract's shape."""


@dataclass(frozen=True)
class Restriction:
    code: str
    reason: str


@dataclass(frozen=True)
class Account:
    uid_masked: str
    kyc_level: int
    kyc_status: str
    kyc_rejection: Optional[str]
    vip_tier: int
    locked: bool
    restrictions: tuple[Restriction, ...]


@dataclass(frozen=True)
class Deposit:
    coin: str
    network: str
    amount: str
    txid: str
    confirmations: int
    required: int
    status: str  # confirming | credited | on_hold | failed
    reason: Optional[str]
    seconds_left: Optional[int]


@dataclass(frozen=True)
class Withdrawal:
    coin: str
    network: str
    amount: str
    status: str  # under_review | processing | sent | rejected | cancelled
    reason: Optional[str]
    txid: Optional[str]


def _get(raw: object, name: str, kind: type | tuple[type, ...], optional: bool = False) -> object:
    value = raw.get(name) if isinstance(raw, dict) else None
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise BadAnswer(f"{name}: expected {kind}")
    return value


def account_from(raw: object) -> Account:
    """The contract's account summary; BadAnswer when it is not one."""
    kyc = _get(raw, "kyc", dict)
    restrictions = _get(raw, "restrictions", list)
    return Account(
        uid_masked=str(_get(raw, "uid_masked", str)), kyc_level=int(_get(kyc, "level", int)),
        kyc_status=str(_get(kyc, "status", str)), kyc_rejection=_get(kyc, "last_rejection_reason", str, True),
        vip_tier=int(_get(raw, "vip_tier", int)), locked=bool(_get(raw, "locked", bool)),
        restrictions=tuple(Restriction(str(_get(r, "code", str)), str(_get(r, "reason", str))) for r in restrictions),
    )  # fmt: skip


def deposits_from(raw: object) -> list[Deposit]:
    """The contract's deposit list; BadAnswer when it is not one."""
    return [Deposit(
        coin=str(_get(d, "coin", str)), network=str(_get(d, "network", str)), amount=str(_get(d, "amount", str)),
        txid=str(_get(d, "txid", str)), confirmations=int(_get(d, "confirmations", int)),
        required=int(_get(d, "required_confirmations", int)), status=str(_get(d, "status", str)),
        reason=_get(d, "reason", str, True), seconds_left=_get(d, "estimated_seconds_left", int, True),
    ) for d in _get(raw, "deposits", list)]  # fmt: skip


def withdrawals_from(raw: object) -> list[Withdrawal]:
    """The contract's withdrawal list; BadAnswer when it is not one."""
    return [Withdrawal(
        coin=str(_get(w, "coin", str)), network=str(_get(w, "network", str)), amount=str(_get(w, "amount", str)),
        status=str(_get(w, "status", str)), reason=_get(w, "review_reason", str, True), txid=_get(w, "txid", str, True),
    ) for w in _get(raw, "withdrawals", list)]  # fmt: skip


Say = Callable[..., str]  # (reply key, **values) -> the text in the user's language


def _words(reason: Optional[str]) -> str:
    """A back office's reason without its closing stop: the sentence it goes into has one."""
    return (reason or "").strip().rstrip(".。!！")


def deposit_lines(deposits: list[Deposit], say: Say, by_txid: bool) -> list[str]:
    """What the user's deposits are doing, newest first."""
    if not deposits:
        return [say("account_deposit_none" if by_txid else "account_deposits_none")]
    lines = []
    for d in deposits[:LATEST]:
        if d.status == "confirming":
            minutes = max(1, round((d.seconds_left or 0) / 60))
            status = say("account_deposit_confirming", seen=d.confirmations, required=d.required, minutes=minutes)
        elif d.status == "credited":
            status = say("account_deposit_credited")
        else:
            key = "account_deposit_failed" if d.status == "failed" else "account_deposit_held"
            status = say(key, reason=_words(d.reason)).strip()
        lines.append(say("account_deposit", amount=d.amount, coin=d.coin, network=d.network, status=status))
    return lines


def withdrawal_lines(withdrawals: list[Withdrawal], say: Say) -> list[str]:
    """What the user's withdrawals are doing, newest first."""
    if not withdrawals:
        return [say("account_withdrawals_none")]
    lines = []
    for w in withdrawals[:LATEST]:
        key = {"under_review": "account_withdrawal_review", "sent": "account_withdrawal_sent",
               "rejected": "account_withdrawal_rejected", "cancelled": "account_withdrawal_cancelled"}.get(
            w.status, "account_withdrawal_processing")  # fmt: skip
        status = say(key, reason=_words(w.reason), txid=w.txid or "").strip()
        lines.append(say("account_withdrawal", amount=w.amount, coin=w.coin, network=w.network, status=status))
    return lines


def restriction_lines(account: Account, say: Say) -> list[str]:
    """Why the account is locked or restricted, or that it is not."""
    if not account.restrictions and not account.locked:
        return [say("account_not_locked")]
    lines = []
    for r in account.restrictions:
        locking = r.code in ("security_lock", "frozen_by_user")
        lines.append(say("account_locked" if locking else "account_restricted", reason=r.reason.strip()))
    return lines


def kyc_lines(account: Account, say: Say) -> list[str]:
    """The verification level and status, and why the last one was rejected."""
    status = say({"verified": "account_kyc_verified", "pending": "account_kyc_pending",
                  "rejected": "account_kyc_rejected_short"}.get(account.kyc_status, "account_kyc_none"))  # fmt: skip
    lines = [say("account_kyc", level=account.kyc_level, status=status)]
    if account.kyc_status == "rejected" and account.kyc_rejection:
        lines.append(say("account_kyc_rejected", reason=account.kyc_rejection.strip()))
    return lines


def card_of(account: Account, deposits: list[Deposit], withdrawals: list[Withdrawal]) -> dict[str, object]:
    """The account as the agents' console shows it (JSON)."""
    return {
        "uid_masked": account.uid_masked, "vip_tier": account.vip_tier, "locked": account.locked,
        "kyc": {"level": account.kyc_level, "status": account.kyc_status,
                "last_rejection_reason": account.kyc_rejection},
        "restrictions": [{"code": r.code, "reason": r.reason} for r in account.restrictions],
        "deposits": [{"coin": d.coin, "network": d.network, "amount": d.amount, "status": d.status, "txid": d.txid,
                      "confirmations": d.confirmations, "required_confirmations": d.required, "reason": d.reason}
                     for d in deposits],
        "withdrawals": [{"coin": w.coin, "network": w.network, "amount": w.amount, "status": w.status,
                         "reason": w.reason, "txid": w.txid} for w in withdrawals],
    }  # fmt: skip


def txid_in(text: str) -> Optional[str]:
    """The first transaction id the message names, if any."""
    found = TXID.search(text)
    return found.group(0) if found else None
