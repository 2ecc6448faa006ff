"""What the Telegram and Discord tests of users' files share (issue 20): the limit their bots
run with, the files users send, and the files the bot kept, read through the real store."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
from pathlib import Path

from PIL import Image
from redis.asyncio import Redis

from bot.stores.blobs import FolderBlobs
from bot.stores.conversations import conversation_id
from bot.stores.user_files import StoredFile, UserFiles
from tests.test_attachments import GPS

LIMIT = 100_000  # the test bots' attachments.max_bytes: a phone photo fits, OVERSIZED does not
OVERSIZED = b"%PDF-1.7\n" + b"0" * (LIMIT + 1)  # a PDF the bot would take, were it smaller


def files_settings(folder: Path) -> dict:
    """The `attachments:` section of a test bot's config.yml."""
    return {"max_bytes": LIMIT, "folder": str(folder)}


def zip_named_jpg() -> bytes:
    """A zip archive a user named `.jpg`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("run.exe", b"MZ" + b"\0" * 100)
    return out.getvalue()


def kept_files(redis_url: str, conversation_key: str, folder: Path, count: int = 1,
               timeout: float = 20) -> list[tuple[StoredFile, bytes]]:  # fmt: skip
    """The conversation's kept files and their bytes (`stores.files`), once there are `count`
    (or after `timeout`)."""

    async def read() -> list[tuple[StoredFile, bytes]]:
        client = Redis.from_url(redis_url)
        try:
            files = UserFiles(client, FolderBlobs(folder))
            return [(kept, await files.data(kept)) for kept in await files.of_conversation(cid)]
        finally:
            await client.close()

    cid = conversation_id(conversation_key)
    deadline = time.monotonic() + timeout
    found = asyncio.run(read())
    while len(found) < count and time.monotonic() < deadline:
        time.sleep(0.2)
        found = asyncio.run(read())
    return found


def metadata_free(data: bytes) -> bool:
    """An image without EXIF (no camera, no time, no position) and without the photo's comment."""
    image = Image.open(io.BytesIO(data))
    return not image.getexif() and GPS not in image.getexif() and b"PhoneMaker" not in data and b"HomeNet" not in data
