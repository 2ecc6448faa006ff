"""Reading a mail's headers and texts without trusting them: the parsing policy, decoded text
in a charset the sender may have got wrong, addresses and message ids.

The standard library's `email.policy.default` parses a header when it is read, each time it is
read, and its parser is recursive and in places quadratic: a Content-Type of 50,000 "(" exceeds
Python's recursion limit, and 8 KB of '"' or of parameters take seconds. The feed parser itself
reads Content-Type while it splits the parts, so the guard sits in the policy: `SAFE_POLICY`
keeps at most `MAX_HEADER_CHARS` of each header as received, hands the parser at most
`MAX_PARSED_HEADER_CHARS` (without the characters that nest when there are more of them than a
real header has), remembers what it parsed, and reads a header that still defeats the parser
without those characters, or else as empty (for Content-Type: text/plain, RFC 2045's default).
Our own readers (message ids, the automatic-mail signs) read the raw values.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from email.message import Message
from email.policy import EmailPolicy
from email.utils import getaddresses

MAX_HEADER_CHARS = 64 * 1024
MAX_PARSED_HEADER_CHARS = 2048
MAX_NESTING_CHARS = 100  # more quotes, parentheses or brackets than a real header has: read without them
# Charsets senders name for the superset their software really wrote; decoding by the superset
# loses nothing (Windows writes cp1252 and calls it iso-8859-1, GBK calls itself gb2312).
CHARSET_SUPERSETS = {
    "ascii": "cp1252", "us-ascii": "cp1252", "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "euc-kr": "cp949", "ks_c_5601-1987": "cp949", "big5": "big5hkscs", "tis-620": "cp874",
}  # fmt: skip
# Python codecs that are text codecs but not charsets a mail could honestly name; some are slow
# on long input (punycode) or turn text into escapes.
REFUSED_CODECS = {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined", "mbcs", "oem"}
_NESTING = re.compile(r"[()<>\"\\]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAKS = re.compile(r"[\r\n\t\x0b\x0c\x85\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,500}>")
MAX_REFERENCES = 50


class _SafePolicy(EmailPolicy):
    """`email.policy.default`, with each header kept to a size its parser gets through quickly,
    and a header that still defeats it read as empty instead of raising."""

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        return name[:200], value[:MAX_HEADER_CHARS]

    def header_fetch_parse(self, name: str, value: str):  # noqa: ANN201 (a header object of the name's class)
        if hasattr(value, "name"):
            return value
        return _parsed_header(self, name, _unescape_8bit(value)[:MAX_PARSED_HEADER_CHARS])


@functools.lru_cache(maxsize=256)
def _parsed_header(policy: EmailPolicy, name: str, value: str):  # noqa: ANN202
    """The header object, parsed once for the parts and reads that ask for it again."""
    without_nesting = _NESTING.sub(" ", value)
    nesting = len(value) - len(_NESTING.sub("", value))
    attempts = (value, without_nesting, "") if nesting <= MAX_NESTING_CHARS else (without_nesting, "")
    for attempt in attempts:
        try:
            return EmailPolicy.header_fetch_parse(policy, name, attempt)
        except Exception:  # noqa: BLE001, S112 (the email package's parser raises anything)
            continue
    return EmailPolicy.header_fetch_parse(policy, "X-Unreadable", "")


SAFE_POLICY = _SafePolicy()


def _unescape_8bit(value: str) -> str:
    """Raw 8-bit header bytes (RFC 6532 UTF-8, or a client that never encoded) reach the policy
    as surrogate escapes; read them as UTF-8 so the parser gets text."""
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def clean(text: str, *, one_line: bool = False) -> str:
    """Text fit to hand on: no lone surrogates, no control characters; one line if asked."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    if one_line:
        text = _SPACES.sub(" ", _LINE_BREAKS.sub(" ", text)).strip()
    return _CONTROL.sub("", text)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes as text in the charset the sender named (or its superset); an unknown or refused
    charset is read as UTF-8, which keeps the ASCII. Never raises."""
    name = (charset or "").strip().strip("\"'").lower()
    name = CHARSET_SUPERSETS.get(name, name) or "utf-8"
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError, TypeError):
        codec = "utf-8"
    if codec in REFUSED_CODECS:
        codec = "utf-8"
    try:
        return data.decode(codec, "replace")
    except Exception:  # noqa: BLE001 (a codec's own failure; the bytes still hold ASCII)
        return data.decode("utf-8", "replace")


def raw_header(message: Message, name: str) -> str:
    """A header's value as received (first occurrence, at most MAX_HEADER_CHARS), "" if absent."""
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return _unescape_8bit(str(value))
    return ""


def header_text(message: Message, name: str) -> str:
    """A header decoded (RFC 2047 words read) as one clean line; "" if absent or unreadable."""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001
        return ""
    return "" if value is None else clean(str(value), one_line=True)


def sender_of(message: Message) -> tuple[str, str]:
    """The From address (bare, lower-cased) and display name; ("", "") when none is readable."""
    try:
        header = message.get("From")
        addresses = list(getattr(header, "addresses", ()) or ())
    except Exception:  # noqa: BLE001
        addresses = []
    for address in addresses:
        spec = clean(address.addr_spec or "", one_line=True).lower()
        if _looks_like_address(spec):
            return spec, clean(address.display_name or "", one_line=True)[:200]
    # The structured parser gave up (it does on some real-world From lines): the older reader.
    for name, spec in getaddresses([header_text(message, "From")]):
        spec = clean(spec, one_line=True).lower()
        if _looks_like_address(spec):
            return spec, clean(name, one_line=True)[:200]
    return "", ""


def _looks_like_address(spec: str) -> bool:
    local, at, domain = spec.rpartition("@")
    return bool(at and local and domain) and " " not in spec and len(spec) <= 320


def message_ids(value: str, limit: int = MAX_REFERENCES) -> tuple[str, ...]:
    """The "<...>" ids in a header's value, in order (the last `limit` of them)."""
    found = MESSAGE_ID.findall(value)
    return tuple(clean(found_id, one_line=True) for found_id in found[-limit:])


def first_message_id(value: str) -> str:
    """The first "<...>" id; a bare id some software writes without brackets gets them."""
    ids = message_ids(value, limit=MAX_REFERENCES)
    if ids:
        return ids[0]
    bare = clean(value, one_line=True)
    if bare and "@" in bare and " " not in bare and len(bare) <= 500:
        return f"<{bare.strip('<>')}>"
    return ""


def language_hint(value: str) -> str | None:
    """The primary language of a Content-Language value ("es-ES, en" -> "es"), None if unclear."""
    first = value.split(",")[0].strip().split("-")[0].lower()
    return first if re.fullmatch(r"[a-z]{2,3}", first) else None


def no_format_chars(text: str) -> str:
    """Without format characters (bidi overrides, zero-width ones) that disguise a name."""
    return "".join(char for char in text if unicodedata.category(char) != "Cf")
