"""Messages of one chat handled one after another, different chats side by side.

Platform libraries hand updates over concurrently (PTB with concurrent updates, discord.py
with a task per event); a user who writes twice quickly must still be answered in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class PerChat:
    """A lock per chat, kept only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._chats: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    async def run(self, chat_id: str, work: Callable[[], Awaitable[T]]) -> T:
        lock, users = self._chats.setdefault(chat_id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                return await work()
        finally:
            users[0] -= 1
            if not users[0]:
                self._chats.pop(chat_id, None)
