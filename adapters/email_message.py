"""A support mail as the bot needs it (issue 20): raw RFC 5322 bytes in, a `ReadMail` out.

Pure: no mailbox, no network. `read_mail` never raises, whatever the bytes: the parts are read
with `email.policy.default` behind the guards of `email_headers.SAFE_POLICY`, a text in a
charset the sender got wrong is read with replacements, and the work is bounded (the mail's
size, each header's, the parts walked and how deep). What the user wrote is taken from the
text/plain parts, or the HTML ones read as text when there is none, without the quoted history
and signature (`email_quotes.new_text`); `full_text` keeps the whole text for a caller that
finds nothing new in a reply (a forward with no word of the user's).
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser

from adapters.email_automatic import automatic_reason, delivery_report_text
from adapters.email_headers import (
    SAFE_POLICY,
    clean,
    decode_bytes,
    first_message_id,
    header_text,
    language_hint,
    message_ids,
    no_format_chars,
    raw_header,
    sender_of,
)  # fmt: skip
from adapters.email_html import html_to_text
from adapters.email_quotes import MAX_TEXT_CHARS, new_text, tidy

MAX_MAIL_BYTES = 40 * 1024 * 1024  # beyond this a mail is read as cut there
MAX_LINES = 1_000_000  # a 40 MB attachment in base64 has 550,000
MAX_PARTS = 200
MAX_BOUNDARY_LINES = 5 * MAX_PARTS  # "--" lines: part boundaries, and signatures
MAX_HEADER_LINES = 1000  # of one header block (a real mail's top block has a few hundred at most)
MAX_HEADER_BLOCK_BYTES = 512 * 1024
MAX_DEPTH = 128  # a mail nested 100 deep is still read whole
MAX_ATTACHMENTS = 10
MAX_SUBJECT_CHARS = 300
MAX_NAME_CHARS = 100
MAX_PART_TEXT_CHARS = 200_000  # of one text part, before the quotes are taken away
MAX_HTML_CHARS = 300_000  # of markup read as text, in all (html.parser reads well under 1 MB a second)
TICKET_IN_SUBJECT = re.compile(r"\[#(T-\d{1,12})\]")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")


@dataclass(frozen=True)
class MailAttachment:
    """A file that came with a mail (or goes with the bot's)."""

    name: str  # the filename the sender gave: no path, no control characters, <= 100 characters
    declared_type: str  # the Content-Type the sender declared: for display only, never trusted
    data: bytes


@dataclass(frozen=True)
class ReadMail:
    """What the bot reads of one mail (the fields' limits are in the module's constants)."""

    sender: str  # bare lower-cased From address, "" if none readable
    sender_name: str  # From's display name, "" if none
    subject: str  # decoded, one line, stripped, <= 300 characters
    message_id: str  # "<...>", "" if missing
    in_reply_to: str  # "<...>" or ""
    references: tuple[str, ...]  # the ids in References, in order
    text: str  # what the user newly wrote: no quoted history, no signature; <= 20,000 characters
    attachments: tuple[MailAttachment, ...]  # at most 10
    automatic: str  # "" for a person's mail, else why it is automatic (email_automatic)
    bounce_for: str  # for a bounce, the address that could not be reached, if it says
    language_hint: str | None  # Content-Language's language ("es"), None without one
    full_text: str = ""  # the whole text, quotes and signature included; <= 20,000 characters
    defects: int = field(default=0, compare=False)  # how many defects the parser noted


@dataclass
class _Parts:
    """What the walk over a mail's parts collects."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    attachments: list[MailAttachment] = field(default_factory=list)
    defects: int = 0


def read_mail(raw: bytes) -> ReadMail:
    """Read one mail; never raises (see the module's doc)."""
    message = _parse(_bounded(bytes(raw)))
    parts = _walk(message)
    sender, sender_name = sender_of(message)
    written = _written(parts)
    automatic, bounce_for = automatic_reason(message, sender, [*parts.plain, *parts.html, *parts.reports])
    return ReadMail(
        sender=sender,
        sender_name=sender_name,
        subject=header_text(message, "Subject")[:MAX_SUBJECT_CHARS].strip(),
        message_id=first_message_id(raw_header(message, "Message-ID")),
        in_reply_to=first_message_id(raw_header(message, "In-Reply-To")),
        references=message_ids(raw_header(message, "References")),
        text=clean(new_text(written)),
        attachments=tuple(parts.attachments),
        automatic=automatic,
        bounce_for=bounce_for,
        language_hint=language_hint(raw_header(message, "Content-Language")),
        full_text=clean(tidy(written)),
        defects=parts.defects,
    )


def _written(parts: _Parts) -> str:
    """The mail's text: its plain parts, else its HTML ones read as text (at most
    MAX_HTML_CHARS of markup in all); at most MAX_PART_TEXT_CHARS, the start (replies are
    top-posted)."""
    if parts.plain:
        return "\n\n".join(parts.plain)[:MAX_PART_TEXT_CHARS]
    markup, budget = [], MAX_HTML_CHARS
    for html in parts.html:
        markup.append(html[:budget])
        budget -= len(markup[-1])
        if budget <= 0:
            break
    return "\n\n".join(map(html_to_text, markup))[:MAX_PART_TEXT_CHARS]


def ticket_in_subject(subject: str) -> str | None:
    """The ticket the bot put in a subject ("Re: [#T-1234] Deposit" -> "T-1234"), None if none."""
    found = TICKET_IN_SUBJECT.search(subject or "")
    return found.group(1) if found else None


def _bounded(raw: bytes) -> bytes:
    """The mail cut where the parser's work would stop being bounded (it reads line by line):
    at MAX_MAIL_BYTES or MAX_LINES, before the line that could start part number
    MAX_BOUNDARY_LINES (the parser makes an object of every part before we walk any), and each
    header block (at the start, after a "--" line) kept to MAX_HEADER_LINES lines and
    MAX_HEADER_BLOCK_BYTES (its other lines dropped)."""
    raw = raw[:MAX_MAIL_BYTES]
    if raw.count(b"\n") > MAX_LINES:
        raw = raw[: len(raw) - len(raw.split(b"\n", MAX_LINES)[-1])]
    starts, position = [0], -1
    while len(starts) <= MAX_BOUNDARY_LINES:
        position = raw.find(b"\n--", position + 1)
        if position < 0:
            break
        starts.append(position + 1)
    else:
        raw = raw[: starts.pop()]
    pieces, kept_to, last_blank, block_end = [], 0, _last_blank_line(raw), 0
    for start in starts:
        if start < kept_to:
            continue
        block_end = block_end if start < block_end else _blank_line(raw, start, last_blank)
        if block_end - start > MAX_HEADER_BLOCK_BYTES or raw.count(b"\n", start, block_end) > MAX_HEADER_LINES:
            cut = raw[start : min(block_end, start + MAX_HEADER_BLOCK_BYTES)]
            cut = b"\n".join(cut.split(b"\n", MAX_HEADER_LINES)[:MAX_HEADER_LINES])
            pieces += [raw[kept_to:start], cut]
            kept_to = block_end
    return b"".join([*pieces, raw[kept_to:]]) if pieces else raw


def _last_blank_line(raw: bytes) -> int:
    return max(raw.rfind(b"\n\n"), raw.rfind(b"\n\r\n"))


def _blank_line(raw: bytes, start: int, last_blank: int) -> int:
    """Where the header block from `start` ends: its blank line, or the end of the mail (found
    without searching past the last blank line, so that a thousand blocks cost no more)."""
    found = _BLANK_LINE.search(raw, start, last_blank + 3) if start <= last_blank else None
    return found.start() if found else len(raw)


def _parse(raw: bytes) -> Message:
    """The parsed mail; if the parts defeat the parser, the headers with the rest as one text."""
    try:
        return BytesParser(policy=SAFE_POLICY).parsebytes(raw)
    except Exception:  # noqa: BLE001 (RecursionError on absurd nesting, and whatever else the parser hits)
        pass
    try:
        message = BytesParser(policy=SAFE_POLICY).parsebytes(raw, headersonly=True)
        for name in ("Content-Type", "Content-Transfer-Encoding"):
            del message[name]
        return message
    except Exception:  # noqa: BLE001
        return Message(policy=SAFE_POLICY)


def _walk(message: Message) -> _Parts:
    """Visit the parts depth first, within MAX_PARTS and MAX_DEPTH, sorting each leaf into text,
    HTML, delivery report or attachment."""
    parts = _Parts()
    stack: list[tuple[Message, int]] = [(message, 0)]
    visited = 0
    while stack and visited < MAX_PARTS:
        part, depth = stack.pop()
        visited += 1
        parts.defects += len(getattr(part, "defects", ()))
        content_type = _content_type(part)
        if content_type == "message/delivery-status":
            parts.reports.append(delivery_report_text(part))
        elif content_type == "message/rfc822" or not part.is_multipart():
            _read_leaf(part, content_type, parts)
        elif depth < MAX_DEPTH:
            children = part.get_payload()
            children = children if isinstance(children, list) else []
            stack.extend((child, depth + 1) for child in reversed(children[:MAX_PARTS]) if isinstance(child, Message))
    return parts


def _read_leaf(part: Message, content_type: str, parts: _Parts) -> None:
    """A file (a name, "attachment", or not text: inline images included) or one of the texts."""
    filename = _filename(part)
    if filename or _disposition(part) == "attachment" or not content_type.startswith("text/"):
        if len(parts.attachments) < MAX_ATTACHMENTS:
            declared_type = clean(content_type, one_line=True)[:100]
            parts.attachments.append(MailAttachment(_safe_name(filename, declared_type), declared_type, _bytes(part)))
    elif content_type == "text/html":
        parts.html.append(_text(part))
    elif content_type == "text/rfc822-headers":
        parts.reports.append(_text(part))
    else:
        parts.plain.append(_text(part))


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:  # noqa: BLE001
        return "text/plain"


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:  # noqa: BLE001
        return ""


def _filename(part: Message) -> str:
    try:
        return str(part.get_filename() or part.get_param("name", "") or "")
    except Exception:  # noqa: BLE001
        return ""


def _bytes(part: Message) -> bytes:
    """A part's content as sent (transfer encoding undone; a broken one as far as it decodes)."""
    try:
        if part.is_multipart():  # message/rfc822: the enclosed mail as it was
            inner = part.get_payload()
            return b"".join(child.as_bytes(policy=SAFE_POLICY.clone(linesep="\r\n")) for child in inner)
        data = part.get_payload(decode=True)
        return data if isinstance(data, bytes) else b""
    except Exception:  # noqa: BLE001
        return b""


def _text(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        charset = None
    data = _bytes(part)[: MAX_PART_TEXT_CHARS * 4]
    return decode_bytes(data, charset)[:MAX_PART_TEXT_CHARS]


def _safe_name(filename: str, content_type: str) -> str:
    """The sender's filename without its path, control and format characters or leading dots,
    at most MAX_NAME_CHARS (the extension kept); "attachment.<ext>" when nothing is left."""
    name = no_format_chars(clean(filename, one_line=True)).replace("\\", "/").rsplit("/", 1)[-1]
    name = name.strip().lstrip(". ").strip()
    if not name:
        extension = mimetypes.guess_extension(content_type) if _MEDIA_TYPE.fullmatch(content_type) else None
        return f"attachment{extension or ''}"
    if len(name) > MAX_NAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            return f"{stem[: MAX_NAME_CHARS - len(extension) - 1]}.{extension}"
        return name[:MAX_NAME_CHARS]
    return name


__all__ = ["MAX_TEXT_CHARS", "MailAttachment", "ReadMail", "read_mail", "ticket_in_subject"]
