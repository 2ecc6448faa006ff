"""Logging set-up: to stderr, never a token.

User text is never logged raw: what reaches a log line has been through the secret guard.
As a second line of defence every record is scrubbed of the values of the token variables.
"""

from __future__ import annotations

import logging
import os
import sys

from bot.environment import X_CREDENTIALS

TOKEN_VARIABLES = ("TELEGRAM_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "DISCORD_TOKEN", "WEBCHAT_SESSION_SECRET",
                   "SB_MAIL_PASSWORD", "BACKOFFICE_TOKEN", "BACKOFFICE_SIGNING_SECRET", *X_CREDENTIALS)  # fmt: skip


class ScrubTokens(logging.Filter):
    """Replaces the value of every token variable with its name."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets = {os.environ[n]: n for n in TOKEN_VARIABLES if len(os.environ.get(n, "")) >= 8}

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            for value, name in self.secrets.items():
                text = text.replace(value, f"[{name}]")
            record.msg, record.args = text, ()
        return True


def setup_logging(level: str | None = None) -> None:
    """Log to stderr (stdout belongs to `replay`'s output)."""
    # What our format never prints is not worked out for every record (the Logging HOWTO's
    # "Optimization"): the calling frame's file and line (a walk up the stack), the thread's,
    # process's and multiprocessing's names. A handled message writes a line or more.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ScrubTokens())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = level or os.environ.get("LOG_LEVEL", "INFO")
    root.setLevel(level)
    # Rasa lowers the root logger to WARNING when it loads a model: our own loggers keep theirs.
    for name in ("bot", "adapters", "intents"):
        logging.getLogger(name).setLevel(level)
