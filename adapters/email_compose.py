"""The bot's mail (issue 20): a reply that threads in the user's client, carries the ticket in
its subject, tells other robots not to answer it, and can be unsubscribed from.

Threading: In-Reply-To is the user's Message-ID and References the thread's ids followed by it
(RFC 5322 3.6.4), which is what Gmail, Outlook and Apple Mail group by; Gmail also wants the
subject to stay the same, hence one "Re: " and the ticket added once. `Auto-Submitted:
auto-replied` (RFC 3834) keeps out-of-office replies and other bots from answering. Every given
value loses its CR and LF before it becomes a header, so a value cannot add a header of its own
("x\\r\\nBcc: a@b").
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr, make_msgid

from adapters.email_headers import MESSAGE_ID, clean
from adapters.email_message import MailAttachment, ticket_in_subject

MAX_REFERENCES = 20
MAX_SUBJECT_CHARS = 300
# Reply prefixes clients write (Re, Aw, Sv, Antw, Odp, Ответ, 回复, 답장, ...), any number of them.
REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|vs|antw|antwort|odp|ynt|res|rif|r|ответ|回复|回覆|答复|답장|trả lời)"
                          r"\s*(?:\[\d+\]\s*)?[:：]\s*)+", re.IGNORECASE)  # fmt: skip
_MEDIA_TYPE = re.compile(r"([a-z0-9][a-z0-9!#$&^_.+-]{0,63})/([a-z0-9][a-z0-9!#$&^_.+-]{0,63})")
_DOMAIN = re.compile(r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,20}")
UNSUBSCRIBE_LINE = "To stop these e-mails: {link}"


def compose_reply(*, sender: str, to: str, subject: str, text: str, ticket: str | None,
                  in_reply_to: str = "", references: tuple[str, ...] = (), domain: str,
                  unsubscribe_url: str | None = None, unsubscribe_mailto: str | None = None,
                  attachments: tuple[MailAttachment, ...] = (),
                  unsubscribe_line: str = UNSUBSCRIBE_LINE) -> EmailMessage:  # fmt: skip
    """The bot's reply to `to`, threaded after `in_reply_to` (see the module's doc).

    `unsubscribe_line` is the body's last line when an unsubscribe link is given, "{link}"
    standing for it (the caller passes it in the user's language). ValueError when `sender` or
    `to` is not one mail address, or `domain` not a domain name."""
    message = EmailMessage(policy=default_policy)
    message["From"] = _mailbox(sender)
    message["To"] = _mailbox(to)
    message["Subject"] = reply_subject(subject, ticket)
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = make_msgid(domain=_domain(domain))
    parent = _message_id(in_reply_to)
    thread = [found for found in map(_message_id, references) if found]
    if parent:
        message["In-Reply-To"] = parent
        if not thread or thread[-1] != parent:
            thread.append(parent)
    if thread:
        message["References"] = " ".join(thread[-MAX_REFERENCES:])
    message["Auto-Submitted"] = "auto-replied"
    links = _unsubscribe_links(unsubscribe_url, unsubscribe_mailto)
    if links:
        message["List-Unsubscribe"] = ", ".join(f"<{link}>" for link in links)
        if any(link.startswith("https://") for link in links):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    body = clean(text.replace("\r\n", "\n").replace("\r", "\n")).rstrip()
    if links:
        shown = links[-1].removeprefix("mailto:")  # the web page when there is one
        body += "\n\n-- \n" + clean(unsubscribe_line, one_line=True).replace("{link}", shown)
    message.set_content(body + "\n", charset="utf-8")
    for attachment in attachments:
        maintype, subtype = _media_type(attachment.declared_type)
        message.add_attachment(bytes(attachment.data), maintype=maintype, subtype=subtype,
                               filename=_one_line(attachment.name)[:100] or "attachment")  # fmt: skip
    return message


def reply_subject(subject: str, ticket: str | None) -> str:
    """The reply's subject: "Re: " once, then "[#<ticket>] " unless the subject names that ticket."""
    original = REPLY_PREFIX.sub("", _one_line(subject)).strip()
    ticket = _one_line(ticket or "")
    if ticket and ticket_in_subject(original) != ticket and f"[#{ticket}]" not in original:
        original = f"[#{ticket}] {original}".strip()
    return f"Re: {original}".strip()[:MAX_SUBJECT_CHARS]


def _one_line(value: str) -> str:
    """A header value without CR, LF (each a space) or any other control character: no header
    injection."""
    return clean(str(value or "").replace("\r", " ").replace("\n", " "), one_line=True)


def _mailbox(value: str) -> str:
    """The one mailbox a From or To value names ("Name <address>"), read up to its first line
    break (what follows one is what an injection would add). ValueError if it names no mailbox,
    several, or a group: a reply goes to one person."""
    first_line = (str(value or "").splitlines() or [""])[0]
    try:
        header = default_policy.header_factory("To", clean(first_line, one_line=True))
        groups = header.groups
    except Exception as error:  # noqa: BLE001 (the address parser's own failures)
        raise ValueError(f"not a mail address: {first_line[:80]!r}") from error
    if len(groups) != 1 or groups[0].display_name is not None or len(groups[0].addresses) != 1:
        raise ValueError(f"not one mail address: {first_line[:80]!r}")
    address = groups[0].addresses[0]
    if not address.username or not address.domain:
        raise ValueError(f"not a mail address: {first_line[:80]!r}")
    return formataddr((address.display_name, address.addr_spec))


def _domain(value: str) -> str:
    """The domain of our Message-IDs, read up to its first line break; ValueError if not one."""
    domain = (str(value or "").splitlines() or [""])[0].strip()
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"not a domain: {domain[:80]!r}")
    return domain


def _message_id(value: str) -> str:
    found = MESSAGE_ID.search(_one_line(value))
    return found.group(0) if found else ""


def _unsubscribe_links(url: str | None, mailto: str | None) -> list[str]:
    """The List-Unsubscribe links (RFC 2369): mailto first, then the https one (RFC 8058)."""
    links = []
    if mailto:
        address = _one_line(mailto).removeprefix("mailto:").replace("<", "").replace(">", "").replace(",", "")
        if address:
            links.append(f"mailto:{address}")
    if url:
        link = _one_line(url).replace("<", "").replace(">", "").replace(",", "%2C").replace(" ", "%20")
        if link.startswith(("https://", "http://")):
            links.append(link)
    return links


def _media_type(declared: str) -> tuple[str, str]:
    found = _MEDIA_TYPE.fullmatch(_one_line(declared).lower())
    return (found.group(1), found.group(2)) if found else ("application", "octet-stream")
