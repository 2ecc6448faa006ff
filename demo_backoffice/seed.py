"""The demo accounts: one for every state the bot must handle. Ids and txids are fixed so that
tests (here and in the bot) can name them; times are relative to when the database is seeded.

| user  | UID      | shows                                                                    |
|-------|----------|--------------------------------------------------------------------------|
| alice | 10234589 | every deposit state, and withdrawals under review, sent and rejected      |
| bob   | 20457713 | a locked account (security lock, withdrawals paused), a cancelled withdrawal |
| carol | 30871206 | KYC 3, VIP 4, a credited deposit and a withdrawal being processed         |
| dave  | 40916655 | KYC rejected with the reason, KYC required                               |
| erin  | 51230078 | KYC pending and nothing else: no deposits, no withdrawals                |

Every account's password is `DEMO_PASSWORD`.
"""

from __future__ import annotations

import os
import sqlite3

from demo_backoffice.db import hash_password

DEMO_PASSWORD = "demo"
ALICE_UID, BOB_UID, CAROL_UID, DAVE_UID, ERIN_UID = "10234589", "20457713", "30871206", "40916655", "51230078"

ALICE_USDT_DEPOSIT_ID = "D1001"  # 500 USDT TRC20, 12/20 confirmations, confirming
ALICE_USDT_TXID = "7f3a028ee4d69bebd6861a6fe0e77cfb589509e91f657d34e9532ad5666d8c4b"
ALICE_XRP_DEPOSIT_ID = "D1002"  # 120 XRP without the destination tag: on hold
ALICE_XRP_TXID = "5D290E996CB0A94F1A25BC2B81EBFE4BD13BE2EF24F4197745A4E6C5FE84812F"
ALICE_BEP20_DEPOSIT_ID = "D1003"  # 30 USDT over BEP20 to an address that takes ERC20 only: failed
ALICE_BEP20_TXID = "0x3d76a14554b1293c1769fa3aa3648954fa6a2ab70bc90252c6c5bbe78bb1eb9f"
ALICE_BTC_DEPOSIT_ID = "D1004"  # 0.05 BTC, credited
ALICE_BTC_TXID = "5693d26c20e62f3fc51e0fdc73b7d589ac5e086134033ad8cfb8b473414ceabb"
CAROL_ETH_DEPOSIT_ID = "D1005"  # 2.5 ETH, credited
CAROL_ETH_TXID = "0x9db7152cf85351bd494ee0c9f9a8673ca08dcd7078f2f4faa584e94db1fef60c"

ALICE_USDT_WITHDRAWAL_ID = "W2001"  # 1000 USDT TRC20, under review
ALICE_ETH_WITHDRAWAL_ID = "W2002"  # 0.2 ETH, sent
ALICE_ETH_WITHDRAWAL_TXID = "0xd759d5651691e22e897201418bd6bc5a8e81bc7bc3e5eac0aa3e1defdf5dcbeb"
ALICE_SOL_WITHDRAWAL_ID = "W2003"  # 50 SOL, rejected
BOB_USDT_WITHDRAWAL_ID = "W2004"  # 200 USDT ERC20, cancelled by the security lock
CAROL_USDT_WITHDRAWAL_ID = "W2005"  # 10000 USDT ERC20, processing

XRP_REASON = (
    "The deposit arrived without the destination tag (memo). Contact support with the transaction id to have it "
    "credited."
)
BEP20_REASON = (
    "This USDT was sent over BNB Smart Chain (BEP20) to your Ethereum (ERC20) deposit address, which does not "
    "accept BEP20 deposits, so it could not be credited. Contact support with the transaction id; recovering it is "
    "not always possible."
)
UNDER_REVIEW_REASON = (
    "We are checking that this withdrawal was made by you. This usually takes up to 24 hours; no action is needed "
    "from you."
)
SOL_REJECTED_REASON = (
    "The destination is not a valid Solana address, so the withdrawal was not sent. The 50 SOL are back in your "
    "account; check the address and try again."
)
BOB_CANCELLED_REASON = (
    "Cancelled because your account was locked for security. Nothing left your account; you can request the "
    "withdrawal again once the account is unlocked."
)
SECURITY_LOCK_REASON = "Locked after 5 failed sign-in attempts. Reset your password from the sign-in page to unlock it."
WITHDRAWALS_PAUSED_REASON = "Withdrawals are paused for 24 hours after a password change."
DAVE_REJECTION_REASON = "The photo of your document was blurred. Upload a sharp photo of the whole document."
KYC_REQUIRED_REASON = "Verify your identity to deposit, trade or withdraw."

MINUTE, HOUR, DAY = 60, 3600, 86400

# username, uid, kyc level, kyc status, rejection reason, vip tier, locked
_USERS = [
    ("alice", ALICE_UID, 2, "verified", None, 0, False),
    ("bob", BOB_UID, 1, "verified", None, 0, True),
    ("carol", CAROL_UID, 3, "verified", None, 4, False),
    ("dave", DAVE_UID, 0, "rejected", DAVE_REJECTION_REASON, 0, False),
    ("erin", ERIN_UID, 1, "pending", None, 0, False),
]
# username, code, reason, how long ago
_RESTRICTIONS = [
    ("bob", "security_lock", SECURITY_LOCK_REASON, 2 * HOUR),
    ("bob", "withdrawals_paused", WITHDRAWALS_PAUSED_REASON, 3 * HOUR),
    ("dave", "kyc_required", KYC_REQUIRED_REASON, 5 * DAY),
]
# id, username, coin, network, amount, txid, confirmations, required, status, reason, seconds left, how long ago
_DEPOSITS = [
    (ALICE_USDT_DEPOSIT_ID, "alice", "USDT", "TRC20", "500.00", ALICE_USDT_TXID, 12, 20, "confirming", None, 240,
     4 * MINUTE),
    (ALICE_XRP_DEPOSIT_ID, "alice", "XRP", "XRP Ledger", "120.00", ALICE_XRP_TXID, 1, 1, "on_hold", XRP_REASON, None,
     2 * HOUR),
    (ALICE_BEP20_DEPOSIT_ID, "alice", "USDT", "BEP20", "30.00", ALICE_BEP20_TXID, 15, 15, "failed", BEP20_REASON,
     None, DAY),
    (ALICE_BTC_DEPOSIT_ID, "alice", "BTC", "Bitcoin", "0.05", ALICE_BTC_TXID, 6, 2, "credited", None, None, 3 * DAY),
    (CAROL_ETH_DEPOSIT_ID, "carol", "ETH", "ERC20", "2.50", CAROL_ETH_TXID, 64, 12, "credited", None, None, 2 * DAY),
]  # fmt: skip
# id, username, coin, network, amount, status, review reason, txid, how long ago
_WITHDRAWALS = [
    (ALICE_USDT_WITHDRAWAL_ID, "alice", "USDT", "TRC20", "1000.00", "under_review", UNDER_REVIEW_REASON, None,
     30 * MINUTE),
    (ALICE_ETH_WITHDRAWAL_ID, "alice", "ETH", "ERC20", "0.20", "sent", None, ALICE_ETH_WITHDRAWAL_TXID, 2 * DAY),
    (ALICE_SOL_WITHDRAWAL_ID, "alice", "SOL", "Solana", "50.00", "rejected", SOL_REJECTED_REASON, None, 4 * DAY),
    (BOB_USDT_WITHDRAWAL_ID, "bob", "USDT", "ERC20", "200.00", "cancelled", BOB_CANCELLED_REASON, None, 2 * HOUR),
    (CAROL_USDT_WITHDRAWAL_ID, "carol", "USDT", "ERC20", "10000.00", "processing", None, None, 20 * MINUTE),
]  # fmt: skip


def seed(conn: sqlite3.Connection, now: int) -> None:
    """Insert the demo accounts, their restrictions, deposits and withdrawals (one transaction)."""
    with conn:
        conn.execute("BEGIN IMMEDIATE")
        ids = {}
        for username, uid, level, status, rejection, vip, locked in _USERS:
            salt = os.urandom(16)
            ids[username] = conn.execute(
                "INSERT INTO users (username, uid, email, password_salt, password_hash, kyc_level, kyc_status,"
                " kyc_rejection_reason, vip_tier, locked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (username, uid, f"{username}@example.com", salt, hash_password(DEMO_PASSWORD, salt), level, status,
                 rejection, vip, int(locked)),
            ).lastrowid  # fmt: skip
        for username, code, reason, ago in _RESTRICTIONS:
            conn.execute(
                "INSERT INTO restrictions (user_id, code, reason, since) VALUES (?, ?, ?, ?)",
                (ids[username], code, reason, now - ago),
            )
        for dep_id, username, *fields, ago in _DEPOSITS:
            coin, network, amount, txid, confirmations, required, status, reason, left = fields
            conn.execute(
                "INSERT INTO deposits (id, user_id, coin, network, amount, txid, confirmations, required_confirmations,"
                " status, credited, reason, estimated_seconds_left, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (dep_id, ids[username], coin, network, amount, txid, confirmations, required, status,
                 int(status == "credited"), reason, left, now - ago),
            )  # fmt: skip
        for wd_id, username, coin, network, amount, status, reason, txid, ago in _WITHDRAWALS:
            conn.execute(
                "INSERT INTO withdrawals (id, user_id, coin, network, amount, status, review_reason, txid, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (wd_id, ids[username], coin, network, amount, status, reason, txid, now - ago),
            )
