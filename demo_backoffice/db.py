"""The back office's SQLite database: schema, connection, passwords, link requests and links.

Times are stored as Unix seconds (integers compare and sort without parsing) and written as
ISO 8601 only on the way out. The account views and actions are in `records.py`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3

from demo_backoffice.common import MAX_FAILURES

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    uid TEXT NOT NULL UNIQUE,
    -- Held as an exchange holds it, and never answered: the tests look for it in every body.
    email TEXT NOT NULL,
    password_salt BLOB NOT NULL,
    password_hash BLOB NOT NULL,
    kyc_level INTEGER NOT NULL CHECK (kyc_level BETWEEN 0 AND 3),
    kyc_status TEXT NOT NULL CHECK (kyc_status IN ('verified', 'pending', 'rejected', 'none')),
    kyc_rejection_reason TEXT,
    vip_tier INTEGER NOT NULL CHECK (vip_tier BETWEEN 0 AND 9),
    locked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS restrictions (
    user_id INTEGER NOT NULL REFERENCES users (id),
    code TEXT NOT NULL
        CHECK (code IN ('security_lock', 'withdrawals_paused', 'kyc_required', 'frozen_by_user')),
    reason TEXT NOT NULL,
    since INTEGER NOT NULL,
    PRIMARY KEY (user_id, code)
);
CREATE TABLE IF NOT EXISTS deposits (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    coin TEXT NOT NULL,
    network TEXT NOT NULL,
    amount TEXT NOT NULL,
    txid TEXT NOT NULL,
    confirmations INTEGER NOT NULL,
    required_confirmations INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('confirming', 'credited', 'on_hold', 'failed')),
    credited INTEGER NOT NULL,
    reason TEXT,
    estimated_seconds_left INTEGER,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS withdrawals (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    coin TEXT NOT NULL,
    network TEXT NOT NULL,
    amount TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('under_review', 'processing', 'sent', 'rejected', 'cancelled')),
    review_reason TEXT,
    -- A transaction exists only once the withdrawal is sent.
    txid TEXT CHECK (txid IS NULL OR status = 'sent'),
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS link_requests (
    request_id TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Set when the user confirms (the request is then used up); NULL again if the bot did not
    -- take the confirmation, so the request stays pending as the contract says.
    account_ref TEXT,
    failures INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS links (
    account_ref TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    request_id TEXT NOT NULL REFERENCES link_requests (request_id),
    platform TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_by TEXT  -- 'bot' (DELETE), 'exchange' (the links page), 'undelivered' (callback failed)
);
CREATE TABLE IF NOT EXISTS actions (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    account_ref TEXT,
    action TEXT NOT NULL,        -- link, unlink, freeze
    requested_by TEXT NOT NULL,  -- user, agent:<name>, bot, exchange-site
    conversation_id TEXT,
    reason TEXT,
    outcome TEXT
);
"""

# scrypt at n=2**14, r=8: about 50 ms and 16 MiB a check, so guessing is slow and the demo
# still starts (five accounts hashed at seed time) in well under a second.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
# Checked against when the user name is unknown, so that a wrong name costs as long as a wrong
# password and the answer time does not say which user names exist.
_DUMMY_SALT = os.urandom(16)


def connect(path: str) -> sqlite3.Connection:
    """Open (creating if needed) the database at `path` (":memory:" for one that lives as long
    as the process) with the schema in place."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(SCHEMA)
    return conn


def is_empty(conn: sqlite3.Connection) -> bool:
    """True when no account exists yet (the server seeds the demo accounts then)."""
    return conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0


def hash_password(password: str, salt: bytes) -> bytes:
    """The stored form of a password: scrypt with the user's own salt."""
    return hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)


def check_password(conn: sqlite3.Connection, username: str, password: str) -> int | None:
    """The user's id when `password` is theirs, else None (unknown name or wrong password)."""
    row = conn.execute("SELECT id, password_salt, password_hash FROM users WHERE username = ?", (username,)).fetchone()
    salt, stored = (row["password_salt"], row["password_hash"]) if row else (_DUMMY_SALT, b"")
    given = hash_password(password, salt)
    return row["id"] if row and hmac.compare_digest(given, stored) else None


def add_link_request(conn: sqlite3.Connection, fields: dict, now: int, expires_in_s: int) -> str:
    """Store a new link request; its id (32 random bytes, URL-safe)."""
    request_id = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO link_requests (request_id, platform, platform_user_id, display_name, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (request_id, fields["platform"], fields["platform_user_id"], fields["display_name"], now, now + expires_in_s),
    )
    return request_id


def link_request(conn: sqlite3.Connection, request_id: str) -> sqlite3.Row | None:
    """The link request with this id, or None."""
    return conn.execute("SELECT * FROM link_requests WHERE request_id = ?", (request_id,)).fetchone()


def request_state(row: sqlite3.Row, now: int) -> str:
    """`confirmed`, `expired` (past its time, or closed after too many wrong passwords) or `pending`."""
    if row["account_ref"]:
        return "confirmed"
    if now >= row["expires_at"] or row["failures"] >= MAX_FAILURES:
        return "expired"
    return "pending"


def add_failure(conn: sqlite3.Connection, request_id: str) -> int:
    """Count one wrong password against the request; how many it has now."""
    conn.execute("UPDATE link_requests SET failures = failures + 1 WHERE request_id = ?", (request_id,))
    return conn.execute("SELECT failures FROM link_requests WHERE request_id = ?", (request_id,)).fetchone()[0]


def confirm_link(conn: sqlite3.Connection, request_id: str, user_id: int, now: int) -> str | None:
    """Use up the request and create the link; its new account_ref, or None when the request was
    no longer pending (used meanwhile, expired, closed)."""
    ref = secrets.token_urlsafe(24)
    with conn:
        conn.execute("BEGIN IMMEDIATE")
        # The condition makes the request single use even if two confirmations race.
        claimed = conn.execute(
            "UPDATE link_requests SET account_ref = ? WHERE request_id = ? AND account_ref IS NULL"
            " AND expires_at > ? AND failures < ?",
            (ref, request_id, now, MAX_FAILURES),
        ).rowcount
        if claimed != 1:
            return None
        conn.execute(
            "INSERT INTO links (account_ref, user_id, request_id, platform, platform_user_id, display_name, created_at)"
            " SELECT ?, ?, request_id, platform, platform_user_id, display_name, ? FROM link_requests"
            " WHERE request_id = ?",
            (ref, user_id, now, request_id),
        )
        record_action(conn, now, user_id, ref, "link", "user")
    return ref


def undo_link(conn: sqlite3.Connection, request_id: str, ref: str, now: int) -> None:
    """The bot did not take `link.confirmed`: revoke the new ref (nothing stays half-linked) and
    put the request back to pending."""
    with conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE links SET revoked_at = ?, revoked_by = 'undelivered' WHERE account_ref = ?", (now, ref))
        conn.execute(
            "UPDATE link_requests SET account_ref = NULL WHERE request_id = ? AND account_ref = ?", (request_id, ref)
        )


def link(conn: sqlite3.Connection, ref: str) -> sqlite3.Row | None:
    """The link with this account_ref (revoked or not), or None."""
    return conn.execute("SELECT * FROM links WHERE account_ref = ?", (ref,)).fetchone()


def live_links(conn: sqlite3.Connection, user_id: int) -> list[sqlite3.Row]:
    """The user's links that are not revoked, oldest first."""
    return conn.execute(
        "SELECT * FROM links WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at, account_ref", (user_id,)
    ).fetchall()


def revoke_link(conn: sqlite3.Connection, ref: str, now: int, by: str) -> bool:
    """Revoke a live link for good (`by`: 'bot' or 'exchange'); False when it was not live."""
    with conn:
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute("SELECT user_id FROM links WHERE account_ref = ? AND revoked_at IS NULL", (ref,)).fetchone()
        if row is None:
            return False
        conn.execute("UPDATE links SET revoked_at = ?, revoked_by = ? WHERE account_ref = ?", (now, by, ref))
        record_action(conn, now, row["user_id"], ref, "unlink", by)
    return True


def record_action(
    conn: sqlite3.Connection, now: int, user_id: int, ref: str | None, action: str, requested_by: str, **extra: str
) -> None:
    """One row of the `actions` table: who did what to which account, when, and why."""
    conn.execute(
        "INSERT INTO actions (at, user_id, account_ref, action, requested_by, conversation_id, reason, outcome)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (now, user_id, ref, action, requested_by, *(extra.get(k) for k in ("conversation_id", "reason", "outcome"))),
    )
