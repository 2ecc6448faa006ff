"""The bench's lean Bot API stand-in (`tests/bench_telegram.py`), called by the real
python-telegram-bot over the bot's own transport: what the bot calls in a bench run is answered
as Telegram answers it, and a chat counts as answered when its first message arrives."""

from __future__ import annotations

import asyncio

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters

from adapters.telegram_http import AiohttpRequest
from tests.bench_telegram import LeanTelegram
from tests.standins.telegram_api import BOT


async def test_the_bot_signs_in_sets_its_webhook_and_its_answers_are_timed():
    telegram = await LeanTelegram().start()
    bot = Bot("123456:BENCH-token", base_url=telegram.base_url, request=AiohttpRequest(),
              get_updates_request=AiohttpRequest())  # fmt: skip
    try:
        async with bot:
            assert bot.username == BOT["username"]
            assert await bot.set_webhook("https://bench.example/telegram/webhook", secret_token="s") is True
            text = "提现一直没到账? Try: https://example.com/a?b=1&c=2 — 100% + ünïcode " * 40
            markup = InlineKeyboardMarkup([[InlineKeyboardButton("Talk to a human", callback_data="handoff")]])
            reply_to = ReplyParameters(7, allow_sending_without_reply=True)
            sent = await asyncio.gather(*(bot.send_message(50_000_000 + n % 3, text, reply_markup=markup,
                                                           reply_parameters=reply_to) for n in range(6)))  # fmt: skip
        assert [m.chat.id for m in sent] == [50_000_000 + n % 3 for n in range(6)]
        assert all(m.text == text and m.from_user.id == BOT["id"] for m in sent)
        assert len({m.message_id for m in sent}) == 6
        assert sorted(telegram.answered_at) == [50_000_000, 50_000_001, 50_000_002]
        assert telegram.calls["sendMessage"] == 6 and telegram.calls["getMe"] == 1
    finally:
        telegram.close()


async def test_a_method_the_bench_never_calls_is_not_found_and_the_connection_stays_open():
    telegram = await LeanTelegram().start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", telegram.port)
        for method in ("getUpdates", "getMe"):
            writer.write(f"POST /bot1:x/{method} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 404") and b"Not Found" in await reader.readexactly(_length(head))
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and BOT["username"].encode() in await reader.readexactly(_length(head))
        writer.close()
    finally:
        telegram.close()


def _length(head: bytes) -> int:
    return int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
