"""The exchange's own pages: the link page a link request's `url` opens (sign in, confirm,
callback to the bot) and the links page where a user removes a linked chat.

These are not API routes: no bearer token (a person opens them), HTML answers, and the sign-in
is the account's own user name and password.
"""

from __future__ import annotations

import sqlite3

from aiohttp import web

from demo_backoffice import db, events, templates
from demo_backoffice.common import MAX_FAILURES, REQUEST_ID, STATE, State

NOT_COMPLETED = (
    "The link could not be completed: the support chat did not answer. Nothing was linked. "
    "Go back to the chat and ask the bot for a new link."
)
LINKED = "Linked. Go back to the chat."


def html_page(status: int, text: str) -> web.Response:
    """An HTML answer (the security headers are added to every response by `server.py`)."""
    return web.Response(status=status, text=text, content_type="text/html", charset="utf-8")


async def read_form(request: web.Request) -> dict[str, str] | web.Response:
    """The posted form's text fields, or a 400 page when the body is not a form aiohttp can read
    (a multipart body without its boundary, say)."""
    try:
        form = await request.post()
    except ValueError:
        return html_page(400, templates.message("Bad request", "This form could not be read. Try again."))
    return {name: value for name, value in form.items() if isinstance(value, str)}


def _request_or_refusal(state: State, request_id: str) -> sqlite3.Row | web.Response:
    """The pending link request, or the page that says why it cannot be used."""
    row = db.link_request(state.db, request_id) if REQUEST_ID.fullmatch(request_id) else None
    if row is None:
        text = "This link is not known here. Ask the bot for a new one."
        return html_page(404, templates.message("Unknown link", text))
    if row["failures"] >= MAX_FAILURES:
        text = "Too many wrong passwords were tried with this link, so it was closed. Ask the bot for a new one."
        return html_page(429, templates.message("Link closed", text))
    if row["account_ref"]:
        return html_page(410, templates.message("Link already used", "This link was already used. It works once."))
    if state.clock.now() >= row["expires_at"]:
        return html_page(410, templates.message("Link expired", "This link has expired. Ask the bot for a new one."))
    return row


def _refused(state: State, request_id: str) -> web.Response:
    """The refusal page for a request that just stopped being usable (closed, used, expired)."""
    found = _request_or_refusal(state, request_id)
    if isinstance(found, web.Response):
        return found
    return html_page(410, templates.message("Link already used", "This link was already used. It works once."))


async def link_page(request: web.Request) -> web.Response:
    """GET /link/{request_id}: who asks, what linking allows, the warning, the sign-in form."""
    found = _request_or_refusal(request.app[STATE], request.match_info["request_id"])
    return found if isinstance(found, web.Response) else html_page(200, templates.link_form(found))


async def confirm_link(request: web.Request) -> web.Response:
    """POST /link/{request_id}: sign in; when right, link, tell the bot, and say how it went."""
    state: State = request.app[STATE]
    found = _request_or_refusal(state, request.match_info["request_id"])
    if isinstance(found, web.Response):
        return found
    form = await read_form(request)
    if isinstance(form, web.Response):
        return form
    user_id = db.check_password(state.db, form.get("username", ""), form.get("password", ""))
    if user_id is None:
        if db.add_failure(state.db, found["request_id"]) >= MAX_FAILURES:
            return _refused(state, found["request_id"])  # the "closed" page, 429
        return html_page(401, templates.link_form(found, templates.WRONG_CREDENTIALS))
    now = state.clock.now()
    ref = db.confirm_link(state.db, found["request_id"], user_id, now)
    if ref is None:  # used or expired while the password was being checked
        return _refused(state, found["request_id"])
    if await events.deliver(state, events.link_confirmed(dict(found), ref, now)):
        return html_page(200, templates.message("Linked", LINKED))
    db.undo_link(state.db, found["request_id"], ref, state.clock.now())
    return html_page(502, templates.message("Not linked", NOT_COMPLETED))


async def links_page(request: web.Request) -> web.Response:
    """GET /links: the sign-in form of the linked-chats page."""
    return html_page(200, templates.links_sign_in())


async def manage_links(request: web.Request) -> web.Response:
    """POST /links: sign in and list the linked chats; with `account_ref`, remove that one first
    and send `link.revoked` to the bot."""
    state: State = request.app[STATE]
    form = await read_form(request)
    if isinstance(form, web.Response):
        return form
    username = form.get("username", "")
    user_id = db.check_password(state.db, username, form.get("password", ""))
    if user_id is None:
        return html_page(401, templates.links_sign_in(templates.WRONG_CREDENTIALS, username))
    notice = None
    ref = form.get("account_ref")
    if ref is not None:
        row = db.link(state.db, ref)
        if row is None or row["user_id"] != user_id or row["revoked_at"] is not None:
            page = templates.links_list(username, db.live_links(state.db, user_id), "That link is not active here.")
            return html_page(404, page)
        now = state.clock.now()
        db.revoke_link(state.db, ref, now, by="exchange")
        # The removal stands whether or not the bot hears of it: a ref it still holds answers
        # 410 link_revoked, which tells it just as well.
        told = await events.deliver(state, events.link_revoked(ref, now))
        notice = "Removed. The support chat can no longer see this account." + (
            "" if told else " (The chat was not reachable; it will find out the next time it asks.)"
        )
    return html_page(200, templates.links_list(username, db.live_links(state.db, user_id), notice))


def add_routes(app: web.Application) -> None:
    """Mount the pages on `app`."""
    app.router.add_get("/link/{request_id}", link_page)
    app.router.add_post("/link/{request_id}", confirm_link)
    app.router.add_get("/links", links_page)
    app.router.add_post("/links", manage_links)
