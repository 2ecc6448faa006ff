"""The web chat's files (issue 20): a screenshot or a PDF the user attaches, dropped or pasted;
and the files an agent attaches to a reply, which the page shows under the agent's line.

    POST /api/webchat/{session}/files?name=<file name>&client_id=<id>   the file itself as the body
    GET  /api/webchat/{session}/files/{id}   an agent's file in this session's conversation

The body is the file, with the Content-Type the browser gave it; the name comes in `name=` (or
an `X-File-Name` header, percent-encoded). The same session checks and per-minute limits as
a message. The bot, not this route, decides what is taken (`FrontDesk.attachment`): a file
over the limit, of a type not taken or unreadable gets a reply in the user's language in the
chat, as any reply, rather than an HTTP error the user could not read. So a body over the
limit is not read past it: a declared length over it is not read at all, and the bot is told
only the size (`Upload(None, name, size)`).

A cross-site form may post text/plain, a form's types, without the browser asking first: those
are refused (415); the page sends a file of such a type as application/octet-stream.

The user's line (`[name]`) goes into the session's history before the bot sees the file, so
the reply, which comes by GET like an agent's, follows it. `client_id` makes a resend safe:
the line is written once and the file handed to the bot once (`upload_progress`).

An agent's file is served only to its own session (any other id: 404, as for no file), with
the headers of the console's files (`bot/web/file_routes.py`): nosniff, a sandbox, kept by no
cache, a picture inline and a PDF as a download. The session id is the key, as for its lines.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aiohttp import web

from bot.domain.attachments import OutgoingFile, Upload
from bot.domain.messages import InboundMessage, OutboundReply
from bot.services.channels import STORE_OUTAGE
from bot.web.file_routes import FILE_HEADERS, safe_filename
from bot.web.responses import json_error
from bot.web.uploads import read_upload, upload_name

if TYPE_CHECKING:
    from adapters.webchat import WebChat

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# What a cross-site form can send without a preflight: never a file this route takes.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def language_hint(request: web.Request) -> str | None:
    """The first language of the browser's Accept-Language, if any."""
    first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    return first or None


def _asking(session: str) -> InboundMessage:
    """The session's user asking for a file: the front desk gives only their conversation's."""
    return InboundMessage(platform="webchat", chat_id=session, chat_kind="private", user_id=session, text="")


class WebChatUploads:
    """The file routes of a `WebChat` (its session checks, limits, history and front desk)."""

    def __init__(self, chat: WebChat) -> None:
        self.chat = chat

    async def post_file(self, request: web.Request) -> web.Response:
        """A file from the user; 200 with the user's line (`message`), the reply comes by GET."""
        chat = self.chat
        refused = chat.refused_session(request)
        if refused is not None:
            return refused
        if request.content_type in FORM_TYPES:
            return json_error(415, "not_a_file", "send the file as the body, with its own Content-Type "
                              "(application/octet-stream when it has none)")  # fmt: skip
        session = request.match_info["session"]
        limited = await chat.too_fast(request, session)
        if limited is not None:  # (a Response is falsy: it is an empty mapping)
            return limited
        client_id = request.query.get("client_id", "")
        client_id = client_id if CLIENT_ID.match(client_id) else ""
        name = upload_name(request)
        upload = await read_upload(request, chat.desk.attachment_limit, name)
        try:
            response = await chat.in_order.run(session, lambda: self._take(request, session, upload, client_id))
        except STORE_OUTAGE:
            response = json_error(503, "unavailable", "the bot cannot take this file this moment; try again")
        if upload.data is None:
            response.force_close()  # the rest of the body was not read: the connection ends with it
        return response

    async def _take(self, request: web.Request, session: str, upload: Upload, client_id: str) -> web.Response:
        """The user's line, then the file to the front desk: each once per `client_id`."""
        sessions = self.chat.sessions
        mine = {"client_id": client_id} if client_id else {}
        step, line = await sessions.upload_progress(session, client_id) if client_id else ("", "")
        text = f"[{upload.name or 'file'}]"
        if step == "taken":  # taken by an earlier try: its lines come (or came) by GET
            return web.json_response({"duplicate": True, "message": {"id": line, "text": text, **mine}})
        if not line:
            said = OutboundReply(self.chat.platform, session, text)
            line = await sessions.append(session, "user", said, **mine)
            if client_id:
                await sessions.note_upload(session, client_id, "said", line)
        message = InboundMessage(platform=self.chat.platform, chat_id=session, chat_kind="private", user_id=session,
                                 text="", language_hint=language_hint(request), message_id=client_id)  # fmt: skip
        await self.chat.desk.attachment(message, upload)
        if client_id:
            await sessions.note_upload(session, client_id, "taken", line)
        return web.json_response({"message": {"id": line, "text": text, **mine}, "replies": []})

    async def attached(self, session: str, file_ids: tuple[str, ...]) -> list[dict[str, str]]:
        """What the page shows of an agent's files on their reply's line: id, name, media type
        (a file no longer kept, or not of this session's conversation, is left out)."""
        described = []
        for file_id in file_ids:
            sent = await self.chat.desk.outgoing_file(file_id, _asking(session), with_data=False)
            if sent is not None:
                described.append({"id": file_id, "name": sent.name, "media_type": sent.media_type})
        return described

    async def get_file(self, request: web.Request) -> web.Response:
        """An agent's file of this session's conversation: a picture inline, a PDF as a
        download; 404 for any other id."""
        refused = self.chat.refused_session(request)
        if refused is not None:
            return refused
        file_id, asking = request.match_info["id"], _asking(request.match_info["session"])
        try:
            sent: OutgoingFile | None = await self.chat.desk.outgoing_file(file_id, asking)
        except STORE_OUTAGE:
            return json_error(503, "unavailable", "the file cannot be read this moment; try again")
        if sent is None:
            return json_error(404, "not_found", "no such file in this chat")
        disposition = "inline" if sent.is_image else "attachment"
        name = safe_filename(sent.name, f"file-{file_id}")
        return web.Response(body=sent.data, content_type=sent.media_type, headers={
            **FILE_HEADERS, "Content-Disposition": f'{disposition}; filename="{name}"'})  # fmt: skip
