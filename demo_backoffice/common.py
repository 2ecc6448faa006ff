"""What the modules share: the server's state (settings, database, clock, demo faults), time
formatting, and the contract's JSON error answers."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import aiohttp
from aiohttp import web

# What the ids look like (token_urlsafe of 32 and 24 bytes): anything else is unknown at once,
# without a database lookup.
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{43}")
ACCOUNT_REF = re.compile(r"[A-Za-z0-9_-]{32}")
PLATFORMS = {"telegram": "Telegram", "discord": "Discord", "x": "X", "webchat": "Web chat"}
# After this many wrong passwords on one link request's page the request is closed: the page
# is a sign-in form anyone holding the link can reach, so it must not allow guessing.
MAX_FAILURES = 5

_ERRORS = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    410: web.HTTPGone,
}


class Clock:
    """Unix seconds, movable forward for tests (`POST /demo/clock`) so that a link request can
    expire without a test waiting a minute."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> int:
        """The back office's time, whole seconds."""
        return int(time.time() + self.offset)


@dataclass
class Faults:
    """The demo-only fault switch (`POST /demo/faults`)."""

    mode: str = "none"
    delay_s: float = 0.0
    # `nonsense` alternates between two kinds of wrong body; this counts the answers given.
    answered: int = 0


@dataclass
class State:
    """Everything a handler needs, kept in the app under `STATE`."""

    db: sqlite3.Connection
    token: bytes
    signing_secret: bytes
    public_url: str
    bot_url: str
    clock: Clock = field(default_factory=Clock)
    faults: Faults = field(default_factory=Faults)
    http: aiohttp.ClientSession | None = None


STATE = web.AppKey("state", State)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def iso(ts: int) -> str:
    """Unix seconds as the contract writes times: ISO 8601 UTC with Z, to the second."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def api_error(status: int, code: str, message: str) -> web.HTTPException:
    """The contract's error answer, `{"error": {"code", "message"}}`, as an exception to raise."""
    body = json.dumps({"error": {"code": code, "message": message}})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return _ERRORS[status](text=body, content_type="application/json", headers=headers)
