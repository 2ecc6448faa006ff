"""The /v1 JSON routes of the back-office contract (docs/backoffice-api.yaml).

The bearer token is checked before any of these run (`server.py`); each handler validates its
own input and answers the contract's errors through `api_error`.
"""

from __future__ import annotations

import json
import re
import sqlite3

from aiohttp import web

from demo_backoffice import VERSION, db, records
from demo_backoffice.common import ACCOUNT_REF, PLATFORMS, REQUEST_ID, STATE, State, api_error, iso

_REQUESTED_BY = re.compile(r"user|agent:[A-Za-z0-9._@-]{1,64}")
# A display name is shown on the link page: control characters (and line separators) could
# fake a second line there, and a name of spaces says nothing. The same rule is the `pattern` of
# display_name in docs/backoffice-api.yaml; the space list is spelled out because Python's \s
# and the ECMA one that pattern uses disagree on some characters.
_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_SPACE = r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff"
_DISPLAY_NAME = re.compile(f"[^{_CONTROL}]*[^{_CONTROL}{_SPACE}][^{_CONTROL}]*")


async def read_object(request: web.Request) -> dict:
    """The request body as a JSON object, or 400 bad_request."""
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise api_error(400, "bad_request", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise api_error(400, "bad_request", "the body must be a JSON object")
    return body


def text_field(body: dict, name: str, max_length: int) -> str:
    """A required string field of 1 to `max_length` characters, or 400 bad_request."""
    value = body.get(name)
    if not isinstance(value, str) or not 1 <= len(value) <= max_length:
        raise api_error(400, "bad_request", f"{name} must be a string of 1 to {max_length} characters")
    return value


def int_field(value: object, name: str, low: int, high: int) -> int:
    """A JSON integer from `low` to `high`, or 400 bad_request (a string or `true` is not one)."""
    # bool is an int in Python; `true` is not a number in the contract.
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise api_error(400, "bad_request", f"{name} must be an integer from {low} to {high}")
    return value


def live_link(request: web.Request) -> sqlite3.Row:
    """The link named by the path's account_ref: 404 when unknown, 410 link_revoked when revoked."""
    ref = request.match_info["account_ref"]
    row = db.link(request.app[STATE].db, ref) if ACCOUNT_REF.fullmatch(ref) else None
    if row is None:
        raise api_error(404, "not_found", "no such account_ref")
    if row["revoked_at"] is not None:
        raise api_error(410, "link_revoked", "this link was removed; ask the user to link again")
    return row


async def health(request: web.Request) -> web.Response:
    """GET /v1/health: up, and the contract version (no token needed)."""
    return web.json_response({"status": "ok", "version": VERSION})


async def create_link_request(request: web.Request) -> web.Response:
    """POST /v1/link-requests: a single-use link for a chat user to confirm on the page."""
    body = await read_object(request)
    platform = body.get("platform")
    if not isinstance(platform, str) or platform not in PLATFORMS:
        raise api_error(400, "bad_request", f"platform must be one of {', '.join(PLATFORMS)}")
    fields = {
        "platform": platform,
        "platform_user_id": text_field(body, "platform_user_id", 128),
        "display_name": text_field(body, "display_name", 64),
    }
    if not _DISPLAY_NAME.fullmatch(fields["display_name"]):
        raise api_error(400, "bad_request", "display_name must be visible text without control characters")
    expires_in_s = int_field(body.get("expires_in_s"), "expires_in_s", 60, 3600)
    state: State = request.app[STATE]
    now = state.clock.now()
    request_id = db.add_link_request(state.db, fields, now, expires_in_s)
    return web.json_response(
        {
            "request_id": request_id,
            "url": f"{state.public_url}/link/{request_id}",
            "expires_at": iso(now + expires_in_s),
        },
        status=201,
    )


async def get_link_request(request: web.Request) -> web.Response:
    """GET /v1/link-requests/{request_id}: pending, confirmed (with the ref) or expired."""
    state: State = request.app[STATE]
    request_id = request.match_info["request_id"]
    row = db.link_request(state.db, request_id) if REQUEST_ID.fullmatch(request_id) else None
    if row is None:
        raise api_error(404, "not_found", "no such link request")
    return web.json_response(
        {
            "state": db.request_state(row, state.clock.now()),
            "account_ref": row["account_ref"],
            "platform": row["platform"],
            "platform_user_id": row["platform_user_id"],
        }
    )


async def get_account(request: web.Request) -> web.Response:
    """GET /v1/links/{account_ref}/account."""
    row = live_link(request)
    return web.json_response(records.account(request.app[STATE].db, row["user_id"]))


def query_limit(request: web.Request) -> int:
    """The `limit` query parameter: 1 to 10, 5 when left out; else 400 bad_request."""
    given = request.query.get("limit", "5")
    return int_field(int(given) if re.fullmatch(r"[0-9]{1,3}", given) else None, "limit", 1, 10)


def _filter(request: web.Request, name: str, max_length: int) -> str | None:
    value = request.query.get(name)
    if value is not None and not 1 <= len(value) <= max_length:
        raise api_error(400, "bad_request", f"{name} must be 1 to {max_length} characters")
    return value


async def list_deposits(request: web.Request) -> web.Response:
    """GET /v1/links/{account_ref}/deposits?txid=&limit=: newest first, or the one txid."""
    row = live_link(request)
    limit = query_limit(request)
    txid = _filter(request, "txid", 128)
    return web.json_response({"deposits": records.deposits(request.app[STATE].db, row["user_id"], limit, txid)})


async def list_withdrawals(request: web.Request) -> web.Response:
    """GET /v1/links/{account_ref}/withdrawals?id=&limit=: newest first, or the one id."""
    row = live_link(request)
    limit = query_limit(request)
    withdrawal_id = _filter(request, "id", 64)
    items = records.withdrawals(request.app[STATE].db, row["user_id"], limit, withdrawal_id)
    return web.json_response({"withdrawals": items})


async def freeze(request: web.Request) -> web.Response:
    """POST /v1/links/{account_ref}/actions/freeze: lock the account at the user's request."""
    row = live_link(request)
    body = await read_object(request)
    asked = {
        "conversation_id": text_field(body, "conversation_id", 128),
        "requested_by": text_field(body, "requested_by", 70),
        "reason": text_field(body, "reason", 500),
    }
    if not _REQUESTED_BY.fullmatch(asked["requested_by"]):
        raise api_error(400, "bad_request", 'requested_by must be "user" or "agent:<name>"')
    state: State = request.app[STATE]
    return web.json_response(records.freeze(state.db, row["user_id"], row["account_ref"], asked, state.clock.now()))


async def delete_link(request: web.Request) -> web.Response:
    """DELETE /v1/links/{account_ref}: the user unlinked in the chat; the ref answers 410 from now on."""
    row = live_link(request)
    state: State = request.app[STATE]
    db.revoke_link(state.db, row["account_ref"], state.clock.now(), by="bot")
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    """Mount the /v1 routes on `app`."""
    app.router.add_get("/v1/health", health)
    app.router.add_post("/v1/link-requests", create_link_request)
    app.router.add_get("/v1/link-requests/{request_id}", get_link_request)
    app.router.add_get("/v1/links/{account_ref}/account", get_account)
    app.router.add_get("/v1/links/{account_ref}/deposits", list_deposits)
    app.router.add_get("/v1/links/{account_ref}/withdrawals", list_withdrawals)
    app.router.add_post("/v1/links/{account_ref}/actions/freeze", freeze)
    app.router.add_delete("/v1/links/{account_ref}", delete_link)
