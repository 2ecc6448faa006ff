"""A lean HTTP/1.1 client for the saturation bench's load generator (`tests/bench_load.py`): the
driver shares the machine with the bot it measures, so every millisecond of CPU it spends on a
message is taken from the bot. aiohttp's client cost ~1 ms a message (its request machinery, a
task per message); this one writes requests encoded beforehand on persistent connections and
reads back only what a latency needs (the status line, the length of the body).

Open loop: a request is written at once on a connection of its own until there are SPREAD_OVER,
then on the longest idle one, or on a new one when every
connection is waiting for an answer (no cap), so no request waits for an earlier one's answer.
Each answer (a status, or the name of what went wrong) goes to the callback given with its
request; nothing here makes a task per request.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

# Requests go round at least this many connections, as many users' browsers, or Telegram's
# webhook deliveries (up to 40 connections by default), do: a replica's workers share one port
# (SO_REUSEPORT), and the kernel spreads connections, not requests, among them; two or three busy
# connections could all land on one worker.
SPREAD_OVER = 40

# The answer to one request: (HTTP status, None), or (None, what went wrong).
OnAnswer = Callable[[int | None, str | None], None]


def post_request(host: str, path: str, body: bytes, headers: str = "") -> bytes:
    """A POST of a JSON body, encoded once; `headers` are extra lines, each ending in CRLF."""
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{headers}\r\n").encode() + body  # fmt: skip


def chunked_end(buffer: bytearray, at: int) -> int | None:
    """Where a chunked body starting at `at` ends (past its last CRLF), or None while incomplete."""
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(bytes(buffer[at:line_end]).split(b";")[0], 16)
        at = line_end + 2
        if size == 0:  # trailers, if any, end with an empty line
            end = at if buffer.startswith(b"\r\n", at) else buffer.find(b"\r\n\r\n", at) + 2
            return end + 2 if end >= at and end + 2 <= len(buffer) else None
        at += size + 2
        if at > len(buffer):
            return None


def parse_response(buffer: bytearray) -> tuple[int, int, bool] | None:
    """The first complete response in `buffer`: (status, bytes it takes, whether the connection
    stays open), or None while it is incomplete. A response with neither Content-Length nor
    chunks runs to the end of the connection: None here, answered when the connection closes."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = bytes(buffer[:head_end]).lower()
    status, body_at = int(head[9:12]), head_end + 4
    keep_alive = b"\r\nconnection: close" not in head
    at = head.find(b"\r\ncontent-length:")
    if at >= 0:
        line_end = head.find(b"\r\n", at + 2)
        used = body_at + int(head[at + 17 : line_end if line_end >= 0 else len(head)])
        return (status, used, keep_alive) if len(buffer) >= used else None
    if b"\r\ntransfer-encoding: chunked" in head:
        used = chunked_end(buffer, body_at)
        return None if used is None else (status, used, keep_alive)
    if status < 200 or status in (204, 304):
        return status, body_at, keep_alive
    return None


class KeepAliveConnection(asyncio.Protocol):
    """One persistent connection of a pool, carrying one request at a time."""

    def __init__(self, pool: ConnectionPool, request: bytes, on_answer: OnAnswer) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.first_request: bytes | None = request  # written once connected
        self.on_answer: OnAnswer | None = on_answer  # the request waiting for its answer
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self.first_request is not None:
            transport.write(self.first_request)  # type: ignore[attr-defined]
            self.first_request = None

    def connect_failed(self, error: BaseException) -> None:
        self.pool.forget(self)
        self.answer(None, type(error).__name__)

    def send(self, request: bytes, on_answer: OnAnswer) -> None:
        self.on_answer = on_answer
        self.transport.write(request)  # type: ignore[union-attr]

    def answer(self, status: int | None, error: str | None) -> None:
        on_answer, self.on_answer = self.on_answer, None
        if on_answer is not None:
            on_answer(status, error)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        parsed = parse_response(self.buffer)
        if parsed is None:
            return
        status, used, keep_alive = parsed
        del self.buffer[:used]
        if keep_alive and not self.buffer:
            self.pool.idle.append(self)  # before the callback: it may send the next request
        else:
            self.pool.forget(self)
            self.transport.close()  # type: ignore[union-attr]
        self.answer(status, None)

    def connection_lost(self, error: Exception | None) -> None:
        self.pool.forget(self)
        if self.on_answer is not None and b"\r\n\r\n" in self.buffer:  # a body that ran to the close
            self.answer(int(bytes(self.buffer[9:12])), None)
        self.answer(None, type(error).__name__ if error else "ServerDisconnected")

    def abort(self) -> None:
        self.on_answer = None
        self.pool.forget(self)
        if self.transport is not None:
            self.transport.abort()


class ConnectionPool:
    """Persistent connections to one host: the idle ones, and every one (idle or waiting)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.address = f"{host}:{port}"  # for the Host header
        self.idle: deque[KeepAliveConnection] = deque()
        self.connections: set[KeepAliveConnection] = set()
        self._connecting: set[asyncio.Task] = set()  # held so that they are not collected

    def send(self, request: bytes, on_answer: OnAnswer) -> None:
        """Writes `request` now on an idle connection, or on a new one; `on_answer` gets the answer."""
        while self.idle and len(self.connections) >= SPREAD_OVER:
            connection = self.idle.popleft()  # the longest idle: every connection takes its turn
            if not connection.transport.is_closing():  # type: ignore[union-attr]
                connection.send(request, on_answer)
                return
        connection = KeepAliveConnection(self, request, on_answer)
        self.connections.add(connection)
        loop = asyncio.get_running_loop()
        task = loop.create_task(loop.create_connection(lambda: connection, self.host, self.port))
        self._connecting.add(task)
        task.add_done_callback(lambda done: self._connected(done, connection))

    def _connected(self, task: asyncio.Task, connection: KeepAliveConnection) -> None:
        self._connecting.discard(task)
        if not task.cancelled() and task.exception() is not None:
            connection.connect_failed(task.exception())  # type: ignore[arg-type]

    def forget(self, connection: KeepAliveConnection) -> None:
        self.connections.discard(connection)
        if connection in self.idle:
            self.idle.remove(connection)

    def abort_waiting(self) -> int:
        """Closes the connections still waiting for an answer (their answers no longer count)."""
        waiting = [connection for connection in self.connections if connection.on_answer is not None]
        for connection in waiting:
            connection.abort()
        for task in self._connecting:
            task.cancel()
        return len(waiting)

    def close(self) -> None:
        for connection in list(self.connections):
            connection.abort()
