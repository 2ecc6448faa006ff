"""Real mail servers for the e-mail tests: a private Dovecot for IMAP (`tests/dovecot.py`) and
an aiosmtpd SMTP server that delivers each accepted message into the recipient's Dovecot
mailbox through Dovecot's own LDA. Nothing here stands in for a server. Tests import the
`mail_servers` fixture (module scope) from here."""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import free_port
from tests.dovecot import HOST, Dovecot, dovecot_workdir

# Every mailbox the servers know, with its password: the bot's and the users it writes to.
USERS = {
    "support@bot.test": "support-mailbox-pass",
    "ana@user.test": "ana-mailbox-pass",
    "bo@user.test": "bo-mailbox-pass",
}
NETWORK_TIMEOUT = 10.0


@dataclass(frozen=True)
class Accepted:
    """One message the SMTP server accepted: its envelope and who had logged in to send it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    login: str | None


class DeliveringHandler:
    """aiosmtpd's handler: local recipients only (others 550), each message delivered into
    Dovecot through its LDA before the 250, and recorded."""

    def __init__(self, dovecot: Dovecot) -> None:
        self.dovecot = dovecot
        self.accepted: list[Accepted] = []

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        if address.lower() not in self.dovecot.users:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address.lower())
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content
        for recipient in envelope.rcpt_tos:
            code = await asyncio.to_thread(self.dovecot.deliver_locally, recipient, raw, envelope.mail_from)
            if code != 0:
                return f"451 4.3.0 delivery to <{recipient}> failed (LDA exit {code}), try again later"
        login = session.auth_data.login.decode() if session.authenticated else None
        self.accepted.append(Accepted(envelope.mail_from, tuple(envelope.rcpt_tos), login))
        return "250 2.0.0 delivered"


class MailServers:
    """What a test module uses: both servers' addresses, the mailboxes' credentials, and
    `deliver` / `fetch_all` to write and read mail as the users' own servers and clients would."""

    def __init__(self, workdir: Path, users: dict[str, str]) -> None:
        self.imap_host = self.smtp_host = HOST
        self.dovecot = Dovecot(workdir, users)
        self.imap_port = self.dovecot.port
        self.smtp_port = free_port()
        self.handler = DeliveringHandler(self.dovecot)
        self.smtp = Controller(self.handler, hostname=HOST, port=self.smtp_port, authenticator=self._authenticate,
                               auth_require_tls=False, ready_timeout=NETWORK_TIMEOUT)  # fmt: skip
        self.dovecot_start_seconds = 0.0

    @property
    def users(self) -> dict[str, str]:
        return self.dovecot.users

    @property
    def accepted(self) -> list[Accepted]:
        return self.handler.accepted

    def _authenticate(self, server, session, envelope, mechanism: str, auth_data) -> AuthResult:
        """SMTP AUTH (PLAIN or LOGIN, allowed without TLS on loopback) against the same users."""
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(login.lower()) == password:
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    def start(self) -> None:
        self.dovecot_start_seconds = self.dovecot.start()
        self.smtp.start()

    def stop(self) -> None:
        self.smtp.stop()
        self.dovecot.stop()

    def deliver(self, to: str, raw: bytes, mail_from: str = "ana@user.test") -> None:
        """Puts a message into `to`'s mailbox as a sending server would: over SMTP to the server
        above (no login: it is mail for a local mailbox), which delivers it into Dovecot."""
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=NETWORK_TIMEOUT) as client:
            client.sendmail(mail_from, [to], raw)

    def fetch_all(self, address: str, password: str | None = None) -> list[bytes]:
        """Every message in `address`'s INBOX, oldest first, read over IMAP without marking it seen."""
        client = imaplib.IMAP4(self.imap_host, self.imap_port, timeout=NETWORK_TIMEOUT)
        try:
            client.login(address, password if password is not None else self.users[address])
            _, [count] = client.select("INBOX", readonly=True)
            if count == b"0":
                return []
            _, data = client.uid("FETCH", "1:*", "(BODY.PEEK[])")
            return [part[1] for part in data if isinstance(part, tuple)]
        finally:
            client.logout()


@contextlib.contextmanager
def dovecot_alone(extra_config: str) -> Iterator[Dovecot]:
    """A second, differently configured Dovecot (IMAP only, the same users), e.g. one
    without IDLE; mail goes in with `deliver_locally`."""
    with dovecot_workdir() as workdir:
        dovecot = Dovecot(workdir, USERS, extra_config)
        try:
            dovecot.start()
            yield dovecot
        finally:
            dovecot.stop()


@pytest.fixture(scope="module", name="mail_servers")
def mail_servers_fixture() -> Iterator[MailServers]:
    """A Dovecot and an SMTP server for one test module, stopped and removed at its end."""
    with dovecot_workdir() as workdir:
        servers = MailServers(workdir, USERS)
        try:
            servers.start()
            yield servers
        finally:
            servers.stop()
