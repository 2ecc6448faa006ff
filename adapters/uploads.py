"""A user's file fetched from a chat platform for the front desk (issue 20), the same way on
every platform: not fetched when the size the platform told is over the bot's limit, and a
fetch that fails becomes a file that could not be read (the user is told so). Each adapter
says how to download and which of its library's errors mean "could not"."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.domain.attachments import Upload

log = logging.getLogger(__name__)


async def fetch_upload(platform: str, name: str, size: int | None, limit: int,
                       download: Callable[[], Awaitable[bytes]],
                       failures: tuple[type[BaseException], ...]) -> Upload:  # fmt: skip
    """The file as an `Upload`: its bytes, or None when `size` is over `limit` (never
    downloaded) or the download raised one of `failures` (logged by the error's type alone:
    a file URL can hold the bot's token)."""
    if size is not None and size > limit:
        return Upload(None, name, size)
    try:
        data = bytes(await download())
    except failures as exc:
        log.warning("%s: a user's file could not be downloaded (%s)", platform, type(exc).__name__)
        return Upload(None, name)
    return Upload(data, name, len(data))
