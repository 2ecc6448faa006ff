"""The log lines of refused agent tokens, rate-limited: a guesser trying thousands of tokens
must not flood the log (nor fill its disk), and the lines that are written say how many were
left out. A line names the client address and the route; never the token, nor any part of it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("bot.web.signin")
# At most this many lines per window per process; the rest are counted and reported.
LINES_PER_WINDOW = 10
WINDOW_SECONDS = 60.0


class SignInLog:
    """WARNING lines for refused tokens and throttled addresses, at most `lines` a window."""

    def __init__(self, lines: int = LINES_PER_WINDOW, window_seconds: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.lines = lines
        self.window_seconds = window_seconds
        self.clock = clock
        self.window_start = float("-inf")
        self.written = 0
        self.left_out = 0

    def refused(self, address: str, route: str, failures: int) -> None:
        """A token was refused (unknown, revoked or expired)."""
        self._write("agent API: token refused from %s on %s (%d refused from there in this window)",
                    address, route, failures)  # fmt: skip

    def throttled(self, address: str, route: str, wait_seconds: int) -> None:
        """An address reached the limit: its calls are refused for `wait_seconds`."""
        self._write("agent API: %s refused for %d s after too many refused tokens (last on %s)",
                    address, wait_seconds, route)  # fmt: skip

    def _write(self, message: str, *args: object) -> None:
        now = self.clock()
        if now - self.window_start >= self.window_seconds:
            if self.left_out:
                log.warning("agent API: %d more refused-token lines left out in the last %.0f s",
                            self.left_out, self.window_seconds)  # fmt: skip
            self.window_start, self.written, self.left_out = now, 0, 0
        if self.written >= self.lines:
            self.left_out += 1
            return
        self.written += 1
        log.warning(message, *args)
