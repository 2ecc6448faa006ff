"""Signals that hand a message to a person whatever the NLU ranks first (`data/signals.yml`):
account activity the user did not do, and demands for compensation."""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from typing import Optional

import yaml

from bot.config import ROOT

SIGNALS_FILE = ROOT / "data" / "signals.yml"


class Signals:
    """Compiled patterns per intent, every language's list applied to every message (users
    mix languages, and the patterns do not collide)."""

    def __init__(self, patterns: dict[str, list[re.Pattern]]) -> None:
        self.patterns = patterns

    @classmethod
    def load(cls, path: Path = SIGNALS_FILE) -> Signals:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls({
            intent: [re.compile(p, re.IGNORECASE) for by_lang in (languages or {}).values() for p in by_lang]
            for intent, languages in raw.items()
        })  # fmt: skip

    def intent_for(self, text: str) -> Optional[str]:
        """The first intent (in file order: security first) whose pattern matches the text, or
        the text without Latin accents (Vietnamese is often typed without them), or None."""
        texts = {text, without_accents(text)}
        for intent, patterns in self.patterns.items():
            if any(p.search(t) for p in patterns for t in texts):
                return intent
        return None


def without_accents(text: str) -> str:
    """Latin letters without their accents ("tài khoản bị rút" -> "tai khoan bi rut"); Cyrillic,
    Hangul, kana and Han stay as they are."""
    if text.isascii():
        return text
    return "".join(_latin_base(ch) if ch > "\x7f" else ch for ch in text)


@functools.lru_cache(maxsize=4096)
def _latin_base(ch: str) -> str:
    if ch in "đĐ":
        return "d" if ch == "đ" else "D"
    if not unicodedata.name(ch, "").startswith("LATIN"):
        return ch
    return "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
