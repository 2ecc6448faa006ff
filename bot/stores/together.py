"""Stores' writes in as few round trips as there are moments: each store describes a write as
a `Write` (one of its registered Lua scripts, the keys and the arguments); `together` takes
the writes handed over in one turn of the event loop, by one message or by several at once,
and sends them in order as one pipeline of EVALSHAs.

A round trip costs the client ~145 µs of CPU on this machine (issue 17, README: redis-py's
packing and parsing ~90, the socket's send and wake-up ~50), and a message makes several: a
message's transcript line and its reply were two one after the other, and under load the
messages in flight in a worker each made their own. Together, 16 writers at once cost ~50 µs
a write instead of ~110, and Redis reads one request for many. A write alone waits one turn
of the loop (~25 µs of CPU more).

redis-py's own pipelines ask Redis whether their scripts are loaded (SCRIPT EXISTS) before
every run, a round trip of its own; here the writes whose scripts Redis does not know
(NOSCRIPT: Redis restarted or failed over) are sent again, in one more round trip that loads
those scripts first, and the writes Redis ran are not run twice.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any

from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError


@dataclass(frozen=True)
class Write:
    """One call of a store's script, not yet sent."""

    script: AsyncScript
    keys: tuple[str, ...]
    args: tuple[Any, ...]

    async def run(self) -> Any:
        """The write (with others' made at the same moment: `together`); its script's reply."""
        return (await together(self))[0]

    async def alone(self) -> Any:
        """The write in a round trip of its own (its script loaded first if Redis forgot it)."""
        return await self.script(keys=list(self.keys), args=list(self.args))


def together(*writes: Write) -> asyncio.Future[list[Any]]:
    """Run `writes` in order, in one round trip: awaited, their scripts' replies. An error
    reply raises (after the writes before and after it were run). Writes handed over in the
    same turn of the event loop, by this caller or by others (another message's), go in the
    same round trip: they are handed over when `together` is called, not when it is awaited."""
    client = writes[0].script.registered_client
    return _coalescer(client).submit(writes)


class _Coalescer:
    """One Redis client's writes made in one turn of the event loop, sent as one pipeline."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: list[tuple[tuple[Write, ...], asyncio.Future]] = []
        self._senders: set[asyncio.Task] = set()  # held: the loop keeps only a weak reference

    def submit(self, writes: tuple[Write, ...]) -> asyncio.Future:
        future = self.loop.create_future()
        self.waiting.append((writes, future))
        if len(self.waiting) == 1:  # the first of this turn: its sender runs at the next one
            sender = self.loop.create_task(self._send())
            self._senders.add(sender)
            sender.add_done_callback(self._senders.discard)
        return future

    async def _send(self) -> None:
        calls, self.waiting = self.waiting, []
        try:
            await self._answer(calls)
        finally:
            for _, future in calls:  # cancelled (the loop is closing): so are its callers
                if not future.done():
                    future.cancel()

    @staticmethod
    async def _answer(calls: list[tuple[tuple[Write, ...], asyncio.Future]]) -> None:
        try:
            replies = await _run([write for call, _ in calls for write in call])
        except Exception as exc:  # the connection's failure is every caller's
            for _, future in calls:
                if not future.done():
                    future.set_exception(exc)
            return
        at = 0
        for call, future in calls:
            mine, at = replies[at : at + len(call)], at + len(call)
            if future.done():  # its caller gave up waiting
                continue
            error = next((reply for reply in mine if isinstance(reply, Exception)), None)
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(mine)


async def _run(writes: list[Write]) -> list[Any]:
    """The writes' replies, an error reply in its place. Those whose script Redis had forgotten
    are made again, once, in one more round trip that loads their scripts first."""
    if len(writes) == 1:
        try:
            return [await writes[0].alone()]
        except ResponseError as exc:
            return [exc]
    replies = await _pipelined(writes)
    forgotten = [n for n, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
    if forgotten:
        scripts = {writes[n].script.sha: writes[n].script.script for n in forgotten}
        again = await _pipelined([writes[n] for n in forgotten], loading=list(scripts.values()))
        for n, reply in zip(forgotten, again, strict=True):
            replies[n] = reply
    return replies


async def _pipelined(writes: list[Write], loading: list[str] | None = None) -> list[Any]:
    """One pipeline: `loading`'s scripts loaded (SCRIPT LOAD), then the writes' EVALSHAs; the
    writes' replies."""
    client = writes[0].script.registered_client
    async with client.pipeline(transaction=False) as pipe:
        for source in loading or ():
            pipe.script_load(source)
        for write in writes:
            pipe.evalsha(write.script.sha, len(write.keys), *write.keys, *write.args)
        replies = await pipe.execute(raise_on_error=False)
    return replies[len(loading or ()) :]


_COALESCERS: weakref.WeakKeyDictionary[Any, _Coalescer] = weakref.WeakKeyDictionary()


def _coalescer(client: Any) -> _Coalescer:
    loop = asyncio.get_running_loop()
    coalescer = _COALESCERS.get(client)
    if coalescer is None or coalescer.loop is not loop:
        coalescer = _COALESCERS[client] = _Coalescer(loop)
    return coalescer
