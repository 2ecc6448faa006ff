"""Where the bytes of users' and agents' files live: outside Redis, which holds only their
records (`user_files.py`). A local folder by default; an S3-compatible bucket (AWS S3, MinIO,
Ceph's gateway, ...) when `attachments.s3_bucket` is set, its credentials from the
environment only (boto3's usual chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a role).

Names are the bot's own random ids plus an extension (`user_files.py` makes them), never a
name a user gave: nothing a user sends chooses a path or a key.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path
from typing import Protocol

from bot.domain.attachments import FileSettings

_NAME = re.compile(r"^[A-Za-z0-9_-]{8,64}(\.[a-z0-9]{1,8}){0,2}$")


class BlobMissing(KeyError):
    """No blob of that name (erased, or never stored)."""


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a blob name: {name[:80]!r}")
    return name


class BlobStore(Protocol):
    async def put(self, name: str, data: bytes, media_type: str) -> None: ...
    async def get(self, name: str) -> bytes: ...
    async def delete(self, name: str) -> None: ...


class FolderBlobs:
    """Blobs as files in one folder only the bot's user may read (0700, files 0600)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _path(self, name: str) -> Path:
        return self.folder / _checked(name)

    def _write(self, name: str, data: bytes) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self._path(name)
        # Hidden and unique: never a blob name itself, and two puts of one name never share it.
        partial = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
        try:
            with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            partial.replace(path)  # readers never see half a file
        except BaseException:
            partial.unlink(missing_ok=True)  # a full disk leaves no partial file behind
            raise

    async def put(self, name: str, data: bytes, media_type: str) -> None:
        await asyncio.to_thread(self._write, name, data)

    async def get(self, name: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(name).read_bytes)
        except FileNotFoundError:
            raise BlobMissing(name) from None

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._path(name).unlink, True)


class S3Blobs:
    """Blobs as objects of one S3-compatible bucket, under a prefix; private (no ACL given, so
    the bucket's own, which should be private: agents read files through the console, never by
    a public URL)."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str = "", region: str = "") -> None:
        import boto3  # only when a bucket is configured: it costs start-up time

        self.bucket, self.prefix = bucket, prefix
        self._client = boto3.session.Session().client("s3", endpoint_url=endpoint_url or None,
                                                      region_name=region or None)  # fmt: skip

    def _key(self, name: str) -> str:
        return self.prefix + _checked(name)

    async def put(self, name: str, data: bytes, media_type: str) -> None:
        await asyncio.to_thread(self._client.put_object, Bucket=self.bucket, Key=self._key(name), Body=data,
                                ContentType=media_type)  # fmt: skip

    async def get(self, name: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            response = await asyncio.to_thread(self._client.get_object, Bucket=self.bucket, Key=self._key(name))
        except ClientError as error:
            # AccessDenied stays an error: it is also what AWS answers for a missing key when the
            # bot may not list the bucket, and a misconfigured bucket must not pass for lost files.
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise BlobMissing(name) from None
            raise
        with response["Body"] as body:
            return await asyncio.to_thread(body.read)

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._client.delete_object, Bucket=self.bucket, Key=self._key(name))


def open_blobs(settings: FileSettings) -> BlobStore:
    """The configured store: the bucket when one is named, else the folder."""
    if settings.s3_bucket:
        return S3Blobs(settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url, settings.s3_region)
    return FolderBlobs(settings.folder)
