"""The support mailbox's settings, its errors, and sending over SMTP (the standard library's
`smtplib`, run in a thread by `Mailbox.send`: one short session per reply). Errors name the
user and the server, never the password."""

from __future__ import annotations

import email.message
import logging
import smtplib
import ssl
from dataclasses import dataclass, field

log = logging.getLogger("adapters.email_mailbox")
NETWORK_TIMEOUT = 20.0  # connecting, logging in, one SMTP session


class MailboxError(Exception):
    """The mailbox could not do what was asked; the message names the user and the server."""


class MailboxLoginRefused(MailboxError):
    """The server refused the user's credentials (IMAP or SMTP): retrying will not help."""


class MailboxUnavailable(MailboxError):
    """The server could not be reached or dropped the connection: try again later."""


class MailRefused(MailboxError):
    """The SMTP server refused the message or some of its recipients."""


@dataclass(frozen=True)
class MailboxSettings:
    """Where the support mailbox is and how to sign in (the caller reads the user and password
    from SB_MAIL_USER / SB_MAIL_PASSWORD). Real servers use TLS; tests turn it off on loopback."""

    imap_host: str
    imap_port: int
    smtp_host: str
    smtp_port: int
    user: str
    password: str = field(repr=False)
    address: str  # the support address mail is sent from (and bounces return to)
    imap_tls: bool = True  # IMAPS (implicit TLS, usually port 993)
    smtp_starttls: bool = True  # STARTTLS before the login (usually port 587)
    folder: str = "INBOX"
    poll_seconds: float = 30.0  # between checks when the server has no IDLE, or is down


def send_now(settings: MailboxSettings, message: email.message.EmailMessage) -> None:
    """Sends one message over SMTP, logged in as the mailbox's user, from its address (see
    `Mailbox.send`)."""
    where = f"user {settings.user} at {settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=NETWORK_TIMEOUT) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            smtp.login(settings.user, settings.password)
            refused = smtp.send_message(message, from_addr=settings.address)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailboxLoginRefused(f"SMTP login refused for {where}: {_reply(exc)}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailRefused(f"SMTP refused every recipient for {where}: {_refusals(exc.recipients)}") from exc
    except smtplib.SMTPResponseException as exc:
        raise MailRefused(f"SMTP refused the message for {where}: {_reply(exc)}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailboxUnavailable(f"SMTP server unreachable for {where}: {exc!r}") from exc
    if refused:
        raise MailRefused(f"SMTP refused some recipients for {where}: {_refusals(refused)}")
    log.info("mail sent: %s", where)


def decoded(value: bytes | bytearray | str) -> str:
    return value if isinstance(value, str) else bytes(value).decode("utf-8", "replace")


def _reply(exc: smtplib.SMTPResponseException) -> str:
    """The server's code and text, e.g. `535 5.7.8 Authentication credentials invalid`."""
    return f"{exc.smtp_code} {decoded(exc.smtp_error)}"


def _refusals(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address}: {code} {decoded(reason)}" for address, (code, reason) in recipients.items())
