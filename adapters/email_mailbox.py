"""The bot's support mailbox: mail in over IMAP (IDLE when the server offers it, polling
otherwise), replies out over SMTP with a login. Only the protocols live here: reading and
writing MIME, threads and conversations are the e-mail channel's.

IMAP is aioimaplib's (asyncio, IDLE); SMTP is the standard library's `smtplib` in a thread (one
short session per reply: an asyncio SMTP client would be one more dependency for no gain).
Every network call has a timeout; a dropped IMAP connection (the server restarted) is noticed
at once and the next `unseen()` or `wait_for_mail()` connects again. The password is never
logged nor put in an error: those name the user and the server only.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.message
import logging
import re
import ssl
from collections.abc import Awaitable

from aioimaplib import IMAP4, AioImapException, Response, quoted

from adapters.email_smtp import (
    NETWORK_TIMEOUT,
    MailboxError,
    MailboxLoginRefused,
    MailboxSettings,
    MailboxUnavailable,
    MailRefused,
    decoded,
    send_now,
)

__all__ = ["Mailbox", "MailboxError", "MailboxLoginRefused", "MailboxSettings", "MailboxUnavailable", "MailRefused"]

log = logging.getLogger(__name__)
# aioimaplib logs the whole IMAP session at DEBUG: users' mail, and the LOGIN password when it
# holds a quote or a backslash (its scrubbing misses the escaped form). Never let it through.
logging.getLogger("aioimaplib").setLevel(logging.WARNING)

FETCH_TIMEOUT = 60.0  # one message, attachments included
IDLE_LIMIT = 25 * 60.0  # RFC 2177: re-issue IDLE before servers' 30-minute inactivity cut
_SEARCH_LINE = re.compile(rb"^(SEARCH)?[\d ]*$")  # `* SEARCH 4 7`, as aioimaplib hands it over
_NEW_MAIL = re.compile(rb"^\d+ EXISTS$")


class Mailbox:
    """One IMAP connection to the support folder, opened on demand, and SMTP per message.
    The IMAP methods take turns (a lock): a call made while `wait_for_mail` idles waits for it."""

    def __init__(self, settings: MailboxSettings) -> None:
        self.settings = settings
        self._imap: IMAP4 | None = None
        self._connection = 0  # which connection is current: a late drop of an old one is ignored
        self._dropped = asyncio.Event()
        self._turn = asyncio.Lock()
        self._newest_uid_returned = 0

    def _imap_where(self) -> str:
        return f"user {self.settings.user} at {self.settings.imap_host}:{self.settings.imap_port}"

    async def connect(self) -> None:
        """Connects, logs in and selects the folder. Raises MailboxLoginRefused for bad
        credentials, MailboxUnavailable when the server cannot be reached."""
        await self.close()
        settings = self.settings
        self._dropped.clear()
        connection = self._connection
        context = ssl.create_default_context() if settings.imap_tls else None
        client = IMAP4(settings.imap_host, settings.imap_port, timeout=NETWORK_TIMEOUT, ssl_context=context,
                       conn_lost_cb=lambda _exc: self._lost(connection))  # fmt: skip
        try:
            await self._sign_in(client)
        except BaseException as exc:
            self._connection += 1  # this client's closing is no news
            _abandon(client)
            if isinstance(exc, (OSError, asyncio.TimeoutError, AioImapException)):
                where = self._imap_where()
                raise MailboxUnavailable(f"IMAP server unreachable for {where}: {_cause(exc)}") from _chained(exc)
            raise
        self._imap = client
        log.info("IMAP connected: %s, folder %s, IDLE %s", self._imap_where(), settings.folder,
                 "offered" if client.has_capability("IDLE") else "not offered")  # fmt: skip

    async def _sign_in(self, client: IMAP4) -> None:
        await client.wait_hello_from_server()
        login = await client.login(self.settings.user, self.settings.password)
        if login.result != "OK":
            raise MailboxLoginRefused(f"IMAP login refused for {self._imap_where()}: {_text(login)}")
        await asyncio.wait_for(client.protocol.capability(), NETWORK_TIMEOUT)  # the set after login
        selected = await client.select(quoted(self.settings.folder))
        if selected.result != "OK":
            folder = self.settings.folder
            raise MailboxError(f"cannot open folder {folder} for {self._imap_where()}: {_text(selected)}")

    async def close(self) -> None:
        """Logs out (briefly: a dead server is not waited for) and forgets the connection."""
        if self._imap is not None:
            with contextlib.suppress(OSError, asyncio.TimeoutError, AioImapException):
                await asyncio.wait_for(self._imap.logout(), 2)
        self._forget()

    def _forget(self) -> None:
        """Drops the connection, unread: the next call connects again."""
        client, self._imap = self._imap, None
        self._connection += 1
        if client is not None:
            _abandon(client)

    def _lost(self, connection: int) -> None:
        if connection == self._connection:
            log.warning("IMAP connection lost: %s; the next call reconnects", self._imap_where())
            self._imap = None
            self._dropped.set()

    async def _client(self) -> IMAP4:
        if self._imap is None:
            await self.connect()
        return self._imap

    async def _run(self, command: Awaitable[Response], what: str, timeout: float = NETWORK_TIMEOUT) -> Response:
        """One IMAP command, bounded by `timeout` and cut short by a dropped connection."""
        reply = asyncio.ensure_future(command)
        dropped = asyncio.ensure_future(self._dropped.wait())
        await asyncio.wait({reply, dropped}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        dropped.cancel()
        if not reply.done():
            reply.cancel()
            self._forget()
            raise MailboxUnavailable(f"IMAP {what} got no answer for {self._imap_where()}")
        try:
            response = reply.result()
        except (OSError, asyncio.TimeoutError, AioImapException) as exc:
            self._forget()
            raise MailboxUnavailable(f"IMAP {what} failed for {self._imap_where()}: {_cause(exc)}") from _chained(exc)
        if response.result != "OK":
            raise MailboxError(f"IMAP {what} refused for {self._imap_where()}: {_text(response)}")
        return response

    async def _unseen_uids(self, client: IMAP4) -> list[int]:
        # A server lets a search see new mail only once it has announced it (EXISTS), which a
        # NOOP makes it do: without it mail delivered since the last command would be missed.
        await self._run(client.noop(), "noop")
        found = await self._run(client.uid_search("UNSEEN", charset=None), "search")
        lines = [line for line in found.lines[:-1] if isinstance(line, bytes) and _SEARCH_LINE.match(line)]
        return sorted({int(uid) for line in lines for uid in line.split() if uid.isdigit()})

    async def unseen(self) -> list[tuple[int, bytes]]:
        """(uid, raw message) of every unseen message in the folder, oldest first. Reading does
        not mark them seen: `mark_handled` does, once the message is safely taken."""
        async with self._turn:
            client = await self._client()
            messages = []
            for uid in await self._unseen_uids(client):
                fetched = await self._run(client.uid("fetch", str(uid), "(BODY.PEEK[])"), "fetch", FETCH_TIMEOUT)
                raw = next((bytes(part) for part in fetched.lines if isinstance(part, bytearray)), None)
                if raw is not None:  # None: expunged meanwhile by another client
                    messages.append((uid, raw))
                self._newest_uid_returned = max(self._newest_uid_returned, uid)
            return messages

    async def mark_handled(self, uid: int) -> None:
        """Flags the message \\Seen on the server, so that no restart reads it again."""
        async with self._turn:
            client = await self._client()
            await self._run(client.uid("store", str(uid), "+FLAGS.SILENT", r"(\Seen)"), "store")

    async def delete(self, uid: int) -> None:
        """Removes the message from the mailbox for good (one that held a pasted secret): flagged
        \\Deleted and expunged, by its uid alone where the server has UIDPLUS."""
        async with self._turn:
            client = await self._client()
            await self._run(client.uid("store", str(uid), "+FLAGS.SILENT", r"(\Seen \Deleted)"), "store")
            if "UIDPLUS" in client.protocol.capabilities:
                await self._run(client.uid("expunge", str(uid)), "expunge")
            else:
                await self._run(client.expunge(), "expunge")

    async def wait_for_mail(self, timeout: float) -> None:
        """Returns when new mail may have arrived, or after `timeout` seconds at most: at once
        if unseen mail newer than what `unseen` returned is there already; else IDLE when the
        server offers it, sleeping `poll_seconds` otherwise, or while the server is down.
        A refused login raises; a dropped connection returns (the next call reconnects)."""
        async with self._turn:
            try:
                client = await self._client()
                if any(uid > self._newest_uid_returned for uid in await self._unseen_uids(client)):
                    return
            except MailboxUnavailable as exc:
                log.warning("%s; checking again in %g s", exc, min(timeout, self.settings.poll_seconds))
                await asyncio.sleep(min(timeout, self.settings.poll_seconds))
                return
            if not client.has_capability("IDLE"):
                await asyncio.sleep(min(timeout, self.settings.poll_seconds))
                return
            await self._idle(client, min(timeout, IDLE_LIMIT))

    async def _idle(self, client: IMAP4, timeout: float) -> None:
        """IDLE until the server announces new mail (EXISTS), the time is up or the connection drops."""
        while not client.protocol.idle_queue.empty():  # pushes left over from an earlier IDLE
            client.protocol.idle_queue.get_nowait()
        try:
            idle = await asyncio.wait_for(client.idle_start(timeout=timeout), NETWORK_TIMEOUT)
        except (OSError, asyncio.TimeoutError, AioImapException) as exc:
            self._forget()
            log.warning("IMAP IDLE failed for %s: %s", self._imap_where(), _cause(exc))
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        dropped = asyncio.ensure_future(self._dropped.wait())
        try:
            while loop.time() < deadline and not dropped.done():
                push = asyncio.ensure_future(client.wait_server_push(deadline - loop.time()))
                await asyncio.wait({push, dropped}, return_when=asyncio.FIRST_COMPLETED)
                if dropped.done():
                    push.cancel()
                    idle.cancel()  # its connection is gone: no answer will come
                    return
                lines = push.result() if not push.exception() else "timeout"
                if not isinstance(lines, list) or any(_NEW_MAIL.match(line) for line in lines):
                    break  # new mail, or aioimaplib's own end of IDLE
        finally:
            dropped.cancel()
        if client.has_pending_idle():
            client.idle_done()
            try:
                await self._run(asyncio.wait_for(idle, NETWORK_TIMEOUT), "end of IDLE")
            except MailboxError as exc:
                log.warning("%s", exc)

    async def send(self, message: email.message.EmailMessage) -> None:
        """Sends one message over SMTP, logged in as the mailbox's user, from its address.
        Raises MailRefused when the server refuses the message or any recipient (the others
        did receive it), MailboxLoginRefused for bad credentials, MailboxUnavailable otherwise."""
        await asyncio.to_thread(send_now, self.settings, message)

def _abandon(client: IMAP4) -> None:
    """Closes a client's socket without a word to the server."""
    transport = client.protocol.transport if client.protocol else None
    if transport is not None:
        transport.close()


def _cause(exc: BaseException) -> str:
    """What went wrong, fit for a log: aioimaplib's own errors can quote the command they were
    about, and a LOGIN command holds the password, so only their kind is said."""
    if isinstance(exc, AioImapException):
        return type(exc).__name__
    if isinstance(exc, asyncio.TimeoutError):
        return f"no answer within {NETWORK_TIMEOUT:g} s"
    return repr(exc)


def _chained(exc: BaseException) -> BaseException | None:
    """The cause to chain to our error (shown in tracebacks): none for aioimaplib's (see `_cause`)."""
    return None if isinstance(exc, AioImapException) else exc


def _text(response: Response) -> str:
    """A refusal's text from the server, e.g. `[AUTHENTICATIONFAILED] Authentication failed.`"""
    return decoded(response.lines[-1] if response.lines else b"")
