"""What a user newly wrote in a mail: the history their client quoted and their signature taken
away, in the forms Gmail, Outlook, Apple Mail and Thunderbird write them (en, es, ru, fr, de,
ja, ko, zh, vi, and pt, it, nl, pl, tr where the form was known).

Two kinds of quoted history:
- an attribution ("On ... wrote:") followed by "> " lines: an inline quote. The attribution and
  the quoted lines go, what the user wrote between or after them stays (bottom-posting).
- the start of a history that is not marked line by line: Outlook's "-----Original Message-----",
  a "From: / Sent: / To: / Subject:" block in any of the languages, an attribution with its
  verb followed by unquoted text (HTML mail read as text). Everything from there on goes.
Then the signature: from a "-- " line, or a "Sent from my iPhone" kind of line, on.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MAX_TEXT_CHARS = 20_000
MAX_ATTRIBUTION_CHARS = 400
ATTRIBUTION_LINES = 3  # Gmail wraps a long "On ... wrote:" over up to three lines

# An attribution ends with the verb each client writes (the line, or lines joined, ends with
# it); a real one also names the date, so one without a digit is not taken as history.
ATTRIBUTION_VERB = re.compile(
    r"(?:\bwrote|\bescribió|\ba écrit|\bschrieb\b.*|\bhat geschrieben|написал\(а\)|написала|написал|пишет"
    r"|\bescreveu|\bha scritto|\bschreef\b.*|napisał\(a\)|napisał|yazdı|写道|寫道|작성|đã viết"
    r"|の(?:メッセージ|メール))\s?[:：]\s*$",
    re.IGNORECASE,
)
# Any line ending in a colon that names a date or an address opens an inline quote when "> "
# lines follow it (Gmail's Russian and Japanese attributions have no verb).
COLON_END = re.compile(r"[:：]\s*$")
ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:original message|ursprüngliche nachricht|mensaje original|message d'origine"
    r"|исходное сообщение|messaggio originale|oorspronkelijk bericht|mensagem original|originalmeddelande"
    r"|wiadomość oryginalna|原始邮件|原始郵件|元のメッセージ|원본 메시지|tin nhắn gốc|thư gốc)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_LABEL = r"^\s*(?:\*\s*)?(?:{})(?:\s*\*)?\s*[:：]"  # (no two "\s*" side by side: they backtrack)
FROM_LABEL = re.compile(
    _LABEL.format("from|de|von|van|da|от|差出人|发件人|寄件者|보낸 사람|từ|od|kimden|expéditeur"), re.IGNORECASE
)
# A quoted header block names its subject, and when it was sent or to whom: a user describing a
# transfer ("From: my wallet / To: ... / Date: ...") names no subject.
SUBJECT_LABEL = re.compile(
    _LABEL.format("subject|asunto|objet|betreff|тема|件名|主题|主旨|제목|chủ đề|oggetto|onderwerp|temat|konu|assunto"),
    re.IGNORECASE,
)
SENT_OR_TO_LABEL = re.compile(
    _LABEL.format(
        "sent|date|to|enviado|fecha|para|envoyé|date d'envoi|à|gesendet|datum|an|отправлено|дата|кому"
        "|送信日時|日付|宛先|发送时间|日期|收件人|寄件日期|보낸 날짜|받는 사람|đã gửi|ngày|đến|data|inviato|a"
        "|verzonden|aan|wysłano|do|tarih|kime"
    ),
    re.IGNORECASE,
)
SIGNATURE_DELIMITER = re.compile(r"^--\s?$")
# The lines mail apps add under what the user wrote, matched as whole lines naming a device or an
# app: "Sent from my wallet to yours" is the user's, "Sent from my iPhone" is not.
_DEVICE = (r"(?:i ?phone|ipad|ipod|android|samsung|galaxy|blackberry|huawei|xiaomi|redmi|honor|oneplus|pixel"
           r"|mobile|phone|smartphone|tablet|móvil|movil|teléfono|celular|телефона?|смартфона|мобильного"
           r"|téléphone|mobile|handy|telefono|telefoon|surface)(?: [\w.-]+){0,4}")  # fmt: skip
_APP = (r"(?:outlook|yahoo mail|mail for windows|gmail|aol|proton ?mail|mail\.ru|яндекс почты|the mail app)"
        r"(?: (?:for|on|para|pour|für|для) [\w ]{1,30})?")  # fmt: skip
MOBILE_SIGNATURE = re.compile(
    rf"^\s*(?:sent (?:from|via|with) (?:my )?(?:{_DEVICE}|{_APP})|get outlook for (?:ios|android)"
    rf"|enviado desde (?:mi )?(?:{_DEVICE}|{_APP})|enviado do meu {_DEVICE}|obtener outlook para (?:ios|android)"
    rf"|отправлено (?:с|со|из) (?:моего )?(?:{_DEVICE}|{_APP}|мобильной почты.*|iphone)"
    rf"|envoyé (?:de|depuis|à partir de) (?:mon )?(?:{_DEVICE}|{_APP})|télécharger outlook pour (?:ios|android)"
    rf"|von meinem {_DEVICE} gesendet|gesendet (?:von|mit) (?:meinem )?(?:{_DEVICE}|{_APP})"
    rf"|inviato da (?:il mio )?{_DEVICE}|verzonden (?:met|vanaf) (?:mijn )?{_DEVICE}"
    rf"|(?:从|從|发自|發自)我的 ?{_DEVICE}(?: ?发送| ?發送)?|{_DEVICE} ?から送信|(?:나의 )?{_DEVICE}에서 보냄"
    rf"|(?:được )?gửi từ {_DEVICE}(?: của tôi)?)(?:\s*<[^<>]*>)?[.!]?\s*$",
    re.IGNORECASE,
)
SEPARATOR = re.compile(r"^\s*[-_=*~]{3,}\s*$")
QUOTED = re.compile(r"^\s*>")


def new_text(text: str) -> str:
    """The part of a mail's text the user wrote now (see the module's doc); tidied, capped."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = lines[: _history_start(lines)]
    lines = _without_inline_quotes(lines)
    lines = lines[: _signature_start(lines)]
    while lines and (not lines[-1].strip() or SEPARATOR.match(lines[-1])):
        lines.pop()
    return tidy("\n".join(lines))


def tidy(text: str) -> str:
    """Spaces tidied: no trailing ones, no-break spaces as spaces, at most one empty line in a
    row, none at the ends; capped at MAX_TEXT_CHARS."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ").replace("\u200b", "")
    lines = [line.rstrip() for line in text.split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()[:MAX_TEXT_CHARS]


def _is_attribution(joined: str) -> bool:
    return bool(ATTRIBUTION_VERB.search(joined)) and any(char.isdigit() for char in joined)


def _opens_quote(joined: str) -> bool:
    return bool(COLON_END.search(joined)) and any(char.isdigit() or char == "@" for char in joined)


def _attribution_at(lines: list[str], start: int, is_attribution: Callable[[str], bool]) -> int:
    """How many lines (1-3) from `start` form an attribution; 0 if none."""
    for count in range(1, ATTRIBUTION_LINES + 1):
        chunk = lines[start : start + count]
        if len(chunk) < count or (count > 1 and not chunk[-1].strip()) or QUOTED.match(chunk[-1]):
            return 0
        if not chunk[-1].rstrip().endswith((":", "：")):
            continue  # every attribution ends in a colon: most lines are done with here
        joined = " ".join(line.strip() for line in chunk)
        if len(joined) > MAX_ATTRIBUTION_CHARS:
            return 0
        if is_attribution(joined):
            return count
    return 0


def _quote_follows(lines: list[str], after: int) -> bool:
    for line in lines[after : after + 3]:
        if line.strip():
            return bool(QUOTED.match(line))
    return False


def _history_start(lines: list[str]) -> int:
    """Where unmarked quoted history begins (len(lines) if it does not)."""
    for index, line in enumerate(lines):
        if not line.strip() or QUOTED.match(line):
            continue
        if ORIGINAL_MESSAGE.match(line) or _header_block_at(lines, index):
            return index
        count = _attribution_at(lines, index, _is_attribution)
        if count and not _quote_follows(lines, index + count):
            return index
    return len(lines)


def _header_block_at(lines: list[str], index: int) -> bool:
    """A "From:" line with a subject and a date or recipient label in the lines right after it."""
    if not FROM_LABEL.match(lines[index]) or len(lines[index]) > MAX_ATTRIBUTION_CHARS:
        return False
    following = [line for line in lines[index + 1 : index + 8] if line.strip()][:5]
    return any(SUBJECT_LABEL.match(line) for line in following) and any(
        SENT_OR_TO_LABEL.match(line) for line in following)


def _without_inline_quotes(lines: list[str]) -> list[str]:
    """Without "> " lines and the attributions that introduce them."""
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if QUOTED.match(line):
            index += 1
            continue
        quote_near = any(QUOTED.match(near) for near in lines[index + 1 : index + ATTRIBUTION_LINES + 3])
        count = _attribution_at(lines, index, _opens_quote) if quote_near and line.strip() else 0
        if count and _quote_follows(lines, index + count):
            index += count
            continue
        kept.append(line)
        index += 1
    return kept


def _signature_start(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if SIGNATURE_DELIMITER.match(line) or (len(line) <= 100 and MOBILE_SIGNATURE.match(line)):
            return index
    return len(lines)
