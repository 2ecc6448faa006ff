"""Sending on Telegram: one Bot API call with its 429s waited out, a reply's text, and the
files an agent attached to a reply (issue 20), each as its own message after the reply's text.

Why after the text and not as its caption: a caption holds 1,024 characters and belongs to one
file, so a reply with two files or a long text would be sent two ways; the text goes the one
way every reply goes (split, answering the user's message, with its buttons), then the files.
Images go as photos (shown in the chat) and anything else (PDFs) as documents, by their names.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, ReplyParameters
from telegram.error import BadRequest, RetryAfter
from telegram.warnings import PTBUserWarning

from adapters.uploads import outgoing_files
from bot.domain.messages import OutboundReply
from bot.domain.text_split import split_text
from bot.services.front_desk import FrontDesk

log = logging.getLogger(__name__)

MAX_TEXT = 4096

# `send_text` calls sendMessage by name, which PTB warns against on every call (it has a method
# for it); the method would build a Message of Telegram's answer that nobody reads.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)


async def patiently(send: Callable[[], Awaitable[object]]) -> None:
    """One Bot API call, sent again after the wait a 429 names; any other error raises."""
    while True:
        try:
            await send()
            return
        except RetryAfter as exc:
            wait = exc.retry_after if isinstance(exc.retry_after, (int, float)) else exc.retry_after.seconds
            log.info("telegram: rate limited, sending again in %s s", wait)
            await asyncio.sleep(float(wait))


async def send_text(bot: Bot, chat_id: int, text: str, reply_to: int | None = None,
                    markup: InlineKeyboardMarkup | None = None) -> None:  # fmt: skip
    """One text message (answering `reply_to` when it is still there, with `markup`'s buttons),
    429s waited out. Telegram's answer is left as JSON: PTB's `send_message` made a Message of
    it, 0.4 ms a reply on this path's ~10 ms (README, "Benchmarks")."""
    params: dict[str, object] = {"chat_id": chat_id, "text": text}
    if reply_to:
        params["reply_parameters"] = ReplyParameters(reply_to, allow_sending_without_reply=True)
    if markup is not None:
        params["reply_markup"] = markup
    await patiently(partial(bot.do_api_request, "sendMessage", api_kwargs=params))


async def send_files(desk: FrontDesk, bot: Bot, chat_id: int, file_ids: Sequence[str]) -> None:
    """Each of a reply's files in the chat: an image with sendPhoto (a document when Telegram
    will not take it as a photo, e.g. its sides), anything else with sendDocument. A file no
    longer kept, or one Telegram refuses for good (400), is logged and skipped: sending it again
    would fail again. Network errors, 403s and the like raise (the caller decides)."""
    for outgoing in await outgoing_files(desk, "telegram", file_ids):
        document = partial(bot.send_document, chat_id, InputFile(outgoing.data, filename=outgoing.name))
        try:
            if outgoing.is_image:
                try:
                    await patiently(partial(bot.send_photo, chat_id, InputFile(outgoing.data, filename=outgoing.name)))
                    continue
                except BadRequest as exc:
                    log.info("telegram: an image refused as a photo (%s); sent as a document", exc.message)
            await patiently(document)
        except BadRequest as exc:
            log.warning("telegram: a file of a reply (%s) refused (%s); not sent", outgoing.media_type, exc.message)


async def send_reply(desk: FrontDesk, bot: Bot, reply: OutboundReply, chat_id: int) -> None:
    """A reply in `chat_id`: its text in pieces of Telegram's length (the first answering the
    user's message, the buttons under the last), then its files."""
    markup = None
    if reply.buttons:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.action[:64])
                                        for b in reply.buttons]])  # fmt: skip
    pieces = split_text(reply.text, MAX_TEXT)
    for index, piece in enumerate(pieces):
        first, last = index == 0, index == len(pieces) - 1
        await send_text(bot, chat_id, piece, int(reply.reply_to or 0) if first else None, markup if last else None)
    await send_files(desk, bot, chat_id, reply.files)
