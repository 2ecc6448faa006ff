"""Files between a chat platform and the front desk (issue 20), the same way on every platform.

In: a user's file is not fetched when the size the platform told is over the bot's limit, and
a fetch that fails becomes a file that could not be read (the user is told so). Each adapter
says how to download and which of its library's errors mean "could not".
Out: the files an agent attached to a reply, as kept; one no longer kept is left out.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.domain.attachments import OutgoingFile, Upload
from bot.services.front_desk import FrontDesk

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


async def outgoing_files(desk: FrontDesk, platform: str, file_ids: Sequence[str]) -> list[OutgoingFile]:
    """The files of a reply (`OutboundReply.files`) to send; one no longer kept (removed past its
    retention, or erased) is logged and left out, never raised: sending the reply again would
    not bring it back."""
    found = []
    for file_id in file_ids:
        outgoing = await desk.outgoing_file(file_id)
        if outgoing is None:
            log.warning("%s: file %s of a reply is no longer kept; not sent", platform, file_id)
        else:
            found.append(outgoing)
    return found
