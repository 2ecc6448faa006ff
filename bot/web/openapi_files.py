"""The OpenAPI document's paths for users' files (issue 20): agents opening them
(`file_routes.py`), the web chat's upload and its user opening a file an agent attached
(`adapters/webchat_files.py`)."""

from __future__ import annotations

from bot.web.openapi_parts import ERROR, ID, OBJ, op

_FILE_ID = [{**ID[0], "schema": {"type": "string", "maxLength": 40}}]
_SESSION = {"name": "session", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}  # fmt: skip
_UPLOAD_QUERY = [
    {"name": "name", "in": "query", "schema": {"type": "string", "maxLength": 200},
     "description": "the file's name as the user's device gave it (or the X-File-Name header)"},
    {"name": "client_id", "in": "query", "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
     "description": "the page's id for the upload: a resend with it is taken once"},
]  # fmt: skip


def _upload() -> dict:
    """The upload operation: its body is the file itself, not JSON."""
    operation = op(
        "a file from a web chat user (an image or a PDF, kept for the agents; anything else refused with a reply "
        "in the chat); the bot's reply comes by GET messages",
        {"200": ("the user's line ({message}); duplicate: taken before", OBJ), "400": ("no file", ERROR),
         "404": ("not a session this server issued", ERROR),
         "429": ("too many messages this minute", ERROR), "503": ("the bot cannot take it now", ERROR)},
        params=[_SESSION, *_UPLOAD_QUERY],
        auth=False,
    )  # fmt: skip
    # Sent with the file's own Content-Type (image/png, application/pdf, ...); form types are refused (415).
    operation["requestBody"] = {"required": True, "description": "the file itself", "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}  # fmt: skip
    operation["responses"]["415"] = {"description": "sent as a form's type (text/plain, a form)",
                                     "content": {"application/json": {"schema": ERROR}}}  # fmt: skip
    return operation


def _agent_upload() -> dict:
    """An agent's file for a reply: the body is the file itself."""
    operation = op(
        "a file the agent will attach to a reply in their conversation (an image or a PDF, checked and kept as a "
        "user's is); name it in the reply's files; recorded in the audit trail",
        {"201": ("the kept file's record ({id, name, media_type, size, ...})", OBJ),
         "409": ("not assigned to you", ERROR), "413": ("over attachments.max_bytes", ERROR),
         "415": ("not an image or a PDF, or unreadable", ERROR)},
        params=[*ID, _UPLOAD_QUERY[0]],
    )  # fmt: skip
    operation["requestBody"] = {"required": True, "description": "the file itself", "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}  # fmt: skip
    return operation


FILE_PATHS = {
    "/api/files/{id}": {
        "get": op(
            "a file a user sent, as kept (images without metadata; a PDF as a download), for an agent who may read "
            "its conversation; recorded in the audit trail",
            {"200": ("the file's bytes, with its media type", None), "404": ("no such file among yours", ERROR)},
            params=_FILE_ID,
        )
    },
    "/api/files/{id}/thumbnail": {
        "get": op(
            "a small copy of an image a user sent (at most 240 px a side, PNG or JPEG)",
            {"200": ("the thumbnail", None), "404": ("no such image among yours, or a PDF", ERROR)},
            params=_FILE_ID,
        )
    },
    "/api/conversations/{id}/files": {"post": _agent_upload()},
    "/api/webchat/{session}/files": {"post": _upload()},
    "/api/webchat/{session}/files/{id}": {
        "get": op(
            "a file an agent attached to a reply in this session's conversation (a picture inline, a PDF as a "
            "download); any other file id gets the same 404 as none",
            {"200": ("the file's bytes, with its media type", None),
             "404": ("no such file in this session, or not a session this server issued", ERROR),
             "503": ("the file cannot be read now", ERROR)},
            params=[_SESSION, *_FILE_ID],
            auth=False,
        )
    },
}
