"""Which language a message is in.

Scripts decide alone where they can (Hangul, kana, Han, Cyrillic, Vietnamese letters); Latin
text goes to langdetect, restricted to the configured languages and helped by the little words
each language cannot do without ("mi", "mon", "the", "ko"...), which langdetect's profiles
weigh too lightly on a five-word chat message. Very short texts lean on the platform's hint
and the conversation's last language.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import yaml
from langdetect import DetectorFactory, detector_factory
from langdetect.lang_detect_exception import LangDetectException

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
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


def _seeded_factory() -> DetectorFactory:
    DetectorFactory.seed = 0  # langdetect samples at random: a seed makes it repeatable
    detector_factory.init_factory()  # loads the profiles once per process
    return detector_factory._factory


class LanguageDetector:
    """Detects a message's language among the configured ones."""

    def __init__(
        self,
        languages: Iterable[str],
        default: str,
        lexicon: Optional[dict[str, frozenset[str]]] = None,
        short_text_words: int = 2,
    ) -> None:
        self.languages = tuple(languages)
        self.default = default
        self.short_text_words = short_text_words
        self.lexicon = {
            lang: _FUNCTION_WORDS.get(lang, frozenset()) | (lexicon or {}).get(lang, frozenset())
            for lang in self.languages
        }
        self._factory = _seeded_factory()

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
            # Kanji with no kana at all is rare in Japanese chat, but a hint can say so.
            return "ja" if "ja" in (hint, previous) and hint != "zh" else "zh"
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
        scores = self._scores(text, words)
        if len(words) <= self.short_text_words and context:
            return context
        if context in scores:
            scores[context] += 0.5  # a tie between close languages goes to what the user speaks
        return max(scores, key=scores.get)

    def _scores(self, text: str, words: list[str]) -> dict[str, float]:
        hits = {
            lang: sum(w in self.lexicon[lang] for w in words)
            for lang in self.languages
            if not _is_script_language(lang)
        }
        ranked = sorted(hits.values(), reverse=True) + [0, 0]
        if ranked[0] >= 3 and ranked[0] - ranked[1] >= 3:
            # The words alone are decisive: spare langdetect's sampling (~2 ms a message).
            return {lang: float(n) for lang, n in hits.items()}
        probs: dict[str, float] = {}
        try:
            detector = self._factory.create()
            detector.append(text)
            probs = {p.lang: p.prob for p in detector.get_probabilities()}
        except LangDetectException:
            pass
        scores = {}
        for lang in self.languages:
            if _is_script_language(lang):
                continue
            # The floor keeps one confident langdetect miss from outvoting several telling words.
            scores[lang] = math.log(probs.get(lang, 0.0) + 0.05) + 1.2 * hits.get(lang, 0)
        best_foreign = max(((p, lang) for lang, p in probs.items() if lang not in self.languages), default=None)
        if best_foreign and best_foreign[0] > 0.95 and len(words) >= 4:
            scores[best_foreign[1]] = math.log(best_foreign[0] + 0.05)
        return scores or {self.default: 0.0}


def domain_lexicon(nlu_files: Iterable[Path]) -> dict[str, frozenset[str]]:
    """Words that the training data of exactly one Latin-script language uses (at least twice):
    "resetear", "perdi", "rut", "duyet", "capté". Built from `data/nlu/<lang>.yml`, so it grows
    with the data; langdetect's general profiles know few of these chat words."""
    counts: dict[str, Counter] = {}
    for path in nlu_files:
        lang = path.stem
        if _is_script_language(lang):
            continue
        counter = counts.setdefault(lang, Counter())
        for block in yaml.load(path.read_text(encoding="utf-8"), Loader=_YamlLoader).get("nlu", []):
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
