"""How many long polls the web chat holds open: per session, per client address, in all.

A held poll costs the bot a socket and a little memory (it waits on a future, not on a Redis
connection), so a flood of them is refused early, before any Redis work: over the address's
cap (429) or the process's (503), and a session's extra poll takes the place of its oldest one
(a reloaded page's poll must not wait behind the one its previous load left open).
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

Read = TypeVar("Read")


class PollRefused(Exception):
    """A poll over a cap: `status` and `code` for the JSON error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class HeldPolls:
    """The polls held open now. `hold` is entered for as long as a poll waits."""

    def __init__(self, per_session: int, per_address: int, total: int) -> None:
        self.per_session, self.per_address, self.total = per_session, per_address, total
        self.by_address: Counter[str] = Counter()
        # session -> its polls, oldest first; each poll's future is done when it is replaced
        self.by_session: dict[str, OrderedDict[int, asyncio.Future[None]]] = {}
        self.count = 0
        self._next = 0

    @contextmanager
    def hold(self, session: str, address: str) -> Iterator[asyncio.Future[None]]:
        """Holds a poll; yields a future done when a newer poll of the session replaces it.
        Raises PollRefused over the address's or the process's cap."""
        if self.by_address[address] >= self.per_address:
            raise PollRefused(429, "too_many_polls", f"this address already holds {self.per_address} open polls; "
                              "close some or try again later")  # fmt: skip
        if self.count >= self.total:
            raise PollRefused(503, "busy", "the chat holds too many open polls right now; try again in a few seconds")
        polls = self.by_session.setdefault(session, OrderedDict())
        while len(polls) >= self.per_session:
            _, oldest = polls.popitem(last=False)
            oldest.set_result(None)  # it answers at once; its count is given back when it leaves
        self._next += 1
        number, replaced = self._next, asyncio.get_running_loop().create_future()
        polls[number] = replaced
        self.by_address[address] += 1
        self.count += 1
        try:
            yield replaced
        finally:
            self.count -= 1
            self.by_address[address] -= 1
            if not self.by_address[address]:
                del self.by_address[address]
            polls.pop(number, None)
            if not polls and self.by_session.get(session) is polls:
                del self.by_session[session]

    async def held(self, session: str, address: str, read: Callable[[], Awaitable[Read]]) -> Read | None:
        """`read()` (a long read of the session's lines) while holding a poll; None when a newer
        poll of the session replaced this one first. Raises PollRefused as `hold` does."""
        with self.hold(session, address) as replaced:
            reading = asyncio.ensure_future(read())
            await asyncio.wait({reading, replaced}, return_when=asyncio.FIRST_COMPLETED)
            if not reading.done():
                reading.cancel()
                return None
            return reading.result()
