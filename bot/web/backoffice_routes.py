"""`POST /backoffice/v1/events`: what the exchange's back office tells the bot
(docs/backoffice-api.yaml, the callbacks of `POST /v1/link-requests`): a link confirmed on its
sign-in page, a link it removed.

Every event is signed: `X-Backoffice-Signature: t=<unix seconds>, v1=<hex HMAC-SHA256 keyed
with BACKOFFICE_SIGNING_SECRET over "<t>.<raw body>">`. Refused, each with one log line (never
the signature, the body or the secret): a signature more than `SIGNATURE_WINDOW_SECONDS` off
(401), a wrong one (401), an event id seen before (409), a confirmation whose request expired,
was spent or never made (410), and a confirmation for another user than the one the link was
given to (403).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time

from aiohttp import web

from bot.services.accounts import Accounts
from bot.web.responses import json_error

log = logging.getLogger(__name__)
SIGNATURE_WINDOW_SECONDS = 300
MAX_EVENT_BYTES = 16 * 1024
_SIGNATURE = re.compile(r"t=(\d{1,12}),\s*v1=([0-9a-f]{64})")
_FIELDS = {"link.confirmed": ("request_id", "account_ref", "platform", "platform_user_id", "event_id"),
           "link.revoked": ("account_ref", "event_id")}
_REFUSED = {"replayed": (409, "this event was taken before"),
            "unknown": (410, "no such link request waiting: expired, used or never made"),
            "foreign": (403, "this link request was made for another user")}  # fmt: skip


def signed(secret: bytes, header: str, body: bytes, now: float) -> bool:
    """Whether `header` signs `body` with `secret` at a time within the window of `now`."""
    found = _SIGNATURE.fullmatch(header.strip())
    if not found or abs(now - int(found.group(1))) > SIGNATURE_WINDOW_SECONDS:
        return False
    expected = hmac.new(secret, found.group(1).encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, found.group(2))


def backoffice_routes(accounts: Accounts, secret: bytes) -> list[web.AbstractRouteDef]:
    """The events route, checking signatures with `secret`."""

    async def events(request: web.Request) -> web.Response:
        body = await request.content.read(MAX_EVENT_BYTES + 1)
        if len(body) > MAX_EVENT_BYTES:
            return _refused(413, "too_large", "an event is a small JSON object")
        if not signed(secret, request.headers.get("X-Backoffice-Signature", ""), body, time.time()):
            return _refused(401, "bad_signature", "the signature is missing, wrong or too old")
        try:
            event = json.loads(body)
        except (ValueError, RecursionError):  # not JSON; nested deeper than the parser recurses
            event = None
        kind = event.get("event") if isinstance(event, dict) else None
        if kind not in _FIELDS or not all(isinstance(event.get(f), str) and event[f] for f in _FIELDS[kind]):
            return _refused(400, "bad_event", "not an event this bot knows")
        if kind == "link.revoked":
            await accounts.revoked(event)
            return web.json_response({"ok": True})
        outcome = await accounts.confirmed(event)
        if outcome in _REFUSED:
            status, why = _REFUSED[outcome]
            return _refused(status, outcome, why)
        return web.json_response({"ok": True})

    return [web.post("/backoffice/v1/events", events)]


def _refused(status: int, code: str, message: str) -> web.Response:
    log.warning("back office event refused: %s", code)
    return json_error(status, code, message)
