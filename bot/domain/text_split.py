"""Long replies cut into the pieces a platform accepts, at sentence ends where possible.

Each platform measures length its own way: Telegram and Discord count characters, X weighs
them (`weight` is that measure)."""

from __future__ import annotations

from collections.abc import Callable

SENTENCE_ENDS = ("\n", ". ", "! ", "? ", "。", "！", "？")


def split_text(text: str, limit: int, weight: Callable[[str], int] = len) -> list[str]:
    """Pieces of `text`, each weighing at most `limit`, cut after a sentence end when one lies
    in the second half of the window, else at a space, else mid-word."""
    pieces, rest = [], text.strip()
    while rest and weight(rest) > limit:
        size = _fitting_prefix(rest, limit, weight)
        window = rest[:size]
        cut = max(window.rfind(mark) + len(mark) for mark in SENTENCE_ENDS)
        if cut <= size // 2:
            cut = window.rfind(" ") + 1 or size
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*pieces, rest] if rest else pieces


def _fitting_prefix(text: str, limit: int, weight: Callable[[str], int]) -> int:
    """The longest prefix length of `text` that weighs at most `limit` (at least 1)."""
    if weight is len:
        return max(1, min(limit, len(text)))
    low, high = 1, len(text)
    while low < high:  # weights only grow with length, so the boundary can be bisected
        middle = (low + high + 1) // 2
        if weight(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low
