"""What a post on X looks like before it is sent, and what X meant when it refused one.

X counts a post's length its own way (twitter-text v3 weights), and it refuses (403) a text the
account posted recently, even as a reply to someone else. Our answers are fixed texts, so a
public reply starts with the user's @handle (every user's reply differs), and a text X still
calls a duplicate (the same user asking the same thing again) is sent once more with a time
mark. A time mark, not a reference code: it reads as what it is (when we answered), where a
code could be taken for a ticket number or a code to type somewhere, and tickets stay out of
public replies (account matters move to a DM).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

import tweepy

from bot.domain.buttons import SUGGESTION
from bot.domain.messages import OutboundReply
from bot.domain.text_split import split_text

MAX_WEIGHT = 280
URL = re.compile(r"https?://\S+")
# twitter-text v3: these code points weigh 1, every other weighs 2; a URL weighs 23.
LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
URL_WEIGHT = 23
TIME_MARK = " · %H:%M:%S UTC"
# Room kept in every post for the longest @handle (15 characters), its space and a time mark, so
# that a thread is cut the same way whatever the handle and whether or not the mark is needed.
ADDRESSING_WEIGHT = len("@") + 15 + 1 + len(time.strftime(TIME_MARK, time.gmtime(0)))
NUMBERING = re.compile(r" \d+/\d+\Z")
FILE_NOT_CARRIED = "(The agent attached {name}, which cannot be sent on X: ask us for it by e-mail or in the web chat.)"

# Why X refused a post (a 403), read from the error body tweepy hands over (`api_messages`,
# `api_codes`): X says it in the "detail" of a problem body or in "errors".
DUPLICATE = "duplicate content"
PERMISSION = "missing write permission"
OTHER = "refused by X"
PERMISSION_SIGNS = (
    "oauth1 app permissions",  # https://api.twitter.com/2/problems/oauth1-permissions: a Read-only app
    "read-only application",
    "attached to a project",  # client-not-enrolled
    "application-only is forbidden",  # a Bearer token where a user's token is needed
    "access to a subset of",  # code 453: the plan does not include the endpoint
)
PERMISSION_CODES = {453}
DUPLICATE_SIGNS = (DUPLICATE, "status is a duplicate")  # API v2's detail, v1.1's code 187 message


def weighted_length(text: str) -> int:
    """The length X counts against its 280 limit."""
    total, position = 0, 0
    for match in URL.finditer(text):
        total += _weigh(text[position : match.start()]) + URL_WEIGHT
        position = match.end()
    return total + _weigh(text[position:])


def _weigh(text: str) -> int:
    return sum(1 if any(low <= ord(c) <= high for low, high in LIGHT_RANGES) else 2 for c in text)


def thread_posts(text: str, reserve: int = 0) -> list[str]:
    """`text` as one post, or as a numbered thread ("... 1/3") of posts within 280 weighted,
    each leaving `reserve` weight free (for the @handle and a time mark)."""
    room = MAX_WEIGHT - reserve
    pieces = split_text(text, room, weighted_length)
    if len(pieces) <= 1:
        return pieces
    pieces = split_text(text, room - weighted_length(" 99/99"), weighted_length)
    return [f"{piece} {number}/{len(pieces)}" for number, piece in enumerate(pieces, 1)]


def addressed(handle: str, post: str) -> str:
    """The post as a reply to the user: their @handle first (none when we could not learn it)."""
    return f"{handle} {post}" if handle else post


def with_suggestions_listed(reply: OutboundReply) -> str:
    """X has no buttons: the answers offered under a clarifying question are listed by their
    question instead, for the user to write back (the other buttons have a typed way: "human")."""
    offered = [button.label for button in reply.buttons if button.action.startswith(SUGGESTION)]
    return "\n".join([reply.text, *(f"• {label}" for label in offered)])


def with_files_noted(text: str, names: Sequence[str], public: bool) -> str:
    """The text with a line for each file an agent attached, which X cannot carry here (a DM's
    media needs X's upload API); in public the file goes unnamed (a name can tell about an account)."""
    notes = [FILE_NOT_CARRIED.format(name="a file" if public else name) for name in names]
    return "\n".join([text, *notes]) if text else "\n".join(notes)


def time_marked(post: str, now: float | None = None) -> str:
    """The post with the time (UTC, to the second) before its thread number, so that X takes
    it as a new text."""
    mark = time.strftime(TIME_MARK, time.gmtime(now))
    numbered = NUMBERING.search(post)
    cut = numbered.start() if numbered else len(post)
    return post[:cut] + mark + post[cut:]


def refusal(exc: tweepy.Forbidden) -> str:
    """Why X refused: DUPLICATE, PERMISSION (the app may not write: fixed in the developer
    portal, not by trying again) or OTHER (a deleted post, a reply X does not allow...)."""
    said = " ".join(str(message) for message in exc.api_messages).lower()
    if any(sign in said for sign in DUPLICATE_SIGNS):
        return DUPLICATE
    if PERMISSION_CODES & set(exc.api_codes) or any(sign in said for sign in PERMISSION_SIGNS):
        return PERMISSION
    return OTHER


def what_x_said(exc: tweepy.HTTPException) -> str:
    """X's own words for an error, short enough for a log line (no request, no header)."""
    return "; ".join(str(message) for message in exc.api_messages)[:200] or "no reason given"
