"""How python-telegram-bot reaches the Bot API: over aiohttp instead of its default, httpx.

PTB lets an application bring its own HTTP transport (`BaseRequest`); everything above it (the
methods, their parameters, the errors such as RetryAfter and Forbidden) stays PTB's. Measured
under load (README, "Benchmarks"), sending a reply through httpx (pure-Python HTTP parsing over
anyio) cost about a fifth of the bot's CPU on the Telegram path, more than the NLU; aiohttp,
which the bot already serves with, parses in C and keeps its connections in one pool.
"""

from __future__ import annotations

import asyncio
import json
from typing import Optional

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT = type(BaseRequest.DEFAULT_NONE)  # PTB's "no value given for this call"

USER_AGENT = "supportbot (python-telegram-bot over aiohttp)"


class AiohttpRequest(BaseRequest):
    """A PTB transport over one aiohttp session: at most `pool` connections at once."""

    def __init__(self, pool: int = 256, read_timeout: Optional[float] = 5.0, connect_timeout: float = 5.0,
                 write_timeout: float = 5.0, pool_timeout: float = 1.0) -> None:  # fmt: skip
        self._pool = pool
        self._timeouts = {"read": read_timeout, "connect": connect_timeout, "write": write_timeout,
                          "pool": pool_timeout}  # fmt: skip
        self._session: Optional[aiohttp.ClientSession] = None

    @property
    def read_timeout(self) -> Optional[float]:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._pool),
                                                  headers={"User-Agent": USER_AGENT})  # fmt: skip

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self, url: str, method: str, request_data: Optional[RequestData] = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE, write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE, pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:  # fmt: skip
        """One call: the parameters form-encoded (multipart when a file goes with them), as
        PTB's own transport sends them; a timeout is TimedOut, a failed connection NetworkError."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._given(read_timeout, "read")
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._given(connect_timeout, "connect"),
                                        sock_read=read, connect=self._given(pool_timeout, "pool"))  # fmt: skip
        try:
            body, headers = _body(request_data)
            async with self._session.request(method, url, data=body, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error

    def _given(self, value: object, name: str) -> Optional[float]:
        """A timeout PTB passed for this call, else this transport's own."""
        return self._timeouts[name] if isinstance(value, DEFAULT) else value  # type: ignore[return-value]


def _body(request_data: Optional[RequestData]) -> tuple[Optional[object], Optional[dict[str, str]]]:
    """The call's body and its content type: JSON (which the Bot API takes for every call but an
    upload: one encoding of the parameters, where a form encoded each nested value as JSON and
    then quoted the lot, 0.2 ms a reply), multipart when a file goes with it."""
    if request_data is None:
        return None, None
    if not request_data.contains_files:
        return json.dumps(request_data.parameters, ensure_ascii=False).encode(), JSON
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in (request_data.multipart_data or {}).items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form, None


JSON = {"Content-Type": "application/json"}
