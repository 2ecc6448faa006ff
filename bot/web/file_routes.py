"""Users' files over the agent API (issue 20): the console opens what a user sent.

    GET /api/files/{id}             the bytes, as kept (an image without its metadata, a PDF as sent)
    GET /api/files/{id}/thumbnail   a small PNG or JPEG of an image (at most 240 px a side); 404 for a PDF
    POST /api/conversations/{id}/files?name=   an agent's file for a reply (the body is the file)

An agent may open a file when they may read its conversation (the rule of its transcript:
theirs now or last, or a note mentioned them; leads: any); anyone else gets the same 404 as
for an id that names no file, so an id tells nothing. Every open is in the audit trail
(`file_read`, the file's id as its object). The answers are for the console's own fetch,
never a page: the stored media type, `nosniff`, a sandboxing Content-Security-Policy (a file
opened straight from the address bar runs no script), a download for a PDF, and kept by no
cache (`private, no-store`).

The files are the application's (`request.app[USER_FILES]`, set by `bot/web/server.py`).
"""

from __future__ import annotations

import asyncio
import io
import re
from collections import OrderedDict

from aiohttp import web
from PIL import Image

from bot.config import Config
from bot.domain.attachments import TOO_BIG, AttachmentRefused
from bot.stores.blobs import BlobMissing
from bot.stores.conversations import ASSIGNED, ConversationStore
from bot.stores.user_files import StoredFile, UserFiles
from bot.web.agent_routes import readable_conversation
from bot.web.api_requests import AGENT
from bot.web.audit_routes import audited
from bot.web.responses import ApiError
from bot.web.uploads import read_upload, upload_name

USER_FILES = web.AppKey("user_files", UserFiles)
THUMBNAIL_SIDE = 240
THUMBNAILS_KEPT = 128  # the recently made thumbnails, in memory (a few KB each)
FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
                "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self' data:",
                "Referrer-Policy": "no-referrer"}  # fmt: skip
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]")


def safe_filename(name: str, fallback: str) -> str:
    """The name for `Content-Disposition`: plain ASCII letters, digits, dots, dashes and spaces
    only (no quote, no path, no header injection), or `fallback` when nothing is left."""
    cleaned = _UNSAFE_NAME.sub("_", name).strip(" .")[:100]
    return cleaned if cleaned.strip("_") else fallback


def make_thumbnail(data: bytes, media_type: str) -> tuple[bytes, str]:
    """A copy of the image at most `THUMBNAIL_SIDE` px a side: PNG when it may be transparent
    (PNG, GIF, WebP), else JPEG; with its media type."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))  # JPEG: decode at a fraction of the size
        image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        out = io.BytesIO()
        if media_type == "image/jpeg":
            image.convert("RGB").save(out, format="JPEG", quality=80)
            return out.getvalue(), "image/jpeg"
        image.convert("RGBA").save(out, format="PNG", optimize=True)
        return out.getvalue(), "image/png"


class FileRoutes:
    """The routes that open users' files, for agents who may read their conversations."""

    def __init__(self, config: Config, conversations: ConversationStore) -> None:
        self.config = config  # for the audit trail (whether to trust X-Forwarded-For)
        self.conversations = conversations
        self.thumbnails: OrderedDict[str, tuple[bytes, str]] = OrderedDict()

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/files/{id}", self.file), web.get("/api/files/{id}/thumbnail", self.thumbnail),
                web.post("/api/conversations/{id}/files", self.upload)]

    @audited("file_upload")
    async def upload(self, request: web.Request) -> web.Response:
        """A file the agent will attach to a reply in their conversation (the body is the file,
        `name=` its name): checked as a user's is (images and PDFs within the limit, images
        without metadata), kept, and named by the id a reply's "files" gives. 413/415 say why
        one is refused; 409 unless the conversation is the agent's."""
        agent = request[AGENT]
        conv = await self.conversations.get(request.match_info["id"])
        if conv is None or conv.state != ASSIGNED or conv.agent != agent.name:
            raise ApiError(409, "not_yours", "claim the conversation before attaching a file to it")
        files = request.app[USER_FILES]
        limit = self.config.attachments.max_bytes
        upload = await read_upload(request, limit, upload_name(request))
        try:
            accepted = await asyncio.to_thread(upload.checked, limit)
        except AttachmentRefused as refused:
            raise ApiError(413 if refused.reason == TOO_BIG else 415, f"file_{refused.reason}",
                           f"{refused}: images (JPEG, PNG, GIF, WebP) and PDFs up to {limit} bytes") from None
        stored = await files.keep(conv.id, accepted, upload.name, f"agent:{agent.name}")
        return web.json_response(stored.public(), status=201)

    async def _readable(self, request: web.Request) -> StoredFile:
        """The file in the URL, if the agent may read its conversation; else 404 (the same for
        a file that does not exist)."""
        stored = await request.app[USER_FILES].get(request.match_info["id"])
        if stored is None or await readable_conversation(self.conversations, request[AGENT], stored.conversation,
                                                         reading=True) is None:  # fmt: skip
            raise ApiError(404, "not_found", "no such file in your conversations")
        return stored

    async def _data(self, request: web.Request, stored: StoredFile) -> bytes:
        try:
            return await request.app[USER_FILES].data(stored)
        except BlobMissing:
            raise ApiError(404, "not_found", "the file's bytes are no longer kept") from None

    @audited("file_read")
    async def file(self, request: web.Request) -> web.Response:
        """The file's bytes with its stored media type: a PDF as a download, an image inline."""
        stored = await self._readable(request)
        data = await self._data(request, stored)
        disposition = "inline" if stored.is_image else "attachment"
        name = safe_filename(stored.name, f"file-{stored.id}")
        return web.Response(body=data, content_type=stored.media_type, headers={
            **FILE_HEADERS, "Content-Disposition": f'{disposition}; filename="{name}"'})  # fmt: skip

    async def thumbnail(self, request: web.Request) -> web.Response:
        """A small copy of an image (made once, then kept among the recent ones); 404 for a PDF."""
        stored = await self._readable(request)
        if not stored.is_image:
            raise ApiError(404, "not_an_image", "only images have thumbnails")
        made = self.thumbnails.get(stored.id)
        if made is None:
            data = await self._data(request, stored)
            made = await asyncio.to_thread(make_thumbnail, data, stored.media_type)
            self.thumbnails[stored.id] = made
            if len(self.thumbnails) > THUMBNAILS_KEPT:
                self.thumbnails.popitem(last=False)
        else:
            self.thumbnails.move_to_end(stored.id)
        body, media_type = made
        headers = {**FILE_HEADERS, "Content-Disposition": "inline"}
        return web.Response(body=body, content_type=media_type, headers=headers)
