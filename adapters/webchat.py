"""The built-in web chat: a page at `/` and a JSON API for it. Always on, no token needed.

    POST /api/webchat/{session}/messages  {"text": "..."}  ->  {"replies": [...]}

It only translates HTTP into an `InboundMessage` and a decision's reply back into JSON.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from aiohttp import web

from bot.inbox import Inbox
from bot.messages import InboundMessage, OutboundReply
from bot.pipeline import BadMessage

PLATFORM = "webchat"
STATIC = Path(__file__).with_name("webchat_static")
SESSION = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_BODY_BYTES = 64 * 1024


def json_error(status: int, code: str, message: str, **extra: object) -> web.Response:
    """A clear JSON error: a machine-readable code and a sentence for people."""
    body = {"error": code, "message": message, **extra}
    return web.json_response(body, status=status)


def _reply_json(reply: OutboundReply) -> dict:
    return {"text": reply.text, "buttons": [{"label": b.label, "action": b.action} for b in reply.buttons]}


def _language_hint(request: web.Request) -> str | None:
    header = request.headers.get("Accept-Language", "")
    first = header.split(",")[0].split(";")[0].strip()
    return first or None


class WebChat:
    """Routes of the web chat channel."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.page),
            web.post("/api/webchat/{session}/messages", self.post_message),
        ]

    async def page(self, request: web.Request) -> web.Response:
        return web.FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)

    async def post_message(self, request: web.Request) -> web.Response:
        session = request.match_info["session"]
        if not SESSION.match(session):
            return json_error(400, "bad_session", "the session id must be 8-64 letters, digits, '-' or '_'")
        if request.content_length and request.content_length > MAX_BODY_BYTES:
            return json_error(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
        raw = await request.content.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            return json_error(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return json_error(400, "bad_json", 'the body must be a JSON object like {"text": "..."}')
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return json_error(400, "bad_json", 'the body must be a JSON object like {"text": "..."}')
        message = InboundMessage(
            platform=PLATFORM, chat_id=session, chat_kind="private", user_id=session,
            text=body["text"], addressed=True, language_hint=_language_hint(request),
        )  # fmt: skip
        try:
            decision = await self.inbox.handle(message)
        except BadMessage as exc:
            reply = self.inbox.pipeline.error_reply(exc, _language_hint(request))
            return json_error(400 if exc.code != "too_long" else 413, exc.code, str(exc), reply=reply)
        replies = [_reply_json(decision.reply)] if decision.reply else []
        return web.json_response({"replies": replies, "language": decision.language, "action": decision.action.value})


_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors *",
    "X-Content-Type-Options": "nosniff",
}


def static_routes() -> list[web.AbstractRouteDef]:
    return [web.static("/webchat", STATIC)]
