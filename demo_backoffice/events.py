"""Callbacks to the bot: `link.confirmed` and `link.revoked`, signed and POSTed to
`<bot-url>/backoffice/v1/events`.

The signature header is `t=<unix seconds>, v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`:
the time is inside what is signed so that a captured event cannot be replayed later with a
fresh `t`, and the receiver refuses a `t` older than 300 s and an `event_id` it has seen.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time

import aiohttp

from demo_backoffice.common import State, iso

log = logging.getLogger("demo_backoffice.events")

EVENTS_PATH = "/backoffice/v1/events"
SIGNATURE_HEADER = "X-Backoffice-Signature"
TIMEOUT_S = 2.0


def sign(secret: bytes, body: bytes, now: int) -> str:
    """The X-Backoffice-Signature value for `body` sent at Unix time `now`."""
    mac = hmac.new(secret, f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={now}, v1={mac}"


def link_confirmed(request: dict, ref: str, now: int) -> dict:
    """The `link.confirmed` event for a link request row just confirmed with `ref`."""
    return {
        "event": "link.confirmed",
        "request_id": request["request_id"],
        "account_ref": ref,
        "platform": request["platform"],
        "platform_user_id": request["platform_user_id"],
        "confirmed_at": iso(now),
        "event_id": secrets.token_urlsafe(16),
    }


def link_revoked(ref: str, now: int) -> dict:
    """The `link.revoked` event for a link the exchange removed."""
    return {"event": "link.revoked", "account_ref": ref, "event_id": secrets.token_urlsafe(16), "revoked_at": iso(now)}


async def deliver(state: State, event: dict) -> bool:
    """POST `event` to the bot; True when it answered 2xx within the timeout."""
    body = json.dumps(event, separators=(",", ":")).encode()
    # The real clock, not the demo clock (`POST /demo/clock`): the receiver compares `t` with
    # its own clock.
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(state.signing_secret, body, int(time.time()))}
    url = state.bot_url + EVENTS_PATH
    assert state.http is not None, "the client session is made at startup"
    try:
        async with state.http.post(
            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=TIMEOUT_S), allow_redirects=False
        ) as response:
            outcome = response.status
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        outcome = type(exc).__name__
    delivered = isinstance(outcome, int) and 200 <= outcome < 300
    # Which event and what came back; never the body (it names the chat user) or the headers.
    log.info("%s to the bot: %s (%s)", event["event"], "delivered" if delivered else "NOT delivered", outcome)
    return delivered
