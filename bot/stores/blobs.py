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
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from bot.domain.attachments import FileSettings

_NAME = re.compile(r"^[A-Za-z0-9_-]{8,64}(\.[a-z0-9]{1,8}){0,2}$")


class BlobMissing(KeyError):
    """No blob of that name (erased, or never stored)."""


class BlobStoreFailed(OSError):
    """The store could not do it now (a bucket unreachable, refusing or not there, a disk full
    or unwritable): nothing is known about the blob; try again later, or fix the configuration.
    An OSError, so that what copes with a store outage (`holder.STORE_OUTAGE`) copes with this:
    the folder's own errors were OSErrors before, and boto3's were not."""


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a blob name: {name[:80]!r}")
    return name


class BlobStore(Protocol):
    """Put, get and delete bytes by name. Each raises ValueError for a name `_NAME` refuses
    (before any I/O), BlobMissing from `get` when there is no such blob, and BlobStoreFailed
    when the store cannot answer; `delete` of a missing blob is no error."""

    async def put(self, name: str, data: bytes, media_type: str) -> None: ...
    async def get(self, name: str) -> bytes: ...
    async def delete(self, name: str) -> None: ...


class FolderBlobs:
    """Blobs as files in one folder only the bot's user may read (0700, files 0600)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _path(self, name: str) -> Path:
        return self.folder / _checked(name)

    def _write(self, path: Path, data: bytes) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
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
        path = self._path(name)
        await self._io(name, lambda: self._write(path, data))

    async def get(self, name: str) -> bytes:
        return await self._io(name, self._path(name).read_bytes)

    async def delete(self, name: str) -> None:
        path = self._path(name)
        await self._io(name, lambda: path.unlink(missing_ok=True))

    async def _io(self, name: str, step: Callable[[], Any]) -> Any:
        try:
            return await asyncio.to_thread(step)
        except FileNotFoundError:
            raise BlobMissing(name) from None
        except OSError as error:
            raise BlobStoreFailed(f"{self.folder}: {error.strerror or type(error).__name__}") from error


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
        key = self._key(name)
        await self._io(name, lambda: self._client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                                             ContentType=media_type))  # fmt: skip

    async def get(self, name: str) -> bytes:
        key = self._key(name)

        def read() -> bytes:
            with self._client.get_object(Bucket=self.bucket, Key=key)["Body"] as body:
                return body.read()

        return await self._io(name, read)

    async def delete(self, name: str) -> None:
        key = self._key(name)
        await self._io(name, lambda: self._client.delete_object(Bucket=self.bucket, Key=key))

    async def _io(self, name: str, step: Callable[[], Any]) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await asyncio.to_thread(step)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            # Only a missing key is a missing blob. AccessDenied is not, though AWS also answers it
            # for a missing key when the bot may not list the bucket: a misconfigured bucket must
            # not pass for lost files.
            if code in ("NoSuchKey", "404", "NotFound"):
                raise BlobMissing(name) from None
            raise BlobStoreFailed(f"bucket {self.bucket}: {code or 'error'}") from error
        except BotoCoreError as error:  # unreachable, timed out, no credentials
            raise BlobStoreFailed(f"bucket {self.bucket}: {type(error).__name__}") from error


def open_blobs(settings: FileSettings) -> BlobStore:
    """The configured store: the bucket when one is named, else the folder."""
    if settings.s3_bucket:
        return S3Blobs(settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url, settings.s3_region)
    return FolderBlobs(settings.folder)
