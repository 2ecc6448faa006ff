"""What every match of a regular expression holds: a few strings, one of which is in any text the
pattern matches (compared case-folded, `fold`). The signals (`signals.py`) search a text only
with the patterns whose strings it holds, all of them found in one pass (pyahocorasick): about
95 patterns tried a dev text became 0.6 on average.

Read from the pattern's parse tree (`sre_parse`, Python 3.10's): a run of literal text (a
character class of a few letters, an optional part and a group of alternatives spelled out in
full), an alternation whose every branch holds something, a group, a part repeated at least
once. Anything else (`.`, `\\w`, a class with ranges, what may be left out) says nothing; of what
a sequence holds the most telling is kept (the longest shortest string). A pattern about which
nothing can be said (None) is tried on every text. `Gated` is such a pattern with its own
automaton (the entities' names).
"""

from __future__ import annotations

import re
import sre_constants as sre
import sre_parse
from collections.abc import Callable, Iterator
from typing import Any, Optional

import ahocorasick

MAX_STRINGS = 64  # a run of literal text spelled out in more ways than this says nothing
# re.IGNORECASE also takes "İ" and the dotless "ı" for "i"; case folding alone does not.
_TURKISH_I = str.maketrans({"İ": "i", "ı": "i"})

Nodes = list[tuple[Any, Any]]


def fold(text: str) -> str:
    """`text` case-folded so that two characters re.IGNORECASE takes for each other fold alike
    (checked for every code point against `_sre`'s lower case and its table of exceptions)."""
    return text.translate(_TURKISH_I).casefold()


class Gated:
    """A compiled pattern tried only on a text holding one of the strings every match of it
    holds (found in one pass of an Aho-Corasick automaton); on any other text it finds nothing
    without running. The entities' coin, network and service names are long alternations the
    engine tries at every position (~50-60 µs a text each), and most texts name none of them."""

    def __init__(self, pattern: re.Pattern) -> None:
        self.pattern = pattern
        strings = required(pattern)
        self._automaton = None if strings is None else automaton(dict.fromkeys(strings))

    def worth_trying(self, text: str) -> bool:
        return self._automaton is None or next(self._automaton.iter(fold(text)), None) is not None

    def search(self, text: str) -> Optional[re.Match]:
        return self.pattern.search(text) if self.worth_trying(text) else None

    def finditer(self, text: str) -> Iterator[re.Match]:
        return self.pattern.finditer(text) if self.worth_trying(text) else iter(())

    def sub(self, replacement: str, text: str) -> str:
        return self.pattern.sub(replacement, text) if self.worth_trying(text) else text


def automaton(words: dict[str, Any]) -> ahocorasick.Automaton:
    """An Aho-Corasick automaton finding `words` (folded strings), each reporting its value."""
    found = ahocorasick.Automaton()
    for word, value in words.items():
        found.add_word(word, value)
    found.make_automaton()
    return found


def required(pattern: re.Pattern) -> Optional[frozenset[str]]:
    """Strings (folded) one of which every text `pattern` matches holds; None: nothing known."""
    found = _sequence(list(sre_parse.parse(pattern.pattern, pattern.flags)))
    return frozenset(fold(s) for s in found) if found else None


def _sequence(nodes: Nodes) -> Optional[set[str]]:
    """What a sequence holds: its runs of literal text, spelled out, or what a part holds."""
    held: list[set[str]] = []
    run = {""}
    for op, arg in nodes:
        spelled = _spelled(op, arg)
        longer = _product(run, spelled) if spelled is not None else None
        if longer is not None:
            run = longer
            continue
        held.append(run)
        run = {""}
        if spelled is not None:
            run = spelled
        else:
            held.append(_part(op, arg) or {""})
    held.append(run)
    telling = [strings for strings in held if "" not in strings]
    return max(telling, key=lambda s: (min(map(len, s)), -len(s))) if telling else None


def _part(op: Any, arg: Any) -> Optional[set[str]]:
    """What a group, an alternation or a repeated part holds."""
    if op is sre.SUBPATTERN:
        return _sequence(list(arg[-1]))
    if op is sre.BRANCH:
        return _union(arg[1], _sequence)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and arg[0] >= 1:
        return _sequence(list(arg[2]))
    return None


def _spelled(op: Any, arg: Any) -> Optional[set[str]]:
    """Every text the node matches, when they are few; None otherwise. Look-arounds and
    anchors match the empty text."""
    if op is sre.LITERAL:
        return {chr(arg)}
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return {""}
    if op is sre.IN:
        letters = {chr(value) for kind, value in arg if kind is sre.LITERAL}
        return letters if len(letters) == len(arg) and len(letters) <= 8 else None
    if op is sre.SUBPATTERN:
        return _spelled_sequence(list(arg[-1]))
    if op is sre.BRANCH:
        texts = _union(arg[1], _spelled_sequence)
        return texts if texts is not None and len(texts) <= MAX_STRINGS else None
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        low, high, body = arg
        spelled = _spelled_sequence(list(body))
        if spelled is None or (low, high) not in ((0, 1), (1, 1)):
            return None
        return spelled | {""} if low == 0 else spelled
    return None


def _spelled_sequence(nodes: Nodes) -> Optional[set[str]]:
    texts: Optional[set[str]] = {""}
    for op, arg in nodes:
        spelled = _spelled(op, arg)
        texts = _product(texts, spelled) if spelled is not None else None
        if texts is None:
            return None
    return texts


def _product(left: set[str], right: set[str]) -> Optional[set[str]]:
    """Each text of `left` followed by each of `right`; None past MAX_STRINGS of them."""
    return {a + b for a in left for b in right} if len(left) * len(right) <= MAX_STRINGS else None


def _union(branches: list[Any], read: Callable[[Nodes], Optional[set[str]]]) -> Optional[set[str]]:
    """What `read` finds in every branch of an alternation, together; None when one says nothing."""
    found: set[str] = set()
    for branch in branches:
        strings = read(list(branch))
        if not strings:
            return None
        found |= strings
    return found
