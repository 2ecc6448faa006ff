"""The help center: articles under `data/helpcenter/<language>/<slug>.md` (a `# Title` line,
then Markdown), and a search that works for CJK and Latin text alike.

Text becomes terms the same way for articles and queries: words of alphabetic scripts (with
a five-letter prefix, so "withdrawal" meets "withdrawals" and "verify" meets "verification"),
and overlapping character pairs inside runs of Chinese, Japanese or Korean, which have no
spaces to split on. Articles are ranked by BM25, with the title counted three times.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.config import ROOT, read_yaml
from bot.nlu.model import NLU_DATA_DIR

HELPCENTER_DIR = ROOT / "data" / "helpcenter"
# Han, kana, Hangul: scripts written without spaces between words (Korean's spaces separate
# words with particles attached, so pairs match better there too).
# Runs of one script each: Han, hiragana (Japanese particles and endings, cut off from the
# words they follow), katakana, Hangul; then other letters, then digits.
_HAN, _HIRAGANA, _KATAKANA, _HANGUL = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff", r"\u3040-\u309f", \
    r"\u30a0-\u30ff", r"\uac00-\ud7af"  # fmt: skip
_CJK = _HAN + _HIRAGANA + _KATAKANA + _HANGUL
_RUNS = re.compile(rf"[{_HAN}]+|[{_HIRAGANA}]+|[{_KATAKANA}]+|[{_HANGUL}]+|[^\W\d_{_CJK}]+|\d+")
_IS_CJK = re.compile(rf"[{_CJK}]")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
TITLE_WEIGHT = 3
K1, B = 1.2, 0.75
# An article is offered unasked only when it matches this well; any article shown matches at
# least this share of the best one.
MIN_SCORE, MIN_SHARE_OF_BEST = 3.0, 0.4
# A term used in the training examples of at least this share of the intents says nothing
# about the topic ("the", "how", "ない"): it is left out of searches in that language.
COMMON_SHARE = 0.5


def terms(text: str) -> list[str]:
    """The search terms of `text`."""
    text = unicodedata.normalize("NFKC", text).lower()
    found = []
    for run in _RUNS.findall(text):
        if _IS_CJK.match(run):
            found += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
        elif len(run) > 1:
            found.append(run)
            if len(run) > 5:
                found.append(run[:5] + "~")
    return found


@dataclass(frozen=True)
class Article:
    language: str
    slug: str
    title: str
    body: str
    url: str


class HelpCenter:
    """Every language's articles, searchable."""

    def __init__(self, articles: list[Article], common: dict[str, frozenset[str]] | None = None) -> None:
        self.articles = articles
        self.common = common or {}
        self._index: dict[str, tuple[list[Article], list[Counter], dict[str, int], float]] = {}
        for language in {a.language for a in articles}:
            docs = [a for a in articles if a.language == language]
            counts = [Counter(terms(a.title) * TITLE_WEIGHT + terms(a.body)) for a in docs]
            frequency = Counter(term for c in counts for term in c)
            average = sum(sum(c.values()) for c in counts) / max(1, len(counts))
            self._index[language] = (docs, counts, frequency, average)

    @classmethod
    def load(cls, placeholders: dict[str, str], directory: Path = HELPCENTER_DIR) -> HelpCenter:
        """Read every article; `{help_url}`-style placeholders are filled. An article's link is
        the help center's address plus language and slug."""
        base = placeholders.get("help_url", "").rstrip("/")
        articles = []
        for path in sorted(directory.glob("*/*.md")) if directory.is_dir() else []:
            text = _PLACEHOLDER.sub(lambda m: placeholders.get(m[1], m[0]), path.read_text(encoding="utf-8"))
            first, _, body = text.partition("\n")
            if not first.startswith("# "):
                raise ValueError(f"{path}: the first line must be '# <title>'")
            language = path.parent.name
            articles.append(Article(language, path.stem, first[2:].strip(), body.strip(),
                                    f"{base}/{language}/{path.stem}"))  # fmt: skip
        return cls(articles, common_terms(NLU_DATA_DIR))

    def languages(self) -> set[str]:
        return set(self._index)

    def search(self, query: str, language: str, limit: int = 3, min_score: float = MIN_SCORE) -> list[Article]:
        """The best `limit` articles in `language` for `query`, best first, scoring at least
        `min_score` (a search the user asked for takes weaker matches than an offer)."""
        if language not in self._index:
            return []
        found = self._scored(set(terms(query)) - self.common.get(language, frozenset()), language, min_score)
        if not found:  # the topic's own word can be common in a language's data ("出金が届かない")
            found = self._scored(set(terms(query)), language, min_score)
        return [doc for score, _, doc in found[:limit] if score >= MIN_SHARE_OF_BEST * found[0][0]]

    def _scored(self, wanted: set[str], language: str, min_score: float) -> list[tuple[float, str, Article]]:
        """BM25 of each article for the `wanted` terms, best first, those at `min_score` or more."""
        docs, counts, frequency, average = self._index[language]
        scored = []
        for doc, count in zip(docs, counts, strict=True):
            length = sum(count.values())
            score = 0.0
            for term in wanted & count.keys():
                idf = math.log(1 + (len(docs) - frequency[term] + 0.5) / (frequency[term] + 0.5))
                tf = count[term]
                score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))
            if score >= min_score:
                scored.append((score, doc.slug, doc))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return scored


def common_terms(nlu_dir: Path) -> dict[str, frozenset[str]]:
    """Per language, the terms spread over at least COMMON_SHARE of the intents in the NLU
    training data (`data/nlu/<language>.yml` and `<language>.outside.yml`; an intent's
    questions, `fees/withdrawal_fees`, count as the intent)."""
    spread: dict[str, dict[str, set[str]]] = {}
    for path in sorted(nlu_dir.glob("*.yml")):
        language = spread.setdefault(path.name.split(".")[0], {})
        raw = read_yaml(path)
        items = [i for i in (raw or {}).get("nlu", []) if "intent" in i]
        for item in items:
            for line in item["examples"].splitlines():
                for term in terms(line.strip().removeprefix("- ")):
                    language.setdefault(term, set()).add(item["intent"].split("/")[0])
    common = {}
    for lang, seen_in in spread.items():
        intents = set().union(*seen_in.values()) if seen_in else set()
        common[lang] = frozenset(t for t, seen in seen_in.items() if len(seen) >= COMMON_SHARE * len(intents))
    return common
