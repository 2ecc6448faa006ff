"""HTML mail read as text, with the standard library's `html.parser` (tolerant of the broken
markup mail clients write, and it decodes entities itself; a library would add nothing the
bot needs: it wants words, not layout).

Scripts, styles, the head and comments are dropped; blocks and line breaks become line breaks,
list items "- " lines, table cells are separated by spaces, a link keeps its address when
its text does not show it. A `<blockquote>` (how Gmail, Apple Mail and Thunderbird quote the
mail answered) comes out as "> " lines, so that the plain-text quote rules take it away;
signature blocks clients mark (Gmail's `gmail_signature`, Thunderbird's `moz-signature`,
Outlook's `Signature` div) are dropped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

SKIPPED = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "math", "object", "xml"})
BLOCKS = frozenset({
    "p", "div", "br", "tr", "table", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    "pre", "hr", "section", "article", "header", "footer", "center", "address", "blockquote", "form",
    "fieldset", "figure", "figcaption", "main", "nav", "aside", "tbody", "thead", "tfoot", "caption",
})  # fmt: skip
VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source", "embed",
                  "param", "track", "keygen", "basefont", "frame", "isindex"})  # fmt: skip
SIGNATURE_MARKS = ("gmail_signature", "moz-signature")
SIGNATURE_IDS = frozenset({"signature", "signature_bookmark", "ms-outlook-mobile-signature"})
MAX_OPEN_ELEMENTS = 400  # deeper markup is read as flat text rather than followed
MAX_OPEN_LINKS = 20
_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")


class _TextCollector(HTMLParser):
    """Collects the visible text line by line, with each line's quote depth."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.current: list[str] = []
        self.current_has_text = False
        self.current_depth = 0
        self.open: list[tuple[str, bool, bool]] = []  # tag, hides its content, is a quote
        self.hidden = 0
        self.quote_depth = 0
        self.preformatted = 0
        self.links: list[tuple[str, int]] = []  # open links: the address, where their text starts

    def _break(self) -> None:
        self.lines.append((self.current_depth, "".join(self.current)))
        self.current = []
        self.current_has_text = False
        self.current_depth = self.quote_depth

    def _write(self, text: str) -> None:
        if not self.current_has_text:
            self.current_depth = max(self.current_depth, self.quote_depth)
        self.current.append(text)
        self.current_has_text = self.current_has_text or bool(text.strip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag in BLOCKS:
            self._break()
        if tag == "li":
            self._break()
            self._write("- ")
        elif tag in ("td", "th"):
            self._write(" ")
        elif tag == "a" and len(self.links) < MAX_OPEN_LINKS:
            self.links.append((attributes.get("href", ""), len(self.current)))
        if tag in VOID or len(self.open) >= MAX_OPEN_ELEMENTS:
            return
        hides = tag in SKIPPED or _is_signature(attributes)
        quotes = tag == "blockquote"
        self.open.append((tag, hides, quotes))
        self.hidden += hides
        self.quote_depth += quotes
        self.preformatted += tag == "pre"
        if quotes:
            self.current_depth = self.quote_depth

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            href, start = self.links.pop()
            shown = "".join(self.current[start : start + 100])  # the link's text (a line break empties it)
            if href.startswith(("http://", "https://")) and href not in shown and not self.hidden:
                self._write(f" ({href})")
        if tag in BLOCKS or tag == "li":
            self._break()
        if not any(open_tag == tag for open_tag, _, _ in self.open):
            return  # a stray end tag: browsers ignore it too
        while self.open:
            open_tag, hides, quotes = self.open.pop()
            self.hidden -= hides
            self.quote_depth -= quotes
            self.preformatted -= open_tag == "pre"
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if self.preformatted:
            for number, piece in enumerate(data.split("\n")):
                if number:
                    self._break()
                self._write(piece)
            return
        self._write(_WHITESPACE.sub(" ", data))

    def text(self) -> str:
        self._break()
        return "\n".join(("> " * depth + line.strip()) if depth else line.strip() for depth, line in self.lines)


def _is_signature(attributes: dict[str, str]) -> bool:
    classes = attributes.get("class", "").lower()
    return any(mark in classes for mark in SIGNATURE_MARKS) or attributes.get("id", "").lower() in SIGNATURE_IDS


def html_to_text(markup: str) -> str:
    """The visible text of an HTML mail, quotes as "> " lines. Never raises."""
    collector = _TextCollector()
    try:
        collector.feed(markup)
        collector.close()
    except Exception:  # noqa: BLE001 (html.parser gives up on some markup: keep what it read)
        pass
    return collector.text()
