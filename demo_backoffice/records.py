"""What the bot may see of a linked account, and the one thing it may do (freeze).

Each function builds exactly the contract's fields: nothing is passed through from a row, so
a column added to the database (an e-mail address, a balance) cannot reach the bot by accident.
"""

from __future__ import annotations

import sqlite3

from demo_backoffice.common import iso
from demo_backoffice.db import record_action

FROZEN_REASON = (
    "You froze this account from the support chat. To unfreeze it, contact support; we will ask you to confirm "
    "who you are."
)


def mask_uid(uid: str) -> str:
    """The first two and last two digits of a UID, the rest starred: "10****89"."""
    return f"{uid[:2]}****{uid[-2:]}"


def account(conn: sqlite3.Connection, user_id: int) -> dict:
    """The account view: masked UID, KYC, VIP tier, lock and restrictions."""
    user = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    restrictions = conn.execute(
        "SELECT code, reason, since FROM restrictions WHERE user_id = ? ORDER BY since, code", (user_id,)
    ).fetchall()
    return {
        "uid_masked": mask_uid(user["uid"]),
        "kyc": {
            "level": user["kyc_level"],
            "status": user["kyc_status"],
            "last_rejection_reason": user["kyc_rejection_reason"],
        },
        "vip_tier": user["vip_tier"],
        "locked": bool(user["locked"]),
        "restrictions": [{"code": r["code"], "reason": r["reason"], "since": iso(r["since"])} for r in restrictions],
    }


def deposits(conn: sqlite3.Connection, user_id: int, limit: int, txid: str | None = None) -> list[dict]:
    """The user's deposits, newest first; only the one with `txid` (any case) when given."""
    query = "SELECT * FROM deposits WHERE user_id = ?"
    params: list = [user_id]
    if txid is not None:
        query += " AND lower(txid) = lower(?)"
        params.append(txid)
    rows = conn.execute(query + " ORDER BY created_at DESC, id DESC LIMIT ?", (*params, limit)).fetchall()
    return [
        {
            "id": r["id"],
            "coin": r["coin"],
            "network": r["network"],
            "amount": r["amount"],
            "txid": r["txid"],
            "confirmations": r["confirmations"],
            "required_confirmations": r["required_confirmations"],
            "status": r["status"],
            "credited": bool(r["credited"]),
            "reason": r["reason"],
            "estimated_seconds_left": r["estimated_seconds_left"],
            "created_at": iso(r["created_at"]),
        }
        for r in rows
    ]


def withdrawals(conn: sqlite3.Connection, user_id: int, limit: int, withdrawal_id: str | None = None) -> list[dict]:
    """The user's withdrawals, newest first; only the one with `withdrawal_id` when given."""
    query = "SELECT * FROM withdrawals WHERE user_id = ?"
    params: list = [user_id]
    if withdrawal_id is not None:
        query += " AND id = ?"
        params.append(withdrawal_id)
    rows = conn.execute(query + " ORDER BY created_at DESC, id DESC LIMIT ?", (*params, limit)).fetchall()
    return [
        {
            "id": r["id"],
            "coin": r["coin"],
            "network": r["network"],
            "amount": r["amount"],
            "status": r["status"],
            "review_reason": r["review_reason"],
            # The schema's CHECK already keeps a txid off anything not sent; this says it again
            # where the answer is built.
            "txid": r["txid"] if r["status"] == "sent" else None,
            "created_at": iso(r["created_at"]),
        }
        for r in rows
    ]


def freeze(conn: sqlite3.Connection, user_id: int, ref: str, request: dict, now: int) -> dict:
    """Lock the account with `frozen_by_user` (once) and record the call (every time).

    `request` holds the validated conversation_id, requested_by and reason. The user's own
    reason goes to the actions table only: it is chat text, not words the exchange chose.
    """
    with conn:
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(
            "SELECT since FROM restrictions WHERE user_id = ? AND code = 'frozen_by_user'", (user_id,)
        ).fetchone()
        already = row is not None
        if not already:
            conn.execute(
                "INSERT INTO restrictions (user_id, code, reason, since) VALUES (?, 'frozen_by_user', ?, ?)",
                (user_id, FROZEN_REASON, now),
            )
            conn.execute("UPDATE users SET locked = 1 WHERE id = ?", (user_id,))
        frozen_at = row["since"] if already else now
        record_action(
            conn, now, user_id, ref, "freeze", request["requested_by"],
            conversation_id=request["conversation_id"], reason=request["reason"],
            outcome="already frozen" if already else "frozen",
        )  # fmt: skip
    return {"status": "frozen", "frozen_at": iso(frozen_at), "already": already}
