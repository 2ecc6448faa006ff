"""One chat's messages are handled in the order they came; other chats do not wait."""

from __future__ import annotations

import asyncio

from adapters.in_order import PerChat


async def test_a_chat_is_served_in_order_and_other_chats_side_by_side():
    per_chat, done = PerChat(), []

    async def work(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        done.append(name)

    await asyncio.gather(per_chat.run("a", lambda: work("a1 slow", 0.2)), per_chat.run("a", lambda: work("a2", 0)),
                         per_chat.run("b", lambda: work("b1", 0.05)))  # fmt: skip
    assert done == ["b1", "a1 slow", "a2"]
    assert not per_chat._chats, "no lock kept once a chat is idle"
