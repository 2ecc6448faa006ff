"""Signals that hand a message to a person whatever the NLU ranks first (`data/signals.yml`):
account activity the user did not do, and demands for compensation."""

from __future__ import annotations

import re
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
        """The first intent (in file order: security first) whose pattern matches, or None."""
        for intent, patterns in self.patterns.items():
            if any(p.search(text) for p in patterns):
                return intent
        return None
