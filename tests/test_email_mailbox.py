"""The bot's support mailbox (adapters/email_mailbox.py) against real servers: a private Dovecot
for IMAP and an aiosmtpd server that delivers into it (tests/mail_servers.py). Mail delivered
over SMTP is read, flagged handled on the server, waited for with IDLE, replies reach the user's
mailbox with their threading headers, a wrong password is a clear error that never shows the
password, and a restarted IMAP server loses nothing."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import email
import email.policy
import logging
import os
import time
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from adapters.email_mailbox import Mailbox, MailboxLoginRefused, MailboxSettings, MailboxUnavailable, MailRefused
from tests.mail_servers import MailServers, dovecot_alone, mail_servers_fixture  # noqa: F401  (the module's `mail_servers`)

SUPPORT = "support@bot.test"
ANA = "ana@user.test"


def settings_for(servers: MailServers, **changes) -> MailboxSettings:
    """The support mailbox on the test servers: no TLS on loopback."""
    settings = MailboxSettings(imap_host=servers.imap_host, imap_port=servers.imap_port, smtp_host=servers.smtp_host,
                               smtp_port=servers.smtp_port, user=SUPPORT, password=servers.users[SUPPORT],
                               address=SUPPORT, imap_tls=False, smtp_starttls=False)  # fmt: skip
    return dataclasses.replace(settings, **changes)


def user_mail(subject: str, body: str, attachment: bytes | None = None) -> EmailMessage:
    """A mail as Ana's client writes it to support."""
    message = EmailMessage()
    message["From"] = f"Ana <{ANA}>"
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="user.test")
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="statement.pdf")
    return message


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def text_of(message: EmailMessage) -> str:
    """The text body, line ends folded (mail travels with CRLF)."""
    return message.get_content().replace("\r\n", "\n")


@pytest.fixture
async def mailbox(mail_servers):
    """The support mailbox, connected, with what earlier tests left unseen marked handled."""
    box = Mailbox(settings_for(mail_servers))
    await box.connect()
    for uid, _ in await box.unseen():
        await box.mark_handled(uid)
    yield box
    await box.close()


async def test_a_delivered_mail_is_read_until_handled_and_the_flag_is_on_the_server(mail_servers, mailbox):
    first = user_mail("Deposit missing", "My deposit of 0.5 BTC has not arrived.\nTx: 9f2c")
    second = user_mail("¿Dónde está mi depósito?", "Envié 100 USDT hace dos horas. 入金がまだです。")
    for message in (first, second):
        mail_servers.deliver(SUPPORT, message.as_bytes(policy=email.policy.SMTP))

    unseen = await mailbox.unseen()

    assert [parsed(raw)["Message-ID"] for _, raw in unseen] == [first["Message-ID"], second["Message-ID"]]
    for (_, raw), sent in zip(unseen, (first, second), strict=True):
        assert parsed(raw)["Subject"] == sent["Subject"]
        assert text_of(parsed(raw)) == text_of(sent)
    await mailbox.mark_handled(unseen[0][0])
    assert [uid for uid, _ in await mailbox.unseen()] == [unseen[1][0]]
    await mailbox.mark_handled(unseen[1][0])
    assert await mailbox.unseen() == []
    fresh = Mailbox(settings_for(mail_servers))  # a restarted bot: what it handled stays handled
    assert await fresh.unseen() == []
    await fresh.close()


async def test_a_3_mb_attachment_arrives_byte_for_byte(mail_servers, mailbox):
    document = os.urandom(3 * 1024 * 1024)
    mail_servers.deliver(SUPPORT, user_mail("My statement", "Attached.", document).as_bytes(policy=email.policy.SMTP))

    [(_, raw)] = await mailbox.unseen()

    [attachment] = parsed(raw).iter_attachments()
    assert attachment.get_filename() == "statement.pdf"
    assert attachment.get_content() == document


async def test_wait_for_mail_wakes_within_a_second_of_a_delivery_while_idling(mail_servers, mailbox):
    started = time.monotonic()
    await mailbox.wait_for_mail(timeout=1.0)  # nothing new: the whole timeout
    assert 0.9 < time.monotonic() - started < 2.0

    waiting = asyncio.create_task(mailbox.wait_for_mail(timeout=20))
    await asyncio.sleep(0.5)  # IDLE is on
    assert not waiting.done()
    delivered = time.monotonic()
    await asyncio.to_thread(mail_servers.deliver, SUPPORT, user_mail("Hello?", "Anyone there?").as_bytes())
    await asyncio.wait_for(waiting, 5)
    woke_after = time.monotonic() - delivered
    print(f"wait_for_mail woke {woke_after:.2f} s after the delivery began (poll_seconds 30)")
    assert woke_after < 1.5
    assert [parsed(raw)["Subject"] for _, raw in await mailbox.unseen()] == ["Hello?"]

    # Mail that lands between unseen() and wait_for_mail() is not slept over.
    mail_servers.deliver(SUPPORT, user_mail("Me again", "Still waiting.").as_bytes())
    started = time.monotonic()
    await mailbox.wait_for_mail(timeout=20)
    assert time.monotonic() - started < 1.0


async def test_without_idle_on_offer_the_mailbox_polls_every_poll_seconds(mail_servers):
    with dovecot_alone("imap_capability = IMAP4rev1 LITERAL+ UIDPLUS\n") as no_idle:
        box = Mailbox(settings_for(mail_servers, imap_port=no_idle.port, poll_seconds=0.5))
        started = time.monotonic()
        await box.wait_for_mail(timeout=20)  # nothing comes: one poll_seconds, not the 20 s of an IDLE
        assert 0.4 < time.monotonic() - started < 1.5

        assert no_idle.deliver_locally(SUPPORT, user_mail("Polled", "by the minute").as_bytes(), ANA) == 0
        await box.wait_for_mail(timeout=20)
        assert [parsed(raw)["Subject"] for _, raw in await box.unseen()] == ["Polled"]
        await box.close()


async def test_send_reaches_the_users_mailbox_with_its_threading_headers(mail_servers, mailbox):
    reply = EmailMessage()
    reply["From"] = f"Support <{SUPPORT}>"
    reply["To"] = ANA
    reply["Subject"] = "Re: Deposit missing [#T-1042]"
    reply["Message-ID"] = make_msgid(domain="bot.test")
    reply["In-Reply-To"] = "<user-1@user.test>"
    reply["References"] = "<user-0@user.test> <user-1@user.test>"
    reply.set_content("Your deposit is confirmed now.")

    await mailbox.send(reply)

    [received] = [parsed(raw) for raw in mail_servers.fetch_all(ANA) if reply["Message-ID"] in raw.decode()]
    for header in ("From", "To", "Subject", "In-Reply-To", "References"):
        assert received[header] == reply[header]
    assert text_of(received) == text_of(reply)
    assert mail_servers.fetch_all("bo@user.test") == []  # nobody else got it
    last = mail_servers.accepted[-1]
    assert (last.mail_from, last.rcpt_tos, last.login) == (SUPPORT, (ANA,), SUPPORT)  # logged in to send


async def test_refused_recipients_raise_and_name_the_address(mail_servers, mailbox):
    to_nobody = user_mail("x", "x")
    del to_nobody["To"], to_nobody["From"]
    to_nobody["From"], to_nobody["To"] = SUPPORT, "nobody@elsewhere.test"
    with pytest.raises(MailRefused, match="nobody@elsewhere.test: 550"):
        await mailbox.send(to_nobody)

    del to_nobody["To"]
    to_nobody["To"] = f"{ANA}, nobody@elsewhere.test"
    with pytest.raises(MailRefused, match="some recipients.*nobody@elsewhere.test"):
        await mailbox.send(to_nobody)


async def test_a_wrong_password_names_the_user_and_server_but_never_the_password(mail_servers, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = 'not"the\\pass-7731'  # a quote and a backslash: IMAP quotes them on the wire
    settings = settings_for(mail_servers, password=wrong, poll_seconds=0.2)
    box = Mailbox(settings)

    with pytest.raises(MailboxLoginRefused) as imap_refusal:
        await box.connect()
    with pytest.raises(MailboxLoginRefused):
        await box.wait_for_mail(timeout=1)  # a refused login is not waited out
    with pytest.raises(MailboxLoginRefused) as smtp_refusal:
        await box.send(user_mail("x", "x"))

    imap_server, smtp_server = f"127.0.0.1:{mail_servers.imap_port}", f"127.0.0.1:{mail_servers.smtp_port}"
    assert str(imap_refusal.value).startswith(f"IMAP login refused for user {SUPPORT} at {imap_server}: ")
    assert str(smtp_refusal.value).startswith(f"SMTP login refused for user {SUPPORT} at {smtp_server}: 535")
    our_logs = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]  # not the test server's
    spelled = (wrong, wrong.replace("\\", "\\\\").replace('"', '\\"'), "pass-7731",
               base64.b64encode(f"\0{SUPPORT}\0{wrong}".encode()).decode())  # fmt: skip
    for text in [str(imap_refusal.value), str(smtp_refusal.value), repr(settings), *our_logs]:
        assert not any(form in text for form in spelled)
    await box.close()


async def test_the_mailbox_reconnects_after_the_imap_server_restarts_and_loses_nothing(mail_servers):
    box = Mailbox(settings_for(mail_servers, poll_seconds=0.3))
    for uid, _ in await box.unseen():
        await box.mark_handled(uid)
    mail_servers.deliver(SUPPORT, user_mail("Before the restart", "one").as_bytes())
    [(before_uid, _)] = await box.unseen()

    waiting = asyncio.create_task(box.wait_for_mail(timeout=20))
    await asyncio.sleep(0.3)
    try:
        await asyncio.to_thread(mail_servers.dovecot.stop)
        await asyncio.wait_for(waiting, 3)  # the dropped connection ends the wait at once
        with pytest.raises(MailboxUnavailable, match=f"user {SUPPORT} at 127.0.0.1"):
            await box.unseen()
        started = time.monotonic()
        await box.wait_for_mail(timeout=10)  # the server is down: a poll_seconds pause, no error
        assert time.monotonic() - started < 1.0
    finally:
        restart_seconds = await asyncio.to_thread(mail_servers.dovecot.start)
    print(f"Dovecot started again in {restart_seconds:.2f} s")

    assert [uid for uid, _ in await box.unseen()] == [before_uid]  # not handled before the drop: still there
    await box.mark_handled(before_uid)
    waiting = asyncio.create_task(box.wait_for_mail(timeout=20))
    await asyncio.sleep(0.5)
    await asyncio.to_thread(mail_servers.deliver, SUPPORT, user_mail("After the restart", "two").as_bytes())
    await asyncio.wait_for(waiting, 3)
    assert [parsed(raw)["Subject"] for _, raw in await box.unseen()] == ["After the restart"]
    await box.close()
