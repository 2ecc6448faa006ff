"""Characters that change how text looks without being seen: control characters (Unicode
category Cc: NUL, ESC, BEL ...) and the bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE
and its kin), which can make "exe.txt" read "txt.exe" on an agent's screen or in a log.

What staff type into the bot's own records (an agent's languages, an incident's status) is
refused when it holds one: users' messages are not (they are redacted, not judged, here).
"""

from __future__ import annotations

import unicodedata

# U+061C ARABIC LETTER MARK, U+200E/F LRM/RLM, U+202A-E embeddings and overrides, U+2066-9 isolates.
BIDI_CONTROLS = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})


def hidden_characters(text: str, allowed: str = "") -> list[str]:
    """The control and bidi characters in `text` (except those in `allowed`), each as
    "U+202E RIGHT-TO-LEFT OVERRIDE", once each, in order of appearance."""
    found: dict[str, None] = {}
    for char in text:
        if char in allowed:
            continue
        if unicodedata.category(char) == "Cc" or ord(char) in BIDI_CONTROLS:
            found[f"U+{ord(char):04X} {unicodedata.name(char, 'control character')}".strip()] = None
    return list(found)


def refuse_hidden_characters(text: str, what: str, allowed: str = "") -> None:
    """Raise ValueError naming what `text` (described as `what`) hides, if anything."""
    hidden = hidden_characters(text, allowed)
    if hidden:
        raise ValueError(f"{what} contains invisible control characters ({', '.join(hidden[:3])}): remove them")
