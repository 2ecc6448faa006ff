"""Impostor names: a new member of a group or server whose name imitates the exchange's
support or admins, homoglyphs and spacing tricks included ("ЕxampIeX  Suppоrt", "examp1ex_help").

Names are folded to a skeleton before they are compared: compatibility forms and accents
removed, look-alike letters and digits mapped to one letter (Cyrillic "о" and zero to "o",
"I", "l" and one to "l"), everything but letters and digits dropped. A name imitates when its
skeleton contains a protected name's, comes within one edit of it, or names the exchange
together with a word staff use ("support", "admin", "official"...), or is the exchange's own
name give or take one letter.
"""

from __future__ import annotations

import unicodedata
from typing import Optional

# Look-alikes folded to one Latin letter (after lower-casing and NFKD).
_LOOKALIKE = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "к": "k", "м": "m", "т": "t",
    "в": "b", "н": "h", "і": "l", "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "ɡ": "g", "ʏ": "y",
    "α": "a", "ε": "e", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "ν": "v", "κ": "k", "ι": "l", "χ": "x",
    "0": "o", "1": "l", "i": "l", "!": "l", "|": "l", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s",
    "7": "t", "8": "b", "9": "g",
})  # fmt: skip
STAFF_WORDS = ("support", "admin", "help", "official", "team", "moderator", "service", "care", "staff", "desk",
               "security", "verify")  # fmt: skip


def skeleton(name: str) -> str:
    """`name` reduced to what it looks like."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(_LOOKALIKE)
    text = "".join(c for c in text if c.isascii() and c.isalnum())
    return text.replace("rn", "m").replace("vv", "w")


def _within_one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


class ImpostorCheck:
    """Knows the protected names (the exchange's support accounts, its admins)."""

    def __init__(self, exchange: str, protected: tuple[str, ...] = ()) -> None:
        self.exchange = skeleton(exchange)
        self.protected = {skeleton(name): name for name in (f"{exchange} support", f"{exchange} admin", *protected)
                          if skeleton(name)}  # fmt: skip
        self.staff = [skeleton(word) for word in STAFF_WORDS]

    def imitates(self, name: str) -> Optional[str]:
        """The protected name that `name` imitates, or None."""
        folded = skeleton(name)
        if len(folded) < 3:
            return None
        for protected, original in self.protected.items():
            if protected in folded or _within_one_edit(folded, protected):
                return original
        if self.exchange and _within_one_edit(folded, self.exchange):  # the official account's own name
            return self.exchange
        if self.exchange and self.exchange in folded and any(word in folded for word in self.staff):
            return f"{self.exchange} staff"
        return None
