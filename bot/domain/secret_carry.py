"""Secrets pasted in pieces: a seed phrase split over two messages (6 + 6 words), a hex key
split 32 + 32 digits. Neither half is a secret the guard can see alone.

What is kept between two messages is a `CarryMark`, and nothing in it is secret: which
wordlist (or hex), how many words or digits the last message ended with, over how many of
the latest transcript lines. The words themselves are never kept: when the next message
begins with the rest, it is redacted before it is stored, and the earlier lines are redacted
where they are stored (`redact_earlier`).

A half is only ever joined to the message right before it, and only at the seam: the first
message must end with the words, the next begin with them. Pure: nothing here stores or logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from bot.domain import secret_guard
from bot.domain.secret_guard import MNEMONIC, PRIVATE_KEY, marker

HEX = "hex"  # the alphabet of a hex key's halves; the others are BIP-39 wordlists' names
MAX_MNEMONIC_WORDS = 24
MIN_PART_WORDS = 4  # shorter runs end ordinary messages too often ("real person please", "good morning team")
MIN_PART_HEX = 16
_SEAM_CHARS = 600  # 23 words of a wordlist (8 letters at most) with numbering fit in this
_END = re.compile(r"[\s.,!?;:)\]。！？]*")


@dataclass(frozen=True)
class CarryMark:
    """What the last message of a conversation ended with: `units` words of the wordlist
    `alphabet` (or hex digits), spread over its latest `lines` user lines. `redacted`: they
    were redacted already (a phrase still arriving after 12 words). `tx`, `key`: the messages
    spoke of a transaction, of a private key (a TXID in halves is no key)."""

    alphabet: str
    units: int
    lines: int = 1
    redacted: bool = False
    tx: bool = False
    key: bool = False

    @property
    def kind(self) -> str:
        return PRIVATE_KEY if self.alphabet == HEX else MNEMONIC

    def encode(self) -> str:
        return f"{self.alphabet} {self.units} {self.lines} {int(self.redacted)}{int(self.tx)}{int(self.key)}"

    @classmethod
    def decode(cls, raw: Optional[str]) -> Optional[CarryMark]:
        try:
            alphabet, units, lines, flags = (raw or "").split(" ")
            return cls(alphabet, int(units), int(lines), *(flag == "1" for flag in flags))
        except ValueError:
            return None


@dataclass(frozen=True)
class Fragment:
    """A run of words of one alphabet at one end of a text: its span, how many units it holds,
    and whether it is the whole text (bar numbering, spaces and punctuation)."""

    start: int
    end: int
    units: int
    whole: bool


def encode_marks(marks: tuple[CarryMark, ...]) -> str:
    return ";".join(mark.encode() for mark in marks)


def decode_marks(raw: Optional[str]) -> tuple[CarryMark, ...]:
    return tuple(mark for mark in map(CarryMark.decode, (raw or "").split(";")) if mark is not None)


@dataclass(frozen=True)
class CarryStep:
    """The outcome for one message: its text with a joined half redacted, the earlier lines
    to redact (`rewrite`, None when nothing was joined or they were redacted already) and
    what to keep for the next message."""

    text: str
    joined: bool
    rewrite: Optional[CarryMark]
    next_marks: tuple[CarryMark, ...]
    lead: str = ""  # the joined half of this message (in memory only): see `repeats`


def follow(previous: tuple[CarryMark, ...], original: str, redacted: str) -> CarryStep:
    """Join the start of this message (`redacted`: the guard's output for `original`) to what
    the last one ended with, and say what this one ends with."""
    for mark in previous:
        step = _continued(mark, redacted)
        if step is not None:
            return step
    return CarryStep(redacted, False, None, endings(original, redacted))


def _continued(previous: CarryMark, redacted: str) -> Optional[CarryStep]:
    """This message begins with the rest of `previous`'s half (joined: both redacted), or is
    one more piece of it (a phrase pasted a few words a message)."""
    lead = fragment(redacted, previous.alphabet, at_end=False)
    tx, key = _flags(previous, redacted)
    if lead is None or lead.units < _min_part(previous.alphabet) or (tx and not key):
        return None  # a TXID in halves is no key
    total = previous.units + lead.units
    going_on = lead.whole and total < _max_units(previous.alphabet)
    if _completes(previous.alphabet, total):
        text = redacted[: lead.start] + marker(previous.kind) + redacted[lead.end :]
        next_marks = (CarryMark(previous.alphabet, total, 1, True, tx, key),) if going_on else ()
        lead_text = redacted[lead.start : lead.end]
        return CarryStep(text, True, None if previous.redacted else previous, next_marks, lead_text)
    if going_on:
        chained = CarryMark(previous.alphabet, total, previous.lines + 1, previous.redacted, tx, key)
        return CarryStep(redacted, False, None, (chained,))
    return None


def endings(original: str, redacted: str) -> tuple[CarryMark, ...]:
    """What a message ends with that may be the first half of a secret: for each wordlist
    (and hex) its longest run at the end. Read on the original text, so that a phrase the
    guard redacted whole (12 words, then 6 more) still counts, as redacted."""
    words = seam_words(original, at_end=True)
    found = {alphabet: fragment(original, alphabet, at_end=True, words=words)
             for alphabet in (*secret_guard.wordlists(), HEX)}  # fmt: skip
    units = {alphabet: f.units for alphabet, f in found.items()
             if f is not None and _min_part(alphabet) <= f.units < _max_units(alphabet)}  # fmt: skip
    if not units:
        return ()
    tail_redacted = redacted.rstrip().endswith((marker(MNEMONIC), marker(PRIVATE_KEY)))
    tx, key = secret_guard.mentions_a_transaction(redacted), secret_guard.names_a_private_key(redacted)
    marks = [CarryMark(alphabet, count, 1, tail_redacted, tx, key) for alphabet, count in units.items()]
    return tuple(sorted(marks, key=lambda mark: -mark.units))


def redact_earlier(texts: list[str], mark: CarryMark) -> Optional[list[str]]:
    """The latest user lines (oldest first) with the half that `mark` describes redacted, or
    None when they do not hold it (a line the bot never stored, a stale mark)."""
    if len(texts) != mark.lines:
        return None
    parts = [fragment(text, mark.alphabet, at_end=True) for text in texts]
    if any(p is None for p in parts) or not all(p.whole for p in parts[1:]):
        return None
    if sum(p.units for p in parts) != mark.units:
        return None
    return [text[: p.start] + marker(mark.kind) + text[p.end :] for text, p in zip(texts, parts, strict=True)]


def repeats(texts: list[str], mark: CarryMark, lead: str) -> bool:
    """Whether the newest of the earlier lines ends with the very words this message begins
    with: a user sending "can two people share one account" twice wrote no seed phrase (a
    phrase's halves are never the same)."""
    if not texts:
        return False
    earlier = fragment(texts[-1], mark.alphabet, at_end=True)
    if earlier is None:
        return False
    return _normal(texts[-1][earlier.start : earlier.end], mark.alphabet) == _normal(lead, mark.alphabet)


def _normal(text: str, alphabet: str) -> str:
    if alphabet == HEX:
        return re.sub(r"[^0-9a-f]", "", text.lower().removeprefix("0x"))
    return " ".join(word for _, _, word in secret_guard.word_spans(text))


def fragment(text: str, alphabet: str, at_end: bool,
             words: Optional[list[secret_guard.WordSpan]] = None) -> Optional[Fragment]:  # fmt: skip
    """The run of `alphabet` that ends (`at_end`) or begins `text` (`words`: its word spans,
    when the caller has them)."""
    if alphabet == HEX:
        return _hex_fragment(text, at_end)
    wordlist = secret_guard.wordlists().get(alphabet)
    if wordlist is None:
        return None
    words = seam_words(text, at_end) if words is None else words
    run: list[int] = []  # walked from the seam inwards: most messages stop at the first word
    for i in reversed(range(len(words))) if at_end else range(len(words)):
        if words[i][2] not in wordlist:
            break
        if run and not secret_guard.is_word_gap(text[words[min(i, run[-1])][1] : words[max(i, run[-1])][0]]):
            break
        run.append(i)
    if not run:
        return None
    first, last = min(run), max(run)
    spaced = all(words[i][1] != words[i + 1][0] for i in range(first, last))
    if alphabet in secret_guard.HAN_WORDLISTS and not spaced:
        return None  # unspaced Han characters are ordinary Chinese
    return _at_seam(text, words[first][0], words[last][1], last - first + 1, at_end)


def seam_words(text: str, at_end: bool) -> list[secret_guard.WordSpan]:
    """The word spans of the end (or start) of `text` alone: a half is at most 23 words, and
    folding every word of a long message for them would cost more than the guard's scan."""
    if len(text) <= _SEAM_CHARS:
        return secret_guard.word_spans(text)
    offset = len(text) - _SEAM_CHARS if at_end else 0
    window = text[offset:] if at_end else text[:_SEAM_CHARS]
    return [(start + offset, end + offset, word) for start, end, word in secret_guard.word_spans(window)]


def _hex_fragment(text: str, at_end: bool) -> Optional[Fragment]:
    runs = secret_guard.hex_group_runs(text)
    if not runs:
        return None
    # The groups of one size at the seam: "… is f5b16522 4a58b791", not the "be" before them.
    ordered = runs[-1][::-1] if at_end else runs[0]
    size = ordered[0][2]
    count = next((i for i, group in enumerate(ordered) if group[2] != size), len(ordered))
    start, end = min(g[0] for g in ordered[:count]), max(g[1] for g in ordered[:count])
    if not secret_guard.hex_mixes_digits_and_letters(text[start:end]):
        return None
    return _at_seam(text, start, end, size * count, at_end)


def _at_seam(text: str, start: int, end: int, units: int, at_end: bool) -> Optional[Fragment]:
    before, after = text[:start], text[end:]
    if at_end and not _END.fullmatch(after):
        return None
    if not at_end and not secret_guard.is_word_gap(before):
        return None
    whole = secret_guard.is_word_gap(before) and _END.fullmatch(after) is not None
    return Fragment(start, end, units, whole)


def _flags(previous: CarryMark, text: str) -> tuple[bool, bool]:
    if previous.alphabet != HEX:
        return False, False
    tx = previous.tx or secret_guard.mentions_a_transaction(text)
    return tx, previous.key or secret_guard.names_a_private_key(text)


def _min_part(alphabet: str) -> int:
    return MIN_PART_HEX if alphabet == HEX else MIN_PART_WORDS


def _max_units(alphabet: str) -> int:
    return secret_guard.KEY_HEX_DIGITS if alphabet == HEX else MAX_MNEMONIC_WORDS


def _completes(alphabet: str, total: int) -> bool:
    if alphabet == HEX:
        return total == secret_guard.KEY_HEX_DIGITS
    return secret_guard.MIN_MNEMONIC_WORDS <= total <= MAX_MNEMONIC_WORDS
