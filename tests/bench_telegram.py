"""A lean stand-in for Telegram's Bot API, for the saturation bench's load generator only
(`tests/bench_load.py`): the driver shares the machine with the bot it measures, and the full
stand-in (`tests/standins/telegram_api.py`, an aiohttp server in a thread of its own) cost
~1-1.8 ms of CPU per `sendMessage` (aiohttp's request machinery, form parsing, the GIL shared
with the driver's loop), a quarter of a core at 150 msg/s taken from the bot.

This one is an `asyncio.Protocol` on the driver's own loop: HTTP/1.1 with keep-alive and
Content-Length bodies, JSON as the bot's transport (`adapters/telegram_http.py`) sends a call
without files (or a form); fixed answers encoded once, no task per request. It answers what the bot
calls in a bench run (getMe, setWebhook and the other calls answered `true`, sendMessage) as
the full stand-in does, anything else 404, and notes when the first `sendMessage` for each chat
arrives (`answered_at`), which is when that chat's message counts as answered.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from urllib.parse import parse_qsl

from tests.standins.telegram_api import BOT

ANSWERED_TRUE = frozenset({"deleteWebhook", "setWebhook", "setMyCommands", "deleteMyCommands",
                           "answerCallbackQuery", "deleteMessage", "close", "logOut"})  # fmt: skip


def http_response(status: str, body: bytes, close: bool = False) -> bytes:
    """A whole JSON response: status line, headers and body."""
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{'Connection: close' if close else 'Connection: keep-alive'}\r\n\r\n").encode() + body  # fmt: skip


def json_response(status: str, answer: dict, close: bool = False) -> bytes:
    return http_response(status, json.dumps(answer).encode(), close)


GET_ME = json_response("200 OK", {"ok": True, "result": BOT})
TRUE = json_response("200 OK", {"ok": True, "result": True})
NOT_FOUND = json_response("404 Not Found", {"ok": False, "error_code": 404, "description": "Not Found"})
BAD_REQUEST = json_response("400 Bad Request", {"ok": False, "error_code": 400, "description": "Bad Request"},
                            close=True)  # fmt: skip
MISSING_CHAT_OR_TEXT = json_response("400 Bad Request", {
    "ok": False, "error_code": 400, "description": "Bad Request: chat_id and text are required"})  # fmt: skip
SEND_MESSAGE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\nContent-Length: "


class LeanTelegram:
    """The Bot API stand-in: when each chat was first answered, and how often each method was called."""

    def __init__(self) -> None:
        self.answered_at: dict[int, float] = {}  # chat id -> perf_counter() of its first sendMessage
        self.calls: Counter[str] = Counter()  # Bot API method -> calls (not-found ones too)
        self.port = 0
        self._message_id = 1000
        self._server: asyncio.base_events.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> LeanTelegram:
        """Listens on 127.0.0.1 (a port of the system's choosing) on the running loop."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: BotApiConnection(self), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    def answer(self, path: bytes, body: bytes) -> bytes:
        """The response to one call: `path` is /bot<token>/<method>, `body` its parameters (JSON, or form-encoded)."""
        if not path.startswith(b"/bot"):
            return NOT_FOUND
        method = path.rsplit(b"/", 1)[1].decode()
        self.calls[method] += 1
        if method == "sendMessage":
            return self.send_message(call_parameters(body))
        if method == "getMe":
            return GET_ME
        if method in ANSWERED_TRUE:
            return TRUE
        return NOT_FOUND

    def send_message(self, params: dict[str, str]) -> bytes:
        """The Message Telegram answers a sendMessage with (the bot leaves it as JSON); the
        chat's first answer is timed here."""
        try:
            chat = int(params["chat_id"])
            text = params["text"]
        except (KeyError, ValueError):
            return MISSING_CHAT_OR_TEXT
        self.answered_at.setdefault(chat, time.perf_counter())
        self._message_id += 1
        body = json.dumps({"ok": True, "result": {"message_id": self._message_id, "date": int(time.time()),
                                                  "from": BOT, "chat": {"id": chat, "type": "private"},
                                                  "text": text}}).encode()  # fmt: skip
        return SEND_MESSAGE_HEAD + str(len(body)).encode() + b"\r\n\r\n" + body


def call_parameters(body: bytes) -> dict:
    """A call's parameters: a JSON object (as the bot sends them) or a form; {} when neither."""
    try:
        found = json.loads(body) if body.startswith(b"{") else dict(parse_qsl(body.decode()))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def content_length(head: bytes) -> int | None:
    """The Content-Length of a lowercased request head: 0 when absent, None when the body is
    chunked (the bot's transport never chunks a form)."""
    at = head.find(b"\r\ncontent-length:")
    if at < 0:
        return None if b"\r\ntransfer-encoding:" in head else 0
    line_end = head.find(b"\r\n", at + 2)
    return int(head[at + 17 : line_end if line_end >= 0 else len(head)])


class BotApiConnection(asyncio.Protocol):
    """One keep-alive connection from the bot: requests answered in order as they complete."""

    def __init__(self, telegram: LeanTelegram) -> None:
        self.telegram = telegram
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (head_end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buffer[:head_end])
            lowered = head.lower()
            try:
                length = content_length(lowered)
            except ValueError:
                length = None
            if length is None:
                self.transport.write(BAD_REQUEST)  # type: ignore[union-attr]
                self.transport.close()  # type: ignore[union-attr]
                return
            body_end = head_end + 4 + length
            if len(self.buffer) < body_end:
                return
            body = bytes(self.buffer[head_end + 4 : body_end])
            del self.buffer[:body_end]
            request_line = head.split(b"\r\n", 1)[0].split(b" ")  # method, path (its case kept), version
            path = request_line[1] if len(request_line) == 3 else b""
            self.transport.write(self.telegram.answer(path, body))  # type: ignore[union-attr]
            if b"\r\nconnection: close" in lowered:
                self.transport.close()  # type: ignore[union-attr]
                return
