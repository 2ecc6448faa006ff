"""What every match of a pattern holds (`bot/domain/required_text.py`), which decides the
patterns a message is searched with for signals: a string wrongly required would let a break-in
report through without its signal, so the real regular-expression engine is the judge here."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain import entities
from bot.domain.required_text import fold, required
from bot.domain.signals import Signals

EVERY_PATTERN = [p for by_lang in Signals.load().patterns.values() for ps in by_lang.values() for p in ps]
_LEXICON = entities.default_lexicon()
# The entities' names (`Gated`): a string wrongly required would lose a coin, a network or an
# amount, or read another company's locked account as the exchange's.
ENTITY_PATTERNS = [_LEXICON.coin_pattern, _LEXICON.network_pattern, _LEXICON.amount_pattern,
                   entities._services_pattern()]  # fmt: skip


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(EVERY_PATTERN).flatmap(lambda p: st.tuples(st.just(p), st.from_regex(p))))
def test_every_text_a_signal_pattern_matches_holds_what_the_pattern_requires(case):
    pattern, text = case
    strings = required(pattern)
    for variant in (text, text.upper(), text.swapcase(), text.title()):
        if pattern.search(variant) and strings is not None:
            assert any(s in fold(variant) for s in strings), (pattern.pattern, variant, sorted(strings))


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.one_of([st.tuples(st.just(gated), st.from_regex(gated.pattern)) for gated in ENTITY_PATTERNS]))
def test_the_entities_names_are_found_in_every_text_that_names_them(case):
    gated, text = case
    pattern = gated.pattern
    for variant in (text, text.upper(), text.swapcase(), text.title(), f"my {text} please"):
        found = [m.span() for m in pattern.finditer(variant)]
        assert [m.span() for m in gated.finditer(variant)] == found, (variant, pattern.pattern[:80])
        assert gated.sub("#", variant) == pattern.sub("#", variant)


@pytest.mark.parametrize("pattern,expected", [
    (r"\bstole\b", {"stole"}),
    (r"(?:a hacker )?stole", {"a hacker stole", "stole"}),  # either way, "stole"
    (r"hack(?:ed|er)s?", {"hacked", "hackeds", "hacker", "hackers"}),
    (r"unauthori[sz]ed", {"unauthorised", "unauthorized"}),
    (r"(?:withdraw\w*|login) (?:i|we) did not make", {" i did not make", " we did not make"}),  # the most telling
    (r"\b(?:not|never)\b.{0,20}\bme\b", {"not", "never"}),
    (r"(?<!how to )reset", {"reset"}),  # look-arounds hold nothing
    (r"WITHDRAWAL", {"withdrawal"}),  # folded
    (r"\w+@\w+", {"@"}),
    (r"(?:abc)+x", {"abc"}),
    (r"foo|\d+", None),  # a branch that requires nothing
    (r"(?:abc)*", None),
    (r"[^a]bc?", {"b", "bc"}),
    (r"[^a]+", None),
])
def test_what_a_pattern_requires(pattern, expected):
    found = required(re.compile(pattern, re.IGNORECASE))
    assert (set(found) if found is not None else None) == expected


def test_case_folding_takes_for_each_other_what_ignorecase_does():
    """re.IGNORECASE matches "İ" and the dotless "ı" for "i"; a required "in" must be found in
    "İN" and "ıN" then."""
    pattern = re.compile(r"\bin\b", re.IGNORECASE)
    for text in ("İN", "ıN", "IN", "in"):
        assert pattern.search(text)
        assert "in" in fold(text)


def test_every_pair_of_characters_ignorecase_takes_for_each_other_folds_alike():
    """The engine's own rule (a character's lower case, and its table of exceptions such as the
    long s and the Kelvin sign), checked over every code point."""
    import _sre
    import sre_compile

    by_lower: dict[int, set[str]] = {}
    for point in range(0x110000):
        if not 0xD800 <= point <= 0xDFFF:
            by_lower.setdefault(_sre.unicode_tolower(point), set()).add(fold(chr(point)))
    assert [hex(lower) for lower, folds in by_lower.items() if len(folds) > 1] == []
    exceptions = sre_compile._ignorecase_fixes
    assert [(hex(a), hex(b)) for a, others in exceptions.items() for b in others if fold(chr(a)) != fold(chr(b))] == []
