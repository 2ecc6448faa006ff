"""The web chat's session ids: issued by the server, never picked by the page; and its history
cursors, which are line ids Redis gave.

A session id is the only credential that reads a conversation, so it is 128 random bits and
a signature over them (HMAC-SHA256, cut to 128 bits): any replica checks an id without asking
Redis, and an id the server did not issue (`abcdefgh`, a guess) is refused. The key comes
from `WEBCHAT_SESSION_SECRET` in the environment or, when that is absent, from Redis, where
the first replica to start puts a random one (`WebChatSessions.signing_secret`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

NONCE_BYTES = 16  # 128 bits of randomness
ISSUED = re.compile(r"^[0-9a-f]{64}$")  # the nonce and its signature, in hex


class SessionIds:
    """Issues session ids and recognises the ones it issued."""

    def __init__(self, secret: bytes) -> None:
        # Hashed first: whatever the environment holds, the key is 32 bytes.
        self._key = hashlib.sha256(b"supportbot webchat session\0" + secret).digest()

    def _signature(self, nonce: str) -> str:
        return hmac.digest(self._key, nonce.encode(), "sha256").hex()[: NONCE_BYTES * 2]

    def issue(self) -> str:
        """A new session id."""
        nonce = secrets.token_hex(NONCE_BYTES)
        return nonce + self._signature(nonce)

    def issued(self, session: str) -> bool:
        """Whether this server (or a replica sharing its secret) issued `session`."""
        if not ISSUED.match(session):
            return False
        nonce, signature = session[: NONCE_BYTES * 2], session[NONCE_BYTES * 2 :]
        return hmac.compare_digest(signature, self._signature(nonce))


def is_cursor(after: str) -> bool:
    """Whether `after` is a line id Redis could have given (each part at most 2**64 - 1, and
    not the last id there is, which no line comes after): Redis refuses any other, and that
    refusal read as an outage (a 503 the page would retry forever)."""
    parts = re.fullmatch(r"(\d{1,20})-(\d{1,20})", after)
    if parts is None:
        return False
    time_part, sequence = int(parts[1]), int(parts[2])
    return time_part <= LAST_ID_PART and sequence <= LAST_ID_PART and (time_part, sequence) != (LAST_ID_PART,) * 2


LAST_ID_PART = 2**64 - 1
