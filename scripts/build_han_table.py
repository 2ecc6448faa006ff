"""Build data/language/han.json: how often Japanese and Chinese use each Han character and pair
of characters, from wordfreq's word lists (public frequency data from many sources).

Text written in Han characters alone ("本人確認", "提现没到") names no language by its script;
these counts tell Japanese kanji use from Chinese. wordfreq needs a newer `regex` than Rasa
allows, so it is not a dependency of the bot: run this in a throwaway environment:

    python3 -m venv /tmp/wf && /tmp/wf/bin/pip install wordfreq pyyaml
    /tmp/wf/bin/python scripts/build_han_table.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from wordfreq import get_frequency_dict

OUT = Path(__file__).resolve().parent.parent / "data" / "language" / "han.json"
HAN = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")
KEEP_PAIRS = 12000  # the most frequent pairs per language; the rest fall to the floor


def counts(language: str) -> tuple[dict[str, float], dict[str, float]]:
    chars: dict[str, float] = {}
    pairs: dict[str, float] = {}
    for word, freq in get_frequency_dict(language).items():
        if not HAN.match(word):
            continue
        for ch in word:
            chars[ch] = chars.get(ch, 0.0) + freq
        for a, b in zip(word, word[1:], strict=False):
            pairs[a + b] = pairs.get(a + b, 0.0) + freq
    return chars, pairs


def main() -> None:
    table = {}
    for language in ("ja", "zh"):
        chars, pairs = counts(language)
        total_chars, total_pairs = sum(chars.values()), sum(pairs.values())
        top = sorted(pairs.items(), key=lambda item: -item[1])[:KEEP_PAIRS]
        table[language] = {
            "chars": {c: round(f / total_chars, 9) for c, f in sorted(chars.items()) if f / total_chars >= 1e-9},
            "pairs": {p: round(f / total_pairs, 9) for p, f in sorted(top)},
        }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(table, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{OUT}: {OUT.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
