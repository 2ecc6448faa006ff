"""A file sent as a request's body (the web chat's uploads, agents' attachments), read no
further than the bot's limit: the app's `client_max_size` (1 MB) is for JSON, so these routes
read the body themselves."""

from __future__ import annotations

import urllib.parse

from aiohttp import web

from bot.domain.attachments import Upload

NAME_CHARS = 100


def upload_name(request: web.Request) -> str:
    """The file's name as the user's device gave it: its last path part, printable, at most
    100 characters (shown, never used as a path)."""
    raw = request.query.get("name") or urllib.parse.unquote(request.headers.get("X-File-Name", ""))
    base = raw.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable()).strip()[:NAME_CHARS]


async def read_upload(request: web.Request, limit: int, name: str) -> Upload:
    """The body as an Upload, read up to `limit` + 1 bytes and no further: one over the limit
    comes without its bytes, with its size (as declared, or as far as read)."""
    declared = request.content_length
    if declared is not None and declared > limit:
        return Upload(None, name, declared)
    data = bytearray()
    while len(data) <= limit:
        chunk = await request.content.read(limit + 1 - len(data))
        if not chunk:
            break
        data += chunk
    if len(data) > limit:
        return Upload(None, name, len(data))
    return Upload(bytes(data), name)
