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
from bot.domain.required_text import automaton, fold, required

SIGNALS_FILE = ROOT / "data" / "signals.yml"


# The script a language's patterns are written in: they are tried only on a text that has it.
# A text with none of these scripts (Latin letters, digits, emoji only) is tried with the Latin ones.
SCRIPTS = {
    "ru": re.compile(r"[\u0400-\u04ff]"),
    "zh": re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]"),
    "ko": re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"),
}
SCRIPTS["ja"] = SCRIPTS["zh"]  # Japanese and Chinese share Han; kana counts for both
LATIN = re.compile(r"[a-z\u00c0-\u024f\u1e00-\u1eff]", re.IGNORECASE)


class Signals:
    """Compiled patterns per intent and language, every language's list applied to every
    message written in its script (users mix languages, and the patterns do not collide):
    Cyrillic lists to a text with Cyrillic, Latin ones to a text with Latin letters, and so on;
    the `any` lists to every text.
    Trying each of some 250 patterns on every text was a sixth of the pipeline's time; a
    pattern is now tried only on a text holding what every match of it holds (`required_text`),
    which one pass of an Aho-Corasick automaton finds for all of them (0.3 -> ~0.05 ms a text)."""

    def __init__(self, patterns: dict[str, dict[str, list[re.Pattern]]]) -> None:
        self.patterns = patterns
        # Every pattern in file order (the first intent that matches wins): intent, language, pattern.
        self._entries = [(intent, lang, p) for intent, by_lang in patterns.items()
                         for lang, listed in by_lang.items() for p in listed]  # fmt: skip
        self._always: set[int] = set()  # patterns about which nothing is known: tried on every text
        holders: dict[str, set[int]] = {}
        for index, (_, _, pattern) in enumerate(self._entries):
            strings = required(pattern)
            if strings is None:
                self._always.add(index)
            for string in strings or ():
                holders.setdefault(string, set()).add(index)
        self._automaton = automaton({string: frozenset(indexes) for string, indexes in holders.items()})

    @classmethod
    def load(cls, path: Path = SIGNALS_FILE) -> Signals:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls({
            intent: {lang: [re.compile(p, re.IGNORECASE) for p in listed] for lang, listed in (languages or {}).items()}
            for intent, languages in raw.items()
        })  # fmt: skip

    def intent_for(self, text: str) -> Optional[str]:
        """The first intent (in file order: security first) whose pattern matches the text, or
        the text without Latin accents (Vietnamese is often typed without them), or None."""
        scripts = {lang for lang, script in SCRIPTS.items() if script.search(text)}
        latin = bool(LATIN.search(text)) or not scripts
        texts = (text,) if text.isascii() else (text, without_accents(text))
        for index, variant in sorted((i, n) for n, t in enumerate(texts) for i in self._worth_trying(t)):
            intent, lang, pattern = self._entries[index]
            if lang in scripts or lang == "any" or (latin and lang not in SCRIPTS):
                if pattern.search(texts[variant]):
                    return intent
        return None

    def _worth_trying(self, text: str) -> set[int]:
        """The patterns whose required text `text` holds, and those that require nothing."""
        worth = set(self._always)
        if len(self._automaton):
            for _, indexes in self._automaton.iter(fold(text)):
                worth |= indexes
        return worth


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
