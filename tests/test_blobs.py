"""Where files' bytes live (issue 20): the same contract for the private local folder and for an
S3-compatible bucket. The bucket is moto's S3 server on 127.0.0.1, the stand-in for the cloud
the way the platforms' stand-ins are, reached by the real client (boto3) through `S3Blobs`;
its credentials come from the environment, as in production, never from the config."""

from __future__ import annotations

import asyncio
import os
import secrets

import boto3
import pytest

from bot.domain.attachments import check_attachment
from bot.stores.blobs import BlobMissing, BlobStoreFailed, FolderBlobs, S3Blobs
from bot.stores.user_files import UserFiles
from tests.conftest import free_port
from tests.test_attachments import phone_photo

NAME = "fAbCdEfGh0123456.jpg"
BAD_NAMES = ["../x", "a/b", "", "..", "fAbCdEfGh012/../../etc.jpg", "short"]
REGION = "us-east-1"


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server, for this module's tests."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint, monkeypatch, tmp_path):
    """A new private bucket; the client's credentials in the environment only."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))  # nothing from a developer's ~/.aws
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    bucket = "files-" + secrets.token_hex(6)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    client.create_bucket(Bucket=bucket)
    return client, bucket


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path):
    """Each store, with a way to list what it holds (names, partial ones included)."""
    if request.param == "folder":
        folder = tmp_path / "files"
        return FolderBlobs(folder), lambda: sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    client, bucket = request.getfixturevalue("s3_bucket")
    blobs = S3Blobs(bucket, "attachments/", client.meta.endpoint_url, REGION)
    return blobs, lambda: sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


@pytest.mark.parametrize("size", [1, 5_000_000])
async def test_what_is_put_is_got_back_byte_for_byte(store, size):
    blobs, _ = store
    data = os.urandom(size)
    await blobs.put(NAME, data, "image/jpeg")
    assert await blobs.get(NAME) == data


async def test_a_deleted_blob_is_missing_and_deleting_it_again_is_harmless(store):
    blobs, held = store
    await blobs.put(NAME, b"%PDF-1.4 ...", "application/pdf")
    await blobs.delete(NAME)
    with pytest.raises(BlobMissing):
        await blobs.get(NAME)
    with pytest.raises(BlobMissing):
        await blobs.get("fNeverStored0000.png")
    await blobs.delete(NAME)
    assert held() == []


@pytest.mark.parametrize("bad", BAD_NAMES)
async def test_a_name_that_could_leave_the_store_is_refused_before_anything_is_written(store, bad):
    blobs, held = store
    for step in (blobs.put(bad, b"x", "image/png"), blobs.get(bad), blobs.delete(bad)):
        with pytest.raises(ValueError, match="not a blob name"):
            await step
    assert held() == []


async def test_a_reader_sees_the_whole_file_or_none_never_part_of_it(store):
    blobs, held = store
    data = os.urandom(3_000_000)

    async def read_while_written() -> list[bool]:
        seen = []
        while not seen or not seen[-1]:
            try:
                got = await blobs.get(NAME)
            except BlobMissing:
                seen.append(False)
            else:
                assert got == data, "a reader saw part of a file"
                seen.append(True)
        return seen

    reader = asyncio.create_task(read_while_written())
    await blobs.put(NAME, data, "image/png")
    assert (await asyncio.wait_for(reader, 30))[-1]
    assert held() in ([NAME], ["attachments/" + NAME]), "no partial file left beside it"


async def test_two_puts_of_one_name_at_once_leave_one_of_them_whole(store):
    blobs, held = store
    first, second = os.urandom(2_000_000), os.urandom(2_000_000)
    await asyncio.gather(blobs.put(NAME, first, "image/png"), blobs.put(NAME, second, "image/png"))
    assert await blobs.get(NAME) in (first, second)
    assert len(held()) == 1


async def test_the_folder_is_the_bots_users_alone(tmp_path):
    blobs = FolderBlobs(tmp_path / "var" / "files")
    with pytest.raises(ValueError):
        await blobs.put("../escape.jpg", b"x", "image/jpeg")
    assert not (tmp_path / "var").exists(), "a refused name creates nothing, not even the folder"
    await blobs.put(NAME, b"\x89PNG...", "image/png")
    assert (tmp_path / "var" / "files").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "var" / "files" / NAME).stat().st_mode & 0o777 == 0o600


async def test_a_store_that_cannot_answer_fails_as_such_not_as_a_missing_file(s3_bucket, tmp_path):
    client, _ = s3_bucket
    (tmp_path / "a-file").write_bytes(b"")
    no_bucket = S3Blobs("no-such-bucket-" + secrets.token_hex(4), "", client.meta.endpoint_url, REGION)
    for blobs in (no_bucket, FolderBlobs(tmp_path / "a-file")):  # a bucket not there; a "folder" that is a file
        for step in (blobs.put(NAME, b"x", "image/png"), blobs.get(NAME), blobs.delete(NAME)):
            with pytest.raises(BlobStoreFailed):
                await step


async def test_an_object_is_kept_under_the_prefix_with_its_type(s3_bucket):
    client, bucket = s3_bucket
    blobs = S3Blobs(bucket, "attachments/", client.meta.endpoint_url, REGION)
    await blobs.put(NAME, b"%PDF-1.4 ...", "application/pdf")
    head = client.head_object(Bucket=bucket, Key="attachments/" + NAME)
    assert head["ContentType"] == "application/pdf"
    assert head["ContentLength"] == len(b"%PDF-1.4 ...")


async def test_a_users_photo_is_kept_in_the_bucket_read_back_and_removed_with_its_bytes(redis, s3_bucket):
    client, bucket = s3_bucket
    files = UserFiles(redis, S3Blobs(bucket, "attachments/", client.meta.endpoint_url, REGION))
    accepted = check_attachment(phone_photo(), 1_000_000)
    stored = await files.keep("c-s3", accepted, "IMG_0042.jpg", "user")
    assert await files.data(stored) == accepted.data
    assert [f.id for f in await files.of_conversation("c-s3")] == [stored.id]
    await files.remove(stored)
    assert await files.get(stored.id) is None
    with pytest.raises(BlobMissing):
        await files.data(stored)
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
