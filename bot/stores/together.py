"""Several stores' writes in one round trip: each store describes a write as a `Write` (one of
its registered Lua scripts, the keys and the arguments), and `together` sends them in order as
one pipeline of EVALSHAs. A message's transcript line and its reply were two round trips one
after the other, each ~0.15-0.25 ms of the client's CPU on a message's ~9 ms (issue 17).

redis-py's own pipelines ask Redis whether their scripts are loaded (SCRIPT EXISTS) before
every run, a round trip of its own; here a write whose script Redis does not know (NOSCRIPT:
Redis restarted or failed over) is sent again alone through its script, which loads it, and
the writes Redis ran are not run twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError


@dataclass(frozen=True)
class Write:
    """One call of a store's script, not yet sent."""

    script: AsyncScript
    keys: tuple[str, ...]
    args: tuple[Any, ...]

    async def run(self) -> Any:
        """The write alone; its script's reply."""
        return await self.script(keys=list(self.keys), args=list(self.args))


async def together(*writes: Write) -> list[Any]:
    """Run `writes` in order, in one round trip; their scripts' replies. An error reply raises
    (after the writes before and after it were run)."""
    if len(writes) == 1:
        return [await writes[0].run()]
    client = writes[0].script.registered_client
    async with client.pipeline(transaction=False) as pipe:
        for write in writes:
            pipe.evalsha(write.script.sha, len(write.keys), *write.keys, *write.args)
        replies = await pipe.execute(raise_on_error=False)
    results = []
    for write, reply in zip(writes, replies, strict=True):
        if isinstance(reply, NoScriptError):
            reply = await write.run()
        elif isinstance(reply, Exception):
            raise reply
        results.append(reply)
    return results
