"""Which language a message is in.

Scripts decide where they can (Hangul, kana, Cyrillic, Vietnamese letters). Han characters
alone are Chinese or Japanese kanji ("本人確認", "提现没到"): how often each language uses the
characters and their pairs decides (`data/language/han.json`, built from wordfreq's lists).
Latin text goes to lingua, restricted to the configured languages and a few others, helped by
the little words each language cannot do without ("mi", "mon", "the", "ko"...) and the words
only one language's training data uses. The platform's hint and the conversation's last
language weigh in as a prior: they settle texts that say little ("ok", "no problem"), but
not a text that is plainly another language ("retiro pendiente" from an English browser).

lingua measured better than langdetect on the two- and three-word dev set (97.9% against
91.0%, README "Text we did not write") and is faster: 0.2 ms against about 10 ms a text.
"""

from __future__ import annotations

import json
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

from bot.config import ROOT, read_yaml

_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")
# Letters only Vietnamese uses among the launch languages (ă, đ, ơ, ư and the stacked tones).
_VIETNAMESE = re.compile(r"[ăĂđĐơƠưƯ\u1ea0-\u1ef9]")
_LATIN_WORD = re.compile(r"[a-zà-ÿœ']+", re.IGNORECASE)

# Words that are frequent in short support messages of one language and rare in the others.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "i my me the is it to and how why what where when can cant can't not dont don't do does "
        "you your this that with for of on in from get got have has was wont won't still help "
        "please pls plz hi hey hello thanks thank ty account withdraw withdrawal deposit money "
        "where's i'm im it's its there any anyone been just need want stuck been why's".split()
    ),
    "es": frozenset(
        "mi mis el los las es que por para con como cómo porque qué que me se un una del al y ya "
        "hola gracias cuenta retiro depósito deposito dinero tengo puedo quiero está esta sigue "
        "todavia todavía ayuda hay hace sin pero nada llegó llego mío cuánto cuanto dónde donde "
        "cuándo cuando también tambien estoy son le lo muy bien buenas".split()
    ),
    "fr": frozenset(
        "mon ma mes le les est pour avec comment pourquoi je ne pas une du des au et ou bonjour "
        "merci compte retrait dépôt depot argent j'ai toujours aide ça ca c'est il elle mais "
        "rien reçu recu où quand combien aussi suis sont vous votre nous faire fait peux veux "
        "bien salut svp stp j'arrive n'arrive qu'est quoi".split()
    ),
    "vi": frozenset(
        "toi minh ko khong k dc duoc tien rut nap tai khoan sao roi chua cua va cho giup voi bi "
        "em anh ad oi nha nhe the nao gi lam lai vay vs hk hong nhung duoc dang bao lau mat "
        "phi giao dich ban mua lenh xin chao cam on ak a ah".split()
    ),
}


@dataclass(frozen=True)
class Detection:
    """`detected` is what the text is in; `language` is what the bot answers in."""

    language: str
    detected: str


HAN_TABLE = ROOT / "data" / "language" / "han.json"
# Latin-script languages lingua also weighs, so that a message in one of them is recorded as
# such rather than forced into the nearest launch language.
_OTHER_LATIN = ("de", "pt", "it", "nl", "id", "tr", "pl")
# How much one telling word weighs against lingua's log-probability, and the prior of the
# hint or the conversation's language; chosen on short phrases cut from the training data.
WORD_WEIGHT = 1.6
CONTEXT_PRIOR = 1.0
_FLOOR = 0.05  # keeps one confident lingua miss from outvoting several telling words


@lru_cache(maxsize=2)
def _lingua(languages: tuple[str, ...], quick: bool = False) -> object:
    """lingua over `languages`; `quick` is its low-accuracy mode (trigrams only: a sixth of
    the memory, good enough on four words or more)."""
    builder = LanguageDetectorBuilder.from_languages(
        *(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages))
    return (builder.with_low_accuracy_mode() if quick else builder).with_preloaded_language_models().build()


def _lingua_languages(languages: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The Latin-script languages lingua tells apart: the configured ones, and those with the
    others it recognises as languages we do not speak."""
    latin = tuple(lang for lang in languages if not _is_script_language(lang))
    return latin, tuple(dict.fromkeys((*latin, *_OTHER_LATIN)))


def load_language_models_in_background(languages: Iterable[str]) -> threading.Thread:
    """Start loading the lingua models a `LanguageDetector` over `languages` uses, in a thread:
    lingua builds them in Rust without holding the GIL (about 0.8 s of a start), so the start
    loads the NLU model meanwhile. Join the thread before building the detector."""
    latin, with_others = _lingua_languages(languages)
    thread = threading.Thread(target=lambda: (_lingua(latin), _lingua(with_others, quick=True)),
                              name="lingua-models", daemon=True)  # fmt: skip
    thread.start()
    return thread


def _probabilities(detector: object, text: str) -> dict[str, float]:
    return {c.language.iso_code_639_1.name.lower(): c.value for c in detector.compute_language_confidence_values(text)}


class HanModel:
    """Japanese or Chinese, for text in Han characters alone: character and pair frequencies."""

    def __init__(self, path: Path = HAN_TABLE) -> None:
        table = json.loads(path.read_text(encoding="utf-8"))
        self._chars = {lang: t["chars"] for lang, t in table.items()}
        self._pairs = {lang: t["pairs"] for lang, t in table.items()}

    def score(self, text: str, language: str) -> float:
        chars = _HAN.findall(text)
        single, pairs = self._chars[language], self._pairs[language]
        total = sum(math.log(single.get(c, 1e-8)) for c in chars)
        return total + sum(math.log(pairs.get(a + b, 1e-7)) for a, b in zip(chars, chars[1:], strict=False))

    def language_of(self, text: str) -> str:
        return "ja" if self.score(text, "ja") > self.score(text, "zh") else "zh"


class LanguageDetector:
    """Detects a message's language among the configured ones."""

    def __init__(
        self,
        languages: Iterable[str],
        default: str,
        lexicon: Optional[dict[str, frozenset[str]]] = None,
    ) -> None:
        self.languages = tuple(languages)
        self.default = default
        self.lexicon = {
            lang: _FUNCTION_WORDS.get(lang, frozenset()) | (lexicon or {}).get(lang, frozenset())
            for lang in self.languages
        }
        latin, with_others = _lingua_languages(self.languages)
        self._lingua = _lingua(latin)  # 135 MB with the launch languages, 330 MB with the others too
        self._others = _lingua(with_others, quick=True)
        self._han = HanModel()

    def detect(self, text: str, hint: Optional[str] = None, previous: Optional[str] = None) -> Detection:
        """Detect the language of `text`; `hint` is the platform's (e.g. Telegram's
        `language_code`), `previous` the conversation's last language."""
        hint = base_language(hint)
        detected = self._by_script(text, hint, previous)
        if detected is None:
            detected = self._latin(text, hint, previous)
        answer_in = detected if detected in self.languages else self.default
        return Detection(language=answer_in, detected=detected)

    def _by_script(self, text: str, hint: Optional[str], previous: Optional[str]) -> Optional[str]:
        if _HANGUL.search(text):
            return "ko"
        if _KANA.search(text):
            return "ja"
        if _HAN.search(text):
            # Kanji with no kana: the hint or the conversation says so, else the characters.
            if hint in ("ja", "zh"):
                return hint
            return previous if previous in ("ja", "zh") else self._han.language_of(text)
        if _CYRILLIC.search(text):
            return "uk" if _UKRAINIAN.search(text) else "ru"
        if _VIETNAMESE.search(unicodedata.normalize("NFC", text)):
            return "vi"
        return None

    def _latin(self, text: str, hint: Optional[str], previous: Optional[str]) -> str:
        words = [w.lower() for w in _LATIN_WORD.findall(text)]
        context = hint if hint in self.languages else previous if previous in self.languages else None
        if not words:
            return context or self.default
        if len(words) == 1 and context:  # one word says little ("ok", "thx"), unless only one language has it
            telling = [lang for lang in self.languages if words[0] in self.lexicon[lang]]
            return telling[0] if len(telling) == 1 else context
        scores = self._scores(text, words)
        if context in scores:
            scores[context] += CONTEXT_PRIOR
        return max(scores, key=scores.get)

    def _scores(self, text: str, words: list[str]) -> dict[str, float]:
        hits = {
            lang: sum(w in self.lexicon[lang] for w in words)
            for lang in self.languages
            if not _is_script_language(lang)
        }
        ranked = sorted(hits.values(), reverse=True) + [0, 0]
        if ranked[0] >= 3 and ranked[0] - ranked[1] >= 3:
            # The words alone are decisive: lingua is not asked.
            return {lang: float(n) for lang, n in hits.items()}
        probs = _probabilities(self._lingua, text)
        scores = {
            lang: math.log(probs.get(lang, 0.0) + _FLOOR) + WORD_WEIGHT * hits.get(lang, 0)
            for lang in self.languages
            if not _is_script_language(lang)
        }
        if len(words) >= 4:  # long enough to tell a language we do not speak (German, Portuguese...)
            others = _probabilities(self._others, text)
            best_foreign = max(((p, lang) for lang, p in others.items() if lang not in self.languages), default=None)
            if best_foreign and best_foreign[0] > 0.95:
                scores[best_foreign[1]] = math.log(best_foreign[0] + _FLOOR)
        return scores or {self.default: 0.0}


def domain_lexicon(nlu_files: Iterable[Path]) -> dict[str, frozenset[str]]:
    """Words that the training data of exactly one Latin-script language uses (at least twice):
    "resetear", "perdi", "rut", "duyet", "capté". Built from `data/nlu/<lang>.yml`, so it grows
    with the data; lingua's general models know few of these chat words."""
    counts: dict[str, Counter] = {}
    for path in nlu_files:
        lang = path.name.split(".")[0]  # en.yml and en.outside.yml are both English
        if _is_script_language(lang):
            continue
        counter = counts.setdefault(lang, Counter())
        for block in read_yaml(path).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                counter.update(w.lower() for w in _LATIN_WORD.findall(line))
    lexicon = {}
    for lang, counter in counts.items():
        others = Counter()
        for other, other_counter in counts.items():
            if other != lang:
                others.update(other_counter)
        lexicon[lang] = frozenset(w for w, n in counter.items() if n >= 2 and len(w) >= 2 and w not in others)
    return lexicon


def _is_script_language(lang: str) -> bool:
    return lang in ("zh", "ja", "ko", "ru")


def base_language(code: Optional[str]) -> Optional[str]:
    """'zh-hans', 'en_US', 'pt-BR' -> 'zh', 'en', 'pt'."""
    if not code:
        return None
    return re.split(r"[-_]", code.strip().lower())[0] or None
