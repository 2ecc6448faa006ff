"""Files sent in conversations, either way (issue 20): each one's record in Redis
(`keys.stored_file`), the conversation's set of them (`keys.conversation_files`), the index of
all by time (`keys.FILES`, for the retention sweep), and the bytes in the blob store
(`blobs.py`) under a random name. Only files `bot/domain/attachments.py` accepted come here.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Optional

from redis.asyncio import Redis

from bot.domain.attachments import Attachment
from bot.stores import keys
from bot.stores.blobs import BlobStore
from bot.stores.intake import ONCE_SECONDS

FILE_MARK = "#file"  # a message's file's mark beside the message's own (`keys.once`), erased with it


@dataclass(frozen=True)
class StoredFile:
    id: str
    conversation: str
    media_type: str
    name: str  # as the sender named it: shown, never used as a path
    size: int
    sender: str  # "user" or "agent:<name>"
    at: float
    blob: str

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")

    def public(self) -> dict:
        """The record as the console reads it (the blob's name stays inside)."""
        return {"id": self.id, "conversation": self.conversation, "media_type": self.media_type, "name": self.name,
                "size": self.size, "sender": self.sender, "at": self.at}  # fmt: skip


def _display_name(name: str, extension: str) -> str:
    """The sender's name for the file, tidied for display (no path, no control characters), or
    a plain one from its type."""
    name = "".join(ch for ch in name.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable()).strip()[:100]
    return name or f"file.{extension}"


class UserFiles:
    """Keeps, finds and removes conversations' files."""

    def __init__(self, redis: Redis, blobs: BlobStore) -> None:
        self.redis = redis
        self.blobs = blobs

    async def keep(self, cid: str, attachment: Attachment, name: str, sender: str) -> StoredFile:
        """Store an accepted file of the conversation: the bytes first, then the record (a crash
        in between leaves an unreferenced blob, never a record without its bytes)."""
        file_id = "f" + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")
        stored = StoredFile(file_id, cid, attachment.media_type, _display_name(name, attachment.extension),
                            len(attachment.data), sender, time.time(), f"{file_id}.{attachment.extension}")  # fmt: skip
        await self.blobs.put(stored.blob, attachment.data, attachment.media_type)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.stored_file(file_id), mapping={
                "conversation": cid, "media_type": stored.media_type, "name": stored.name, "size": stored.size,
                "sender": sender, "at": stored.at, "blob": stored.blob})  # fmt: skip
            pipe.sadd(keys.conversation_files(cid), file_id)
            pipe.zadd(keys.FILES, {file_id: stored.at})
            await pipe.execute()
        return stored

    async def taken(self, once: str) -> bool:
        """Whether the file of the message keyed `once` was handled already (a platform sent it
        again): nothing is kept or said twice."""
        return bool(await self.redis.exists(keys.once(once + FILE_MARK)))

    async def mark_taken(self, once: str) -> None:
        await self.redis.set(keys.once(once + FILE_MARK), "file", ex=ONCE_SECONDS)

    async def get(self, file_id: str) -> Optional[StoredFile]:
        if not file_id.isascii() or not file_id.replace("-", "").replace("_", "").isalnum():
            return None
        return _record(file_id, await self.redis.hgetall(keys.stored_file(file_id)))

    async def data(self, stored: StoredFile) -> bytes:
        """The file's bytes (BlobMissing when the store lost them)."""
        return await self.blobs.get(stored.blob)

    async def of_conversation(self, cid: str) -> list[StoredFile]:
        """The conversation's files, oldest first."""
        ids = sorted(m.decode() for m in await self.redis.smembers(keys.conversation_files(cid)))
        async with self.redis.pipeline(transaction=False) as pipe:  # one round trip for them all
            for file_id in ids:
                pipe.hgetall(keys.stored_file(file_id))
            records = await pipe.execute()
        found = [f for f in map(_record, ids, records) if f is not None]
        return sorted(found, key=lambda f: f.at)

    async def remove(self, stored: StoredFile) -> None:
        """The file gone: bytes, record, indexes. The bytes first: when the blob store fails,
        the record stays for the next sweep or erasure to try again, never bytes nothing points to."""
        await self.blobs.delete(stored.blob)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.stored_file(stored.id))
            pipe.srem(keys.conversation_files(stored.conversation), stored.id)
            pipe.zrem(keys.FILES, stored.id)
            await pipe.execute()

    async def remove_conversation(self, cid: str) -> int:
        """Every file of the conversation gone (a user's erasure); how many there were."""
        files = await self.of_conversation(cid)
        for stored in files:
            await self.remove(stored)
        await self.redis.delete(keys.conversation_files(cid))
        return len(files)

    async def remove_older_than(self, moment: float, limit: int = 500) -> int:
        """Files kept since before `moment` gone (the retention sweep); at most `limit` a call."""
        removed = 0
        for raw in await self.redis.zrangebyscore(keys.FILES, "-inf", moment, start=0, num=limit):
            stored = await self.get(raw.decode())
            if stored is None:
                await self.redis.zrem(keys.FILES, raw)
                continue
            await self.remove(stored)
            removed += 1
        return removed


def _record(file_id: str, raw: dict[bytes, bytes]) -> Optional[StoredFile]:
    """The file `file_id` from its Redis hash; None when there is none."""
    if not raw:
        return None
    f = {k.decode(): v.decode() for k, v in raw.items()}
    return StoredFile(file_id, f["conversation"], f["media_type"], f["name"], int(f["size"]), f["sender"],
                      float(f["at"]), f["blob"])  # fmt: skip
