"""Agents open users' files over the agent API (issue 20), against the real bot process and
Redis: the agent on the conversation gets the file as kept and a real thumbnail; another agent
gets the same 404 as for no file at all; a lead may open any; without a token, nothing; a PDF
comes as a download and has no thumbnail; every open is in the audit trail under the agent.
Agents' own files: the agent on the conversation attaches a photo (kept without its position)
to a reply, which reaches the web chat's session with the file, which only that session's
user can open; a file of another conversation cannot be attached."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
import redis as redis_sync
from PIL import Image

from bot.stores.conversations import conversation_id
from tests.agent_files import PDF, attach
from tests.chat_files import metadata_free, zip_named_jpg
from tests.helpers import add_agent, call, request, say, session_of, wait_for
from tests.test_attachments import phone_photo
from tests.test_webchat_files import files_bot, picture, upload


def fetch(bot, path: str, token: str | None = None) -> tuple[int, dict, bytes]:
    """GET as the console does (the token in a header): status, headers, body."""
    return request(bot, "GET", path, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=30)


def claimed_by(bot, name: str, token: str) -> str:
    """The conversation of the web chat session `name`, which asked for a person and which the
    agent with `token` claimed."""
    assert say(bot, name, "I want to talk to a human")[0] == 200
    session = session_of(bot, name)
    cid = conversation_id(f"webchat:{session}:{session}")
    wait_for(lambda: call(bot, "POST", "/api/queue/claim", {"conversation": cid}, token=token)[0] == 200)
    return cid


@pytest.fixture(scope="module")
def site(redis_server, model_path, tmp_path_factory):
    """A web chat user who sent a picture and a PDF, then asked for a person; alice claimed it."""
    workdir = tmp_path_factory.mktemp("file-routes")
    url = redis_server.url.rsplit("/", 1)[0] + "/1"  # this module's own database
    bot = files_bot(url, workdir, 2_000_000)
    db = SimpleNamespace(url=url)
    tokens = {name: add_agent(db, name, "en") for name in ("alice", "bob")}
    tokens["lead"] = add_agent(db, "nora", "en", role="lead")
    assert upload(bot, "files-api", picture(), "deposit.png")[0] == 200
    assert upload(bot, "files-api", PDF, "statement.pdf", "application/pdf")[0] == 200
    cid = claimed_by(bot, "files-api", tokens["alice"])
    transcript = call(bot, "GET", f"/api/conversations/{cid}", token=tokens["alice"])[1]["transcript"]
    files = {line["media_type"]: line["file"] for line in transcript if line.get("file")}
    yield SimpleNamespace(bot=bot, url=url, folder=workdir / "files", tokens=tokens, files=files, cid=cid)
    bot.stop()


def kept_bytes(site, file_id: str) -> bytes:
    blob = redis_sync.Redis.from_url(site.url).hget(f"sb:file:{file_id}", "blob").decode()
    return (site.folder / blob).read_bytes()


def test_the_agent_on_the_conversation_opens_the_picture_and_its_thumbnail(site):
    image = site.files["image/png"]
    status, headers, body = fetch(site.bot, f"/api/files/{image}", site.tokens["alice"])
    assert status == 200 and body == kept_bytes(site, image)
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"] == 'inline; filename="deposit.png"'
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Cache-Control"] == "private, no-store"
    assert headers["Content-Security-Policy"].startswith("sandbox")
    status, headers, thumb = fetch(site.bot, f"/api/files/{image}/thumbnail", site.tokens["alice"])
    assert status == 200 and headers["Content-Type"] == "image/png"
    small = Image.open(io.BytesIO(thumb))
    assert small.size == (240, 180) and len(thumb) < len(body), "a real, smaller picture"
    assert small.getpixel((239, 179))[:2] > small.getpixel((0, 0))[:2], "of the same picture"


def test_another_agent_gets_the_same_404_as_for_no_file_and_a_lead_opens_it(site):
    image = site.files["image/png"]
    refused = fetch(site.bot, f"/api/files/{image}", site.tokens["bob"])
    unknown = fetch(site.bot, "/api/files/fNoSuchFileAtAll", site.tokens["bob"])
    assert refused[0] == unknown[0] == 404 and refused[2] == unknown[2], "not told apart"
    assert fetch(site.bot, f"/api/files/{image}/thumbnail", site.tokens["bob"])[0] == 404
    status, _, body = fetch(site.bot, f"/api/files/{image}", site.tokens["lead"])
    assert status == 200 and body == kept_bytes(site, image)
    assert fetch(site.bot, f"/api/files/{image}")[0] == 401, "no token, no file"
    assert fetch(site.bot, f"/api/files/{image}/thumbnail")[0] == 401


def test_a_pdf_comes_as_a_download_and_has_no_thumbnail(site):
    pdf = site.files["application/pdf"]
    status, headers, body = fetch(site.bot, f"/api/files/{pdf}", site.tokens["alice"])
    assert status == 200 and body == PDF
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == 'attachment; filename="statement.pdf"'
    assert fetch(site.bot, f"/api/files/{pdf}/thumbnail", site.tokens["alice"])[0] == 404


def test_every_open_is_in_the_audit_trail_under_the_agent(site):
    image = site.files["image/png"]
    fetch(site.bot, f"/api/files/{image}", site.tokens["alice"])
    fetch(site.bot, f"/api/files/{image}", site.tokens["bob"])
    fetch(site.bot, f"/api/files/{image}", site.tokens["lead"])
    status, body = call(site.bot, "GET", f"/api/audit?action=file_read&object={image}", token=site.tokens["lead"])
    assert status == 200
    seen = {(entry["actor"], entry["outcome"]) for entry in body["entries"]}
    assert ("alice", "ok") in seen and ("bob", "not_found") in seen and ("nora", "ok") in seen


def test_the_agent_attaches_a_photo_kept_without_its_position_and_others_are_refused(site):
    status, record = attach(site.bot, site.cid, site.tokens["alice"], "screenshot.jpg", phone_photo())
    assert status == 201, record
    assert (record["name"], record["media_type"], record["sender"]) == ("screenshot.jpg", "image/jpeg", "agent:alice")
    assert metadata_free(kept_bytes(site, record["id"])), "no camera, time or position kept"
    status, body = attach(site.bot, site.cid, site.tokens["alice"], "photo.png", zip_named_jpg(), "image/png")
    assert (status, body["error"]) == (415, "file_wrong_type")
    status, body = attach(site.bot, site.cid, site.tokens["bob"], "mine.jpg", phone_photo())
    assert (status, body["error"]) == (409, "not_yours"), "only the agent on the conversation attaches"
    status, body = call(site.bot, "GET", "/api/audit?action=file_upload", token=site.tokens["lead"])
    assert status == 200
    seen = {(entry["actor"], entry["outcome"]) for entry in body["entries"]}
    assert ("alice", "ok") in seen and ("bob", "not_yours") in seen


def test_a_reply_with_a_file_reaches_the_web_chat_and_only_its_session_opens_the_file(site):
    alice = site.tokens["alice"]
    record = attach(site.bot, site.cid, alice, "screenshot.jpg", phone_photo())[1]
    pdf = attach(site.bot, site.cid, alice, "steps.pdf", PDF, "application/pdf")[1]
    status, _ = call(site.bot, "POST", f"/api/conversations/{site.cid}/reply",
                     {"text": "Here is the screenshot", "files": [record["id"], pdf["id"]]}, token=alice)  # fmt: skip
    assert status == 202
    session = session_of(site.bot, "files-api")

    def agent_line() -> dict | None:
        lines = call(site.bot, "GET", f"/api/webchat/{session}/messages?after=0-0")[1]["messages"]
        return next((m for m in lines if m["from"] == "agent" and m["text"] == "Here is the screenshot"), None)

    line = wait_for(agent_line, 20)
    assert line and line["files"] == [
        {"id": record["id"], "name": "screenshot.jpg", "media_type": "image/jpeg"},
        {"id": pdf["id"], "name": "steps.pdf", "media_type": "application/pdf"}], line  # fmt: skip
    status, headers, body = fetch(site.bot, f"/api/webchat/{session}/files/{record['id']}")
    assert status == 200 and body == kept_bytes(site, record["id"]) and headers["Content-Type"] == "image/jpeg"
    assert headers["Content-Disposition"] == 'inline; filename="screenshot.jpg"'
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Cache-Control"] == "private, no-store"
    assert headers["Content-Security-Policy"].startswith("sandbox")
    status, headers, body = fetch(site.bot, f"/api/webchat/{session}/files/{pdf['id']}")
    assert status == 200 and body == PDF and headers["Content-Disposition"] == 'attachment; filename="steps.pdf"'
    other = session_of(site.bot, "files-api-stranger")
    assert fetch(site.bot, f"/api/webchat/{other}/files/{record['id']}")[0] == 404, "another session: nothing"
    assert fetch(site.bot, f"/api/webchat/{session}/files/fNoSuchFileAtAll")[0] == 404
    conversation = call(site.bot, "GET", f"/api/conversations/{site.cid}", token=alice)[1]
    assert [line["files"] for line in conversation["transcript"] if line.get("files")] == [[record["id"], pdf["id"]]]
    assert {"screenshot.jpg", "steps.pdf"} <= {f["name"] for f in conversation["files"]}, "the console names them"


def test_a_reply_cannot_attach_a_file_of_another_conversation(site):
    alice = site.tokens["alice"]
    elsewhere = claimed_by(site.bot, "files-api-second", alice)
    theirs = attach(site.bot, elsewhere, alice, "theirs.jpg", phone_photo())[1]
    status, body = call(site.bot, "POST", f"/api/conversations/{site.cid}/reply",
                        {"text": "see this", "files": [theirs["id"]]}, token=alice)  # fmt: skip
    assert (status, body["error"]) == (400, "bad_request")
    users_own = site.files["image/png"]  # the user's file of this conversation: not an agent's upload
    status, _ = call(site.bot, "POST", f"/api/conversations/{site.cid}/reply", {"text": "", "files": [users_own]},
                     token=alice)  # fmt: skip
    assert status == 400
