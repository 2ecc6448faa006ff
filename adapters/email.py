"""The e-mail channel (issue 20): the support mailbox read over IMAP (IDLE where the server
offers it), replies sent over SMTP, in the user's thread.

One conversation per thread: its chat is the thread's first message id (the first of
References, else In-Reply-To, else the mail's own id), which every mail client keeps when it
answers, so the user's answer to the bot's reply, or to an agent's, comes back to the same
conversation. What the pipeline reads is the new text alone (`email_message.read_mail`: no
quoted history, no signature, HTML read as text); files come with it as attachments.

No mail loops: automatic mail (out-of-office, Auto-Submitted, Precedence: bulk, lists,
mailer-daemons) is never answered, a bounce marks the address undeliverable until its owner
writes again, and an address sending more than `max_mails_per_address_hour` is not answered
past that. Every mail the bot sends says Auto-Submitted and carries an unsubscribe address;
a user who writes "unsubscribe" gets no more mail.

One replica reads the mailbox at a time (a Redis lock, like X's poller); a mail is marked
seen on the server once handled, and its Message-ID is its idempotency key, so a restart or
a change of reader answers it once. A mail in which the secret guard found a seed phrase or a
key is deleted from the mailbox once read (the bot stores only the redacted text).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import replace

from aiohttp import web

from adapters.email_compose import compose_reply
from adapters.email_mailbox import Mailbox, MailboxError, MailboxSettings, MailRefused
from adapters.email_message import MailAttachment, ReadMail, read_mail
from adapters.uploads import outgoing_files
from bot.channel_settings import EmailSettings
from bot.domain.attachments import Upload
from bot.domain.messages import InboundMessage, OutboundReply
from bot.services.channels import STORE_OUTAGE, MailState, MailThread
from bot.services.front_desk import FrontDesk

log = logging.getLogger(__name__)
PLATFORM = "email"
MAX_FILES = 5
_TICKET = re.compile(r"\bT-\d+\b")
_UNSUBSCRIBE = re.compile(r"^\s*(unsubscribe|stop)\s*$", re.IGNORECASE)


def thread_root(mail: ReadMail) -> str:
    """The thread's first message id: the conversation's chat."""
    return (mail.references[0] if mail.references else "") or mail.in_reply_to or mail.message_id


class EmailChannel:
    """Reads the support mailbox (as the leader), delivers the email outbox."""

    platform = PLATFORM
    listens = True  # one reader per replica (and a leader among replicas)

    def __init__(self, desk: FrontDesk, settings: EmailSettings, user: str, password: str, consumer: str,
                 state: MailState) -> None:  # fmt: skip
        self.desk = desk
        self.settings = settings
        self.consumer = consumer
        self.state = state
        self.mailbox = Mailbox(MailboxSettings(
            imap_host=settings.imap_host, imap_port=settings.imap_port, smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port, user=user, password=password, address=settings.address,
            imap_tls=settings.imap_tls, smtp_starttls=settings.smtp_starttls, folder=settings.folder,
            poll_seconds=settings.poll_seconds))  # fmt: skip
        self.domain = settings.address.rpartition("@")[2] or "localhost"
        self.task: asyncio.Task | None = None
        self.failed: set[int] = set()  # mails that raised: not read again by this process

    async def start(self) -> None:
        """Sign in (a refused login stops start-up) and start reading."""
        await self.mailbox.connect()
        self.task = asyncio.create_task(self.read_forever())
        log.info("email: reading %s as %s", self.settings.folder, self.settings.address)

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.state.resign(self.consumer)
        await self.mailbox.close()

    def routes(self) -> list[web.AbstractRouteDef]:
        return []  # mail is read from the mailbox

    async def read_forever(self) -> None:
        while True:
            try:
                if await self.state.lead(self.consumer, self.settings.leader_lock_seconds):
                    await self.read_new()
                    await self.mailbox.wait_for_mail(min(self.settings.poll_seconds,
                                                         self.settings.leader_lock_seconds / 2))  # fmt: skip
                    continue
            except MailboxError as exc:
                log.warning("email: the mailbox failed (%s); trying again", exc)
            except STORE_OUTAGE:
                log.warning("email: Redis unavailable; reading paused")
            await asyncio.sleep(min(self.settings.poll_seconds, 5.0))

    async def read_new(self) -> int:
        """Handle every unseen mail, oldest first; how many."""
        unseen = [(uid, raw) for uid, raw in await self.mailbox.unseen() if uid not in self.failed]
        for uid, raw in unseen:
            try:
                secret = await self.take(read_mail(raw))
            except STORE_OUTAGE:
                raise
            except Exception:  # a bug: the mail stays in the mailbox, unseen, for a person to find
                log.exception("email: a mail could not be handled; it is left unread in the mailbox")
                self.failed.add(uid)
                continue
            if secret:
                await self.mailbox.delete(uid)
            else:
                await self.mailbox.mark_handled(uid)
        return len(unseen)

    async def take(self, mail: ReadMail) -> bool:
        """One mail into the pipeline (or recorded, or ignored); True when it held a secret."""
        if not mail.sender:
            log.info("email: a mail without a readable sender, not answered")
            return False
        if mail.automatic:
            if mail.automatic == "bounce" and mail.bounce_for:
                await self._bounced(mail.bounce_for)
            log.info("email: automatic mail (%s), not answered", mail.automatic)
            return False
        if await self.state.count_mail(mail.sender) > self.settings.max_mails_per_address_hour:
            log.warning("email: over %d mails an hour from one address, not answered",
                        self.settings.max_mails_per_address_hour)  # fmt: skip
            return False
        if _UNSUBSCRIBE.match(mail.text) or _UNSUBSCRIBE.match(mail.subject.removeprefix("Re:").strip()):
            await self.state.mark_address(mail.sender, unsubscribed=str(int(time.time())))
            log.info("email: an address unsubscribed")
            return False
        await self.state.mark_address(mail.sender, bounced="", unsubscribed="")  # they write: mail reaches them
        root = thread_root(mail) or f"<no-id-{mail.sender}>"
        thread = await self.state.thread(root) or MailThread(root, mail.sender, mail.sender_name, mail.subject)
        thread.joined(mail.message_id)
        await self.state.save(thread)
        text = mail.text or ("" if mail.attachments else mail.full_text)  # a bare forward: what it forwards
        message = InboundMessage(PLATFORM, root, "private", mail.sender, text, user_name=mail.sender_name,
                                 message_id=mail.message_id, language_hint=mail.language_hint)  # fmt: skip
        if len(thread.origin) == 3 and thread.address == mail.sender:  # a followed user answers: their conversation
            platform, chat, user = thread.origin
            message = replace(message, platform=platform, chat_id=chat, user_id=user)
        return await self._hand_in(message, mail)

    async def _hand_in(self, message: InboundMessage, mail: ReadMail) -> bool:
        """The mail's files (the text as the first one's caption), or its text alone."""
        files = mail.attachments[:MAX_FILES]
        decisions = []
        for index, attached in enumerate(files):
            part = message if index == 0 else replace(message, text="")  # files differ by their digest
            decisions.append(await self.desk.attachment(part, Upload(attached.data, attached.name),
                                                        acknowledge=index == 0))  # fmt: skip
        if not files:
            decisions.append(await self.desk.take(message))
        return any(d is not None and d.secret_kinds for d in decisions)

    async def _bounced(self, address: str) -> None:
        """Mail to `address` bounced: no more is sent there until its owner writes again."""
        known = await self.state.address_state(address)
        await self.state.mark_address(address, bounced="1")
        if known.get("conversation"):
            await self.desk.undeliverable(known["conversation"], PLATFORM)
        log.info("email: a bounce recorded")

    async def deliver(self, reply: OutboundReply, conversation: str, sender: str) -> None:
        """Send one reply from the outbox into the user's thread, an agent's files attached;
        raising leaves it to be sent again (the server is down); a refused recipient is
        recorded, not retried."""
        thread = await self.state.thread(reply.chat_id)
        if thread is None:
            log.warning("email: a reply for a thread no longer kept, not sent")
            return
        known = await self.state.address_state(thread.address)
        if known.get("unsubscribed") or known.get("bounced"):
            log.info("email: a reply not sent (the address %s)",
                     "unsubscribed" if known.get("unsubscribed") else "bounced")  # fmt: skip
            return
        found = _TICKET.search(reply.text)
        thread.ticket = found.group(0) if found and not thread.ticket else thread.ticket
        attachments = tuple(MailAttachment(kept.name, kept.media_type, kept.data)
                            for kept in await outgoing_files(self.desk, PLATFORM, reply.files))  # fmt: skip
        mail = compose_reply(
            sender=self.settings.address, to=thread.address, subject=thread.subject, text=_with_buttons(reply),
            ticket=thread.ticket or None, in_reply_to=thread.last_id, references=tuple(thread.references),
            domain=self.domain, unsubscribe_mailto=f"{self.settings.address}?subject=unsubscribe",
            attachments=attachments)  # fmt: skip
        if not thread.last_id:  # the bot starts this thread (a web chat user followed): its first mail
            mail.replace_header("Message-ID", thread.root)
            mail.replace_header("Subject", thread.subject)
        try:
            await self.mailbox.send(mail)
        except MailRefused:
            await self._bounced(thread.address)
            return
        thread.joined(str(mail["Message-ID"]))
        await self.state.save(thread)
        await self.state.mark_address(thread.address, conversation=conversation)


def _with_buttons(reply: OutboundReply) -> str:
    """The reply's text; its buttons, which mail has none of, listed as what to answer."""
    if not reply.buttons:
        return reply.text
    return reply.text + "\n\n" + "\n".join(f"- {button.label}" for button in reply.buttons)
