"""Files in the web chat (issue 20), against the real bot process and Redis: a user's upload
over HTTP is kept and answered in their language; one over the limit is refused in the chat
without the server reading past the limit; a zip named .jpg is refused. Last, in Chromium:
the user attaches a picture with the file input, asks for a person, and the agent who claims
the conversation sees the picture's thumbnail in the console and opens the file; and the other
way: the agent attaches a picture to a reply in the console (a zip named .png is refused with
the server's reason) and the web chat page shows the picture under the agent's line."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import time
import urllib.parse
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis as redis_sync
import yaml
from PIL import Image

from tests.chat_files import zip_named_jpg
from tests.conftest import CHROMIUM, ROOT, BotProcess
from tests.helpers import Watched, add_agent, call, request, session_of, wait_for
from tests.test_browser import Console, sign_in

LIMIT = 200_000  # attachments.max_bytes of this module's bot


def picture(size: tuple[int, int] = (800, 600), fmt: str = "PNG") -> bytes:
    """A real picture with something to see in it (a gradient), as a screenshot would be."""
    image = Image.new("RGB", size)
    image.putdata([(x * 255 // size[0], y * 255 // size[1], 120) for y in range(size[1]) for x in range(size[0])])
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def upload(bot, session: str, data: bytes, name: str, content_type: str = "image/png", client_id: str = "",
           language: str = "en") -> tuple[int, dict]:  # fmt: skip
    """POSTs a file as the page does: the body is the file, its name in the query."""
    query = urllib.parse.urlencode({"name": name, **({"client_id": client_id} if client_id else {})})
    path = f"/api/webchat/{session_of(bot, session)}/files?{query}"
    headers = {"Content-Type": content_type, "Accept-Language": language}
    status, _, raw = request(bot, "POST", path, data, headers, timeout=30)
    return status, json.loads(raw)


def history(bot, session: str) -> list[dict]:
    return call(bot, "GET", f"/api/webchat/{session_of(bot, session)}/messages?after=0-0")[1]["messages"]


def bot_lines(bot, session: str, count: int = 1) -> list[str]:
    """The bot's lines in the session's history once there are `count` (they come by the outbox)."""
    lines = wait_for(lambda: [m["text"] for m in history(bot, session) if m["from"] == "bot"][count - 1 :], 20)
    return [m["text"] for m in history(bot, session) if m["from"] == "bot"] if lines else []


def files_bot(redis_url: str, workdir: Path, max_bytes: int) -> BotProcess:
    """The bot, keeping files in `workdir`/files, taking files up to `max_bytes`."""
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["web"]["rate_per_ip_minute"] = 1_000_000
    config["attachments"].update(max_bytes=max_bytes, folder=str(workdir / "files"))
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    redis_sync.Redis.from_url(redis_url).flushdb()
    return BotProcess(redis_url, workdir / "bot.log", workdir / "config.yml").start()


@pytest.fixture(scope="module")
def site(redis_server, model_path, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("webchat-files")
    url = redis_server.url.rsplit("/", 1)[0] + "/2"  # this module's own database
    bot = files_bot(url, workdir, LIMIT)
    tokens = {"maria": add_agent(SimpleNamespace(url=url), "maria", "en,es")}
    yield SimpleNamespace(bot=bot, url=url, folder=workdir / "files", tokens=tokens)
    bot.stop()


def test_a_screenshot_is_kept_and_answered_in_the_users_language(site):
    png = picture()
    status, body = upload(site.bot, "files-es", png, "captura.png", client_id="up-1", language="es-ES")
    assert status == 200 and body["message"]["text"] == "[captura.png]"
    [reply] = bot_lines(site.bot, "files-es")
    assert "captura.png" in reply and "archivo" in reply, "told in Spanish that the file came"
    lines = history(site.bot, "files-es")
    assert [m["from"] for m in lines] == ["user", "bot"] and lines[0]["client_id"] == "up-1"
    # Sent again with the same client id (a lost answer): taken once, answered once.
    again = upload(site.bot, "files-es", png, "captura.png", client_id="up-1", language="es-ES")
    assert again[0] == 200 and again[1]["duplicate"] is True
    kept = list(site.folder.iterdir())
    assert len(kept) == 1 and Image.open(kept[0]).size == (800, 600), "the picture is kept, once"
    time.sleep(1)
    assert len(history(site.bot, "files-es")) == 2, "no second line, no second reply"


def _raw_post(bot, path: str, head: str, body: bytes) -> tuple[int, bytes]:
    """Sends the request line, `head` and the first part of a body, never the rest; the answer."""
    with socket.create_connection(("127.0.0.1", bot.port), timeout=15) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                     f"Accept-Language: fr\r\n{head}\r\n".encode() + body)  # fmt: skip
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
    return int(answer.split(b" ", 2)[1]), answer


def test_a_file_over_the_limit_is_refused_in_the_chat_and_not_read_past_the_limit(site):
    path = f"/api/webchat/{session_of(site.bot, 'files-big')}/files?name=scan.png"
    # A length over the limit, declared: answered with a few bytes sent of five megabytes.
    status, _ = _raw_post(site.bot, path, "Content-Length: 5000000\r\n", b"\x89PNG\r\n\x1a\n" + b"x" * 1000)
    assert status == 200
    [reply] = bot_lines(site.bot, "files-big")
    assert "trop volumineux" in reply and "0.2" in reply, "refused in French, saying what is taken"
    # No length declared (chunked): answered once the limit is passed, the end never sent.
    chunk = b"x" * (LIMIT + 1)
    status, _ = _raw_post(site.bot, path, "Transfer-Encoding: chunked\r\n", b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    assert status == 200
    assert len(bot_lines(site.bot, "files-big", 2)) == 2
    assert all(kept.stat().st_size <= LIMIT for kept in site.folder.glob("*")), "nothing over the limit kept"


def test_a_zip_named_jpg_is_refused_and_a_form_post_is_not_taken(site):
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("invoice.exe", b"MZ" + os.urandom(200))
    before = set(site.folder.iterdir()) if site.folder.exists() else set()
    status, _ = upload(site.bot, "files-zip", zipped.getvalue(), "photo.jpg", "image/jpeg")
    assert status == 200
    [reply] = bot_lines(site.bot, "files-zip")
    assert "images" in reply and "PDF" in reply, "told what is taken"
    assert (set(site.folder.iterdir()) if site.folder.exists() else set()) == before, "nothing kept"
    # What a cross-site form could post without asking first is refused before it is read.
    status, body = upload(site.bot, "files-zip", b"hello", "a.txt", "text/plain")
    assert (status, body["error"]) == (415, "not_a_file")


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (make test installs it)")
def test_an_attached_picture_reaches_the_agent_who_sees_and_opens_it(site, browser, tmp_path):
    shot = tmp_path / "deposit-screenshot.png"
    shot.write_bytes(picture((640, 400)))
    user, agent = Watched(browser, {"width": 390, "height": 844}), Console(browser)
    try:
        user.page.goto(site.bot.url + "/")
        user.page.set_input_files("#file", str(shot))
        mine = user.page.locator("li.user", has_text="deposit-screenshot.png")
        mine.wait_for()
        assert mine.locator("img").count() == 1, "a preview of the user's own picture"
        user.page.locator("li.bot", has_text="we have your file").wait_for(timeout=20000)
        user.page.fill("#text", "I want to talk to a human")
        user.page.press("#text", "Enter")
        notice = user.page.locator("li.bot", has_text=re.compile(r"T-\d+")).last
        notice.wait_for(timeout=20000)
        ticket = re.search(r"T-\d+", notice.inner_text()).group()

        sign_in(agent.page, site.bot.url, site.tokens["maria"])
        agent.page.locator("li.queue-item", has_text=ticket).wait_for(timeout=10000)
        agent.page.locator("body").press("n")
        agent.page.wait_for_selector(f"#conv-ticket:has-text('{ticket}')")
        thumb = agent.page.locator("#transcript li.from-user img.file-thumb")
        thumb.wait_for(timeout=10000)
        wait_for(lambda: thumb.evaluate("img => img.complete && img.naturalWidth"), 10)
        assert thumb.evaluate("img => img.naturalWidth") == 240, "the thumbnail, 240 px wide"
        assert thumb.get_attribute("src").startswith("blob:"), "fetched with the token, not a public URL"
        with agent.context.expect_page() as opened:
            thumb.click()
        tab = opened.value
        tab.wait_for_url(re.compile(r"^blob:"), timeout=10000)  # given the file, fetched with the token
        tab.wait_for_load_state()
        size = tab.evaluate("() => { const img = document.querySelector('img'); "
                            "return img ? [img.naturalWidth, img.naturalHeight] : null; }")  # fmt: skip
        assert size == [640, 400], "the file itself opens in a new tab"
        assert not agent.errors and not agent.csp and not user.csp, agent.errors + agent.csp + user.csp
    finally:
        user.close()
        agent.close()


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (make test installs it)")
def test_the_agent_attaches_a_picture_to_a_reply_and_the_web_chat_shows_it(site, browser, tmp_path):
    shot = tmp_path / "wallet-screenshot.png"
    shot.write_bytes(picture((480, 300)))
    user, agent = Watched(browser, {"width": 390, "height": 844}), Console(browser)
    try:
        user.page.goto(site.bot.url + "/")
        user.page.fill("#text", "I want to talk to a human")
        user.page.press("#text", "Enter")
        notice = user.page.locator("li.bot", has_text=re.compile(r"T-\d+")).last
        notice.wait_for(timeout=20000)
        ticket = re.search(r"T-\d+", notice.inner_text()).group()
        sign_in(agent.page, site.bot.url, site.tokens["maria"])
        agent.page.locator("li.queue-item", has_text=ticket).wait_for(timeout=10000)
        agent.page.locator("body").press("n")
        agent.page.wait_for_selector(f"#conv-ticket:has-text('{ticket}')")

        fake = {"name": "invoice.png", "mimeType": "image/png", "buffer": zip_named_jpg()}
        agent.page.set_input_files("#attach-file", files=[fake])
        agent.page.locator("#status", has_text="Not attached: invoice.png").wait_for(timeout=10000)
        assert "wrong_type" in agent.page.inner_text("#status"), "the server's reason"
        assert agent.page.locator("#attachments li").count() == 0
        agent.page.get_by_role("button", name="Attach a picture or a PDF to the reply").wait_for()
        agent.page.set_input_files("#attach-file", str(shot))
        chip = agent.page.locator("#attachments li.chip:not(.uploading)", has_text="wallet-screenshot.png")
        chip.wait_for(timeout=10000)
        assert chip.get_by_role("button", name="Remove wallet-screenshot.png").count() == 1
        agent.page.fill("#reply", "Here is the screenshot")
        agent.page.click("#send")

        mine = agent.page.locator("#transcript li.from-me:not(.pending)", has_text="Here is the screenshot")
        mine.locator("img.file-thumb").wait_for(timeout=10000)
        assert agent.page.locator("#attachments li").count() == 0, "sent: the chips are gone"
        line = user.page.locator("li.agent", has_text="Here is the screenshot")
        line.wait_for(timeout=20000)
        shown = line.locator("img.picture")
        shown.wait_for()
        assert wait_for(lambda: shown.evaluate("img => img.complete && img.naturalWidth"), 10) == 480, "really loaded"
        assert shown.get_attribute("alt") == "wallet-screenshot.png"
        assert not agent.errors and not agent.csp and not user.csp, agent.errors + agent.csp + user.csp
    finally:
        user.close()
        agent.close()

