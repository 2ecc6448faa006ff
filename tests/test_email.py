"""E-mail end to end (issue 20): the real bot process reads a real Dovecot over IMAP and sends
through a real SMTP server (aiosmtpd delivering into Dovecot), with the trained model and
Redis. A mail in gets an answer in its thread; a handed-off mail's agent reply threads, the
agent's files arrive attached, and the user's answer comes back to the same conversation, its
quoted history left out; a file reaches the agent; automatic mail is not answered; a bounce is
recorded; a pasted seed phrase is stored nowhere, not even left in the mailbox."""

from __future__ import annotations

import email
import email.policy
import io
import os
import re
import zipfile
from email.message import EmailMessage
from email.utils import make_msgid
from types import SimpleNamespace

import pytest
import redis as redis_sync
import yaml
from PIL import Image

from tests.agent_files import PDF, reply_with_files
from tests.conftest import ROOT, BotProcess, stored_text
from tests.helpers import add_agent, call, wait_for
from tests.mail_servers import MailServers, mail_servers_fixture  # noqa: F401  (the module's `mail_servers`)
from tests.test_attachments import photo

SUPPORT, ANA, BO = "support@bot.test", "ana@user.test", "bo@user.test"


@pytest.fixture(scope="module")
def email_bot(mail_servers: MailServers, redis_server, model_path, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("email")
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["email"] = {"enabled": True, "address": SUPPORT, "imap_host": mail_servers.imap_host,
                       "imap_port": mail_servers.imap_port, "imap_tls": False, "smtp_host": mail_servers.smtp_host,
                       "smtp_port": mail_servers.smtp_port, "smtp_starttls": False, "poll_seconds": 2.0,
                       "leader_lock_seconds": 6}  # fmt: skip
    config["attachments"].update(folder=str(workdir / "files"), max_bytes=200_000)
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/16"  # this module's own database
    redis_sync.Redis.from_url(redis_url).flushdb()
    password = mail_servers.users[SUPPORT]
    bot = BotProcess(redis_url, workdir / "bot.log", workdir / "config.yml",
                     env={"SB_MAIL_USER": SUPPORT, "SB_MAIL_PASSWORD": password}).start()  # fmt: skip
    yield SimpleNamespace(bot=bot, servers=mail_servers, redis_url=redis_url,
                          redis=redis_sync.Redis.from_url(redis_url))
    bot.stop()
    assert password not in bot.logs(), "the mailbox's password never reaches the logs"


def mail_from(sender: str, subject: str, body: str, *, reply_to: EmailMessage | None = None,
              **headers: str) -> EmailMessage:  # fmt: skip
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="user.test")
    if reply_to is not None:
        message["In-Reply-To"] = reply_to["Message-ID"]
        message["References"] = " ".join(filter(None, [str(reply_to.get("References", "")), reply_to["Message-ID"]]))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def send(env, message: EmailMessage) -> EmailMessage:
    env.servers.deliver(SUPPORT, message.as_bytes(policy=email.policy.SMTP), mail_from=str(message["From"]))
    return message


def inbox_of(env, address: str) -> list[EmailMessage]:
    return [email.message_from_bytes(raw, policy=email.policy.default) for raw in env.servers.fetch_all(address)]


def replies_to(env, address: str, message: EmailMessage, count: int = 1, timeout: float = 60) -> list[EmailMessage]:
    """The bot's mails in `address`'s mailbox that name `message` in their References."""
    def found() -> list[EmailMessage]:
        return [m for m in inbox_of(env, address) if message["Message-ID"] in str(m.get("References", ""))]

    wait_for(lambda: len(found()) >= count, timeout=timeout, every=0.5)
    return found()


def body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_a_mail_is_answered_in_its_thread_without_inviting_robots_to_answer(email_bot):
    asked = send(email_bot, mail_from(f"Ana <{ANA}>", "2FA", "Hi, how do I enable 2FA on my account?\n\n--\nAna"))
    [reply] = replies_to(email_bot, ANA, asked)
    assert reply["In-Reply-To"] == asked["Message-ID"], "threads under the user's mail"
    assert reply["Subject"] == "Re: 2FA" and reply["From"] == SUPPORT
    assert reply["Auto-Submitted"] == "auto-replied", "other robots do not answer us"
    assert "mailto:" + SUPPORT in reply["List-Unsubscribe"]
    assert "2FA" in body(reply) or "authenticator" in body(reply).lower()


def test_a_handed_off_mail_gets_the_agents_reply_in_its_thread_and_the_answer_comes_back(email_bot):
    bot = email_bot.bot
    asked = send(email_bot, mail_from(f"Ana <{ANA}>", "Account locked", "I want to talk to a human, please."))
    [notice] = replies_to(email_bot, ANA, asked)
    ticket = re.search(r"T-\d+", body(notice)).group(0)
    token = add_agent(SimpleNamespace(url=email_bot.redis_url), "mira", "en")
    status, conv = call(bot, "POST", "/api/queue/claim", {"languages": ["en"]}, token=token)
    assert status == 200 and conv["platform"] == "email"
    text = "Hello Ana, Mira here. Which e-mail address is on your account?"
    assert call(bot, "POST", f"/api/conversations/{conv['id']}/reply", {"text": text}, token=token)[0] == 202
    agent_mail = replies_to(email_bot, ANA, asked, count=2)[-1]
    assert body(agent_mail).strip().startswith(text)
    assert f"[#{ticket}]" in agent_mail["Subject"], "the ticket in the subject"
    assert agent_mail["In-Reply-To"] == notice["Message-ID"], "threads under the bot's last mail"
    kept = reply_with_files(bot, conv["id"], token, "Here is the form to fill in.",
                            {"form.pdf": PDF, "where.png": photo("PNG")})  # fmt: skip
    with_files = replies_to(email_bot, ANA, asked, count=3)[-1]
    assert body(with_files).strip().startswith("Here is the form to fill in.")
    assert [(part.get_filename(), part.get_content_type(), part.get_content())
            for part in with_files.iter_attachments()] == [("form.pdf", "application/pdf", PDF),
                                                           ("where.png", "image/png", kept["where.png"])]  # fmt: skip

    answer = mail_from(f"Ana <{ANA}>", "Re: " + agent_mail["Subject"],
                       f"It is ana.trader@example.com\n\nOn Mon, Mira wrote:\n> {text}\n", reply_to=agent_mail)
    image = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(image, format="PNG")
    answer.add_attachment(image.getvalue(), maintype="image", subtype="png", filename="screenshot.png")
    send(email_bot, answer)

    def transcript() -> list[dict]:
        return call(bot, "GET", f"/api/conversations/{conv['id']}", token=token)[1]["transcript"]

    lines = wait_for(lambda: [x for x in transcript() if "ana.trader@example.com" in x["text"]])
    assert lines and "Mira here" not in lines[0]["text"], "the quoted history is left out"
    [with_file] = [x for x in transcript() if x.get("file")]
    assert with_file["text"] == "[screenshot.png]" and with_file["media_type"] == "image/png"
    assert len(replies_to(email_bot, ANA, asked, count=4, timeout=3)) == 3, "the bot stays quiet while Mira has it"


def test_a_file_too_big_or_disguised_by_its_name_is_refused_in_the_users_language(email_bot):
    noise = io.BytesIO()
    Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).save(noise, format="PNG")
    big = mail_from(f"Ana <{ANA}>", "captura", "")
    big.add_attachment(noise.getvalue(), maintype="image", subtype="png", filename="captura.png")
    big["Content-Language"] = "es"
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("invoice.exe", b"MZ" + b"\0" * 64)
    disguised = mail_from(f"Ana <{ANA}>", "photo", "")
    disguised.add_attachment(zipped.getvalue(), maintype="image", subtype="png", filename="photo.png")
    [too_big] = replies_to(email_bot, ANA, send(email_bot, big))
    [wrong] = replies_to(email_bot, ANA, send(email_bot, disguised))
    assert "demasiado grande" in body(too_big) and "0.2 MB" in body(too_big)
    assert "JPEG" in body(wrong) and "PDF" in body(wrong)


def test_automatic_mail_is_not_answered_and_a_bounce_is_recorded(email_bot):
    out_of_office = send(email_bot, mail_from(BO, "Out of office", "I am away until Monday.",
                                              Auto_Submitted="auto-replied"))  # fmt: skip
    bulk = send(email_bot, mail_from(BO, "Newsletter", "Our weekly news", Precedence="bulk"))
    asked = send(email_bot, mail_from(BO, "Fees", "What are your withdrawal fees?"))
    assert replies_to(email_bot, BO, asked), "a person's mail is answered"
    assert not [m for m in inbox_of(email_bot, BO) if {out_of_office["Message-ID"], bulk["Message-ID"]}
                & set(str(m.get("References", "")).split())], "no answer to robots"  # fmt: skip

    bounce = EmailMessage()
    bounce["From"] = "MAILER-DAEMON@user.test"
    bounce["To"] = SUPPORT
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce["Message-ID"] = make_msgid(domain="user.test")
    bounce["Auto-Submitted"] = "auto-replied"
    bounce.set_content(f"This is the mail system.\n\n<{BO}>: host user.test said: 550 5.1.1 User unknown\n")
    send(email_bot, bounce)
    state = wait_for(lambda: email_bot.redis.hgetall(f"sb:mail:address:{BO}").get(b"bounced"))
    assert state, "the bounce is recorded against the address"


def test_a_seed_phrase_in_a_mail_is_stored_nowhere_and_leaves_the_mailbox(email_bot):
    from mnemonic import Mnemonic

    phrase = Mnemonic("english").to_mnemonic(bytes(range(120, 136)))
    asked = send(email_bot, mail_from(f"Ana <{ANA}>", "wallet", f"Is this safe? my seed is {phrase}"))
    [warning] = replies_to(email_bot, ANA, asked)
    assert "seed" in body(warning).lower() or "recovery" in body(warning).lower()
    words = phrase.split()
    leaked = {key: value for key, value in stored_text(email_bot.redis_url).items()
              if sum(word in value.split() for word in words) >= 6}  # fmt: skip
    assert leaked == {}
    wait_for(lambda: not [m for m in inbox_of(email_bot, SUPPORT) if m["Message-ID"] == asked["Message-ID"]])
    assert not [m for m in inbox_of(email_bot, SUPPORT) if m["Message-ID"] == asked["Message-ID"]], \
        "deleted from the support mailbox once read"  # fmt: skip


def test_an_agents_reply_follows_a_web_chat_user_who_left_by_e_mail_and_their_answer_comes_back(email_bot):
    bot = email_bot.bot
    status, started = call(bot, "POST", "/api/webchat/sessions", {})
    assert status == 201 and started["followup_by_email"], "the page offers replies by e-mail"
    session = started["session"]
    assert call(bot, "POST", f"/api/webchat/{session}/followup", {"email": "not an address"})[0] == 400
    status, saved = call(bot, "POST", f"/api/webchat/{session}/followup", {"email": ANA})
    assert status == 200 and "a***@user.test" in saved["reply"]["text"], "confirmed, the address masked"
    say_status, said = call(bot, "POST", f"/api/webchat/{session}/messages",
                            {"text": "I want to talk to a human about a missing deposit"})  # fmt: skip
    assert say_status == 200
    token = add_agent(SimpleNamespace(url=email_bot.redis_url), "noor", "en")
    status, conv = call(bot, "POST", "/api/queue/claim", {"languages": ["en"]}, token=token)
    assert status == 200 and conv["platform"] == "webchat"

    def followed() -> list[EmailMessage]:
        return [m for m in inbox_of(email_bot, ANA) if "Your support request" in str(m["Subject"])]

    call(bot, "GET", f"/api/webchat/{session}/messages?after=0-0&wait=0")  # the page is open
    here = "Noor here: I see your deposit, one moment."
    assert call(bot, "POST", f"/api/conversations/{conv['id']}/reply", {"text": here}, token=token)[0] == 202
    email_bot.redis.delete(f"sb:webchat-seen:{session}")  # a minute later: the page was closed
    gone = "Noor again: the deposit is credited now. Can you check?"
    assert call(bot, "POST", f"/api/conversations/{conv['id']}/reply", {"text": gone}, token=token)[0] == 202
    [mail] = wait_for(followed)
    assert body(mail).strip().startswith(gone) and here not in body(mail), "only what was said while away"
    assert conv["ticket"] in mail["Subject"] and mail["List-Unsubscribe"]

    answer = mail_from(f"Ana <{ANA}>", "Re: " + mail["Subject"], f"Yes, I see it, thanks!\n\n> {gone}\n",
                       reply_to=mail)  # fmt: skip
    send(email_bot, answer)

    def answered() -> list[dict]:
        transcript = call(bot, "GET", f"/api/conversations/{conv['id']}", token=token)[1]["transcript"]
        return [x for x in transcript if x["text"].startswith("Yes, I see it")]

    assert wait_for(answered), "the answer by e-mail comes back into the web chat conversation"


def test_an_unsubscribed_address_gets_no_more_mail_until_it_writes_again(email_bot):
    bot = email_bot.bot
    asked = send(email_bot, mail_from(f"Bo <{BO}>", "Help", "I want to talk to a human about my account"))
    replies_to(email_bot, BO, asked)
    token = add_agent(SimpleNamespace(url=email_bot.redis_url), "omar", "en")
    status, conv = call(bot, "POST", "/api/queue/claim", {"languages": ["en"]}, token=token)
    assert status == 200 and conv["user_id"] == BO
    send(email_bot, mail_from(f"Bo <{BO}>", "unsubscribe", "unsubscribe"))
    assert wait_for(lambda: email_bot.redis.hget(f"sb:mail:address:{BO}", "unsubscribed"))
    before = len(inbox_of(email_bot, BO))
    assert call(bot, "POST", f"/api/conversations/{conv['id']}/reply", {"text": "Omar here."}, token=token)[0] == 202
    assert not wait_for(lambda: len(inbox_of(email_bot, BO)) > before, timeout=5), "no mail after unsubscribing"
