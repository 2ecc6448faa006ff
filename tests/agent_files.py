"""What the chat channels' tests of agents' files share (issue 20): an agent uploads files to
their conversation over the agent API and replies with them; the bytes the bot kept, read back
over the same API, are what the user must receive."""

from __future__ import annotations

import json
import urllib.parse

from tests.helpers import call, request

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def attach(bot, conversation: str, token: str, name: str, data: bytes,
           content_type: str = "application/octet-stream") -> tuple[int, dict]:  # fmt: skip
    """`POST /api/conversations/{id}/files?name=`: the body is the file, as the console sends it."""
    path = f"/api/conversations/{conversation}/files?name={urllib.parse.quote(name)}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    status, _, raw = request(bot, "POST", path, data, headers, timeout=30)
    return status, json.loads(raw or b"{}")


def kept(bot, file_id: str, token: str) -> bytes:
    """The file's bytes as the bot kept them (`GET /api/files/{id}`)."""
    status, _, raw = request(bot, "GET", f"/api/files/{file_id}", headers={"Authorization": f"Bearer {token}"})
    assert status == 200, raw
    return raw


def reply_with_files(bot, conversation: str, token: str, text: str, files: dict[str, bytes]) -> dict[str, bytes]:
    """The agent uploads `files` (name -> bytes) and replies with `text` and all of them; the
    bytes the bot kept, by name (an image without its metadata)."""
    ids = {}
    for name, data in files.items():
        status, record = attach(bot, conversation, token, name, data)
        assert status == 201 and record["name"] == name, (status, record)
        ids[name] = record["id"]
    body = {"text": text, "files": list(ids.values())}
    assert call(bot, "POST", f"/api/conversations/{conversation}/reply", body, token=token)[0] == 202
    return {name: kept(bot, file_id, token) for name, file_id in ids.items()}
