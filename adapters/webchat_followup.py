"""The web chat's "e-mail me the replies" (issue 20): a user who may close the page leaves an
address, and an agent's reply given while the page is closed follows them there (the core
decides: `bot/services/followup.py`).

    POST /api/webchat/{session}/followup   {"email": "ana@example.com"}

200 with the bot's confirmation (also a line of the session, so it is in the history); 400
`bad_address` for what is not an address, 404 when e-mail is off.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aiohttp import web

from adapters.webchat_files import language_hint
from bot.domain.messages import InboundMessage, OutboundReply
from bot.web.responses import json_error

if TYPE_CHECKING:
    from adapters.webchat import WebChat

MAX_BODY_BYTES = 1024


class WebChatFollowUp:
    """The follow-up route of a `WebChat` (its session checks, limits and front desk)."""

    def __init__(self, chat: WebChat) -> None:
        self.chat = chat

    async def post_address(self, request: web.Request) -> web.Response:
        chat = self.chat
        refused = chat.refused_session(request, write=True)
        if refused is not None:
            return refused
        if not chat.desk.followup_enabled:
            return json_error(404, "not_offered", "replies by e-mail are not offered here")
        session = request.match_info["session"]
        limited = await chat.too_fast(request, session)
        if limited is not None:  # (a Response is falsy: it is an empty mapping)
            return limited
        raw = await request.content.read(MAX_BODY_BYTES + 1)
        try:
            body = json.loads(raw.decode("utf-8")) if len(raw) <= MAX_BODY_BYTES else None
        except (ValueError, RecursionError):
            body = None
        address = body.get("email") if isinstance(body, dict) else None
        message = InboundMessage(platform=chat.platform, chat_id=session, chat_kind="private", user_id=session,
                                 text="", language_hint=language_hint(request))  # fmt: skip
        reply = await chat.desk.leave_email(message, address) if isinstance(address, str) else None
        if reply is None:
            return json_error(400, "bad_address", 'the body must be {"email": "<an e-mail address>"}')
        line = await chat.sessions.append(session, "bot", OutboundReply(chat.platform, session, reply))
        return web.json_response({"reply": {"id": line, "text": reply}})
