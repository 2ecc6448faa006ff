"""Telegram, through python-telegram-bot: private chats and groups.

On when TELEGRAM_TOKEN is in the environment. Long polling by default; webhook mode when
`telegram.webhook_url` is set (updates arrive at /telegram/webhook on the bot's own HTTP
server, and a request without the right `X-Telegram-Bot-Api-Secret-Token` gets 403).

Nothing Telegram sent is lost to a crash: an update is confirmed (the next getUpdates offset,
the webhook's 200) only once the core has taken it, and one sent again is answered once (the
core's idempotency key is the message's id). Privacy mode (BotFather's /setprivacy) on: in
groups the bot sees only what addresses it; off, or as an admin, it sees every message and can
warn about (and delete) pasted secrets. This module translates: updates become calls on the
front desk, outbox replies `sendMessage` calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

from aiohttp import web
from telegram import Message, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from adapters.in_order import PerChat
from adapters.telegram_files import send_reply
from adapters.telegram_http import AiohttpRequest
from adapters.uploads import fetch_upload
from bot.channel_settings import TelegramSettings
from bot.domain.messages import InboundMessage, OutboundReply
from bot.services.channels import STORE_OUTAGE, PrivateChat
from bot.services.front_desk import FrontDesk

PLATFORM = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
log = logging.getLogger(__name__)


class TelegramAdapter:
    """The Telegram channel: receives updates, delivers the telegram outbox."""

    platform = PLATFORM

    def __init__(self, desk: FrontDesk, settings: TelegramSettings, token: str, webhook_secret: str = "") -> None:
        self.desk = desk
        self.settings = settings
        self.webhook_secret = webhook_secret
        self.in_order = PerChat()
        # Updates handled concurrently; no PTB Updater: it confirms updates once fetched (`poll`).
        builder = (ApplicationBuilder().token(token).base_url(settings.base_url).base_file_url(settings.base_file_url)
                   .concurrent_updates(64).updater(None).request(AiohttpRequest())
                   .get_updates_request(AiohttpRequest(pool=1)))  # fmt: skip
        self.app: Application = builder.build()
        self.polling: asyncio.Task | None = None
        self.app.add_handler(CommandHandler("start", self.on_start))
        # /ask and /help carry a question; /link and /unlink the user's account (`bot/services/accounts.py`).
        for command in ("ask", "help", "link", "unlink"):
            self.app.add_handler(CommandHandler(command, self.on_text))
        self.app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, self.on_text))
        self.app.add_handler(MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, self.on_joined))
        self.app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & ~filters.TEXT, self.on_other))
        self.app.add_handler(CallbackQueryHandler(self.on_button))
        self.app.add_error_handler(self.on_error)
        self.failed: set[int] = set()  # updates the core could not take (its store was down)

    @property
    def listens(self) -> bool:
        """Long polling (the bot's one getUpdates): the first worker only; a webhook: every worker."""
        return not self.settings.webhook_url

    async def start(self) -> None:
        await self.app.initialize()
        await self.app.start()
        if self.settings.webhook_url:
            await self.app.bot.set_webhook(self.settings.webhook_url, secret_token=self.webhook_secret)
        else:
            await self.app.bot.delete_webhook()
            self.polling = asyncio.create_task(self.poll())
        log.info("telegram: signed in as @%s", self.app.bot.username)

    async def poll(self) -> None:
        """Long polling: a batch is confirmed by the next getUpdates only once the core took it."""
        offset = None
        while True:
            try:
                updates = await self.app.bot.get_updates(offset=offset, timeout=10, allowed_updates=Update.ALL_TYPES)
            except RetryAfter as exc:
                await asyncio.sleep(float(exc.retry_after if isinstance(exc.retry_after, (int, float)) else 5))
                continue
            except TelegramError as exc:
                log.warning("telegram: getUpdates failed (%s), retrying", type(exc).__name__)
                await asyncio.sleep(2)
                continue
            if updates:
                await asyncio.gather(*(self.app.process_update(update) for update in updates))
                failed = {update.update_id for update in updates} & self.failed
                self.failed -= failed
                # From the first one not taken, again (those taken after it are answered once).
                offset = min(failed) if failed else updates[-1].update_id + 1
                if failed:
                    await asyncio.sleep(1)
            await asyncio.sleep(self.settings.poll_interval_seconds)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An update the core could not take (its store down): not confirmed, sent again. Any
        other error is a bug: logged, the update dropped."""
        if not isinstance(context.error, STORE_OUTAGE):
            log.error("telegram: an update failed", exc_info=context.error)
            return
        if isinstance(update, Update):
            self.failed.add(update.update_id)
        log.warning("telegram: an update was not taken (%s); it will come again", type(context.error).__name__)

    async def stop(self) -> None:
        if self.polling:
            self.polling.cancel()
            await asyncio.gather(self.polling, return_exceptions=True)
        await self.app.stop()
        await self.app.shutdown()

    def routes(self) -> list[web.AbstractRouteDef]:
        """Webhook mode's endpoint, when `telegram.webhook_url` is set."""
        return [web.post(WEBHOOK_PATH, self.webhook)] if self.settings.webhook_url else []

    async def open_private(self, message: InboundMessage, token: str) -> PrivateChat:
        """A bot cannot start a private chat: the link opens one with the token as /start's."""
        return PrivateChat(f"https://t.me/{self.app.bot.username}?start={token}")

    async def webhook(self, request: web.Request) -> web.Response:
        """Webhook mode's endpoint: checks Telegram's secret header before anything else."""
        if not self.webhook_secret or request.headers.get("X-Telegram-Bot-Api-Secret-Token") != self.webhook_secret:
            return web.json_response({"error": "forbidden"}, status=403)
        try:
            # The bytes as JSON: request.json() parsed the Content-Type header (with the email
            # package) for every update first, and let a RecursionError (a body nested deeper than
            # the parser recurses) out as a 500.
            body = json.loads(await request.read())
            if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
                raise ValueError("an update is a JSON object with a numeric update_id")
            update = Update.de_json(body, self.app.bot)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError, OverflowError):  # not an update
            return web.json_response({"error": "bad_update"}, status=400)
        await self.app.process_update(update)  # taken before the 200: a crash has Telegram send it again
        if update.update_id in self.failed:
            self.failed.discard(update.update_id)
            return web.json_response({"error": "unavailable"}, status=503)  # Telegram sends it again
        return web.json_response({"ok": True})

    def normalize(self, message: Message) -> InboundMessage | None:
        """The update as the core's message; None for what is not a conversation (channels)."""
        chat = message.chat
        if chat.type not in ("private", "group", "supergroup"):
            return None
        text = message.text or message.caption or ""  # a photo's or a document's caption is its text
        addressed = chat.type == "private"
        username = self.app.bot.username or ""
        if username and f"@{username}".lower() in text.lower():
            addressed = True
            text = re.sub(rf"@{re.escape(username)}\b", "", text, flags=re.IGNORECASE).strip()
        reply_to = message.reply_to_message
        if reply_to and reply_to.from_user and reply_to.from_user.id == self.app.bot.id:
            addressed = True
        command = re.match(r"^/(start|ask|help)(?:@\w+)?\s*", text)
        if command:
            addressed = True
            # /start's payload is a link token (handled by on_start), never a question; /help
            # stays as it is: the pipeline searches the help center with its words.
            if command.group(1) != "help":
                text = "hi" if command.group(1) == "start" else text[command.end():].strip()
        user = message.from_user
        return InboundMessage(
            platform=PLATFORM, chat_id=str(chat.id), chat_kind="private" if chat.type == "private" else "group",
            user_id=str(user.id) if user else "", user_name=(user.full_name if user else ""), text=text,
            addressed=addressed, message_id=str(message.message_id),
            reply_to=str(reply_to.message_id) if reply_to else None,
            language_hint=user.language_code if user else None,
        )  # fmt: skip

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message is None:
            return
        message = self.normalize(update.message)
        if message is None:
            return
        await self.in_order.run(message.chat_id, lambda: self._handle(update, message))

    async def _handle(self, update: Update, message: InboundMessage) -> None:
        decision = await self.desk.take(message)
        if decision and decision.delete_original:
            await self.delete_if_allowed(update.message)

    async def delete_if_allowed(self, message: Message) -> None:
        """Delete a message with a pasted secret when the bot is an admin that may; the
        warning already asks the user to delete it otherwise."""
        try:
            member = await self.app.bot.get_chat_member(message.chat.id, self.app.bot.id)
            if getattr(member, "can_delete_messages", False) or member.status == "creator":
                await message.delete()
            else:
                log.info("telegram: no right to delete messages in chat %s (make the bot an admin)", message.chat.id)
        except TelegramError as exc:
            log.warning("telegram: could not delete a message with a secret (%s)", type(exc).__name__)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: recorded by the core, acknowledged at once (Telegram shows a
        spinner until answerCallbackQuery)."""
        query = update.callback_query
        if query is None or query.message is None:
            return
        chat, user = query.message.chat, query.from_user
        pressed = InboundMessage(
            platform=PLATFORM, chat_id=str(chat.id), chat_kind="private" if chat.type == "private" else "group",
            user_id=str(user.id), user_name=user.full_name, text="", language_hint=user.language_code,
        )  # fmt: skip
        await query.answer()
        await self.desk.press(pressed, query.data or "")

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/start`: greets; `/start <token>` (the link from a group) carries a conversation over."""
        if update.message and update.message.chat.type == "private" and context.args:
            message = self.normalize(update.message)
            if await self.desk.resume_in_private(message, context.args[0]):
                return
        await self.on_text(update, context)

    async def on_joined(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """New members of a group: the core checks each name (and @username) for impostors."""
        if (message := update.message) is None:
            return
        for member in message.new_chat_members:
            if member.id == self.app.bot.id:
                continue
            name = member.full_name + (f" (@{member.username})" if member.username else "")
            await self.desk.member_joined(InboundMessage(
                platform=PLATFORM, chat_id=str(message.chat.id), chat_kind="group", user_id=str(member.id),
                user_name=name, text="", language_hint=member.language_code,
            ))  # fmt: skip

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Photos and documents are fetched for the core (it keeps images and PDFs); stickers,
        voice...: described. Only in private, or in a group when addressed to the bot."""
        message = update.message
        normalized = self.normalize(message) if message else None
        if normalized is None or not normalized.addressed:
            return
        await self.in_order.run(normalized.chat_id, lambda: self._attachment(message, normalized))

    async def _attachment(self, message: Message, normalized: InboundMessage) -> None:
        photo_or_document = message.photo[-1] if message.photo else message.document  # photos: the largest size
        if photo_or_document is None:
            attachment = message.effective_attachment
            kind = type(attachment).__name__.lower() if attachment is not None else "file"
            file_id = getattr(attachment, "file_id", "")
            await self.desk.attachment(normalized, description=f"{kind} file_id={file_id}" if file_id else kind)
            return
        name = "photo.jpg" if message.photo else (message.document.file_name or "file")

        async def download() -> bytearray:  # getFile, then the file URL (base_file_url + token + file_path)
            return await (await photo_or_document.get_file()).download_as_bytearray()
        upload = await fetch_upload(PLATFORM, name, photo_or_document.file_size, self.desk.attachment_limit,
                                    download, (TelegramError, RuntimeError))  # fmt: skip
        decision = await self.desk.attachment(normalized, upload)
        if decision and decision.delete_original:  # a caption with a pasted secret
            await self.delete_if_allowed(message)

    async def deliver(self, reply: OutboundReply, conversation: str, sender: str) -> None:
        """One outbox reply, split to Telegram's length, answering the user's message, then its
        files (`telegram_files.py`); 429s waited out; a chat that moved (a group made a supergroup)
        followed; a 403 (the user blocked the bot) or a 400 (the chat is gone, the bot may not
        write in it) logged and recorded on the conversation, not retried: sending it again would
        be refused again, and its chat's later replies would wait behind it."""
        try:
            try:
                await send_reply(self.desk, self.app.bot, reply, int(reply.chat_id))
            except ChatMigrated as moved:  # the group became a supergroup: Telegram names its new id
                log.info("telegram: chat %s is now %s; the reply follows it", reply.chat_id, moved.new_chat_id)
                await send_reply(self.desk, self.app.bot, reply, int(moved.new_chat_id))
        except Forbidden:
            log.warning("telegram: chat %s blocked the bot; the reply is dropped", reply.chat_id)
            await self.desk.blocked(conversation, PLATFORM)
        except BadRequest as exc:  # for good: the chat is gone, or the bot may not write in it
            log.warning("telegram: chat %s refused the reply (%s); it is dropped", reply.chat_id, exc.message)
            await self.desk.undeliverable(conversation, PLATFORM)
        except TelegramError as exc:
            log.warning("telegram: send failed (%s)", type(exc).__name__)
            raise
