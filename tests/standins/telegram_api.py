"""A stand-in for Telegram's Bot API on 127.0.0.1, for running the real python-telegram-bot
against: `/bot<token>/<method>`, form-encoded or JSON, answered like Telegram answers."""

from __future__ import annotations

import asyncio
import json
import threading
import time

from aiohttp import web

from tests.conftest import free_port

BOT = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "ExampleX Support",
    "username": "ExampleXBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class TelegramStandIn:
    def __init__(self) -> None:
        self.port = free_port()
        self.updates: list[dict] = []
        self.calls: list[tuple[str, dict]] = []
        self.rate_limit_next = 0  # answer this many sendMessage calls with 429
        self.blocked_chats: set[int] = set()  # users who blocked the bot: 403
        self.refused_chats: set[int] = set()  # groups where the bot may no longer write: 400
        self.moved_chats: dict[int, int] = {}  # groups made supergroups: 400 naming the new id
        self.retry_after = 1
        self.files: dict[str, bytes] = {}  # file_id -> the bytes getFile and the file URL serve
        self.downloads: list[str] = []  # file paths fetched from /file/bot<token>/
        self._update_id = 0
        self._message_id = 1000
        self._lock = threading.Lock()
        self._ready = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Where files are downloaded from, as Telegram's https://api.telegram.org/file/bot."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def start(self) -> TelegramStandIn:
        threading.Thread(target=self._serve, daemon=True).start()
        self._ready.wait(10)
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        loop.run_forever()

    async def _params(self, request: web.Request) -> dict:
        if request.content_type == "application/json":
            return await request.json()
        params = {}
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):  # a multipart upload (sendPhoto, sendDocument)
                params[key] = {"file_name": value.filename, "data": value.file.read()}
                continue
            try:
                params[key] = json.loads(value)
            except (TypeError, ValueError):
                params[key] = value
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        with self._lock:
            self.calls.append((method, params))
        if method == "getMe":
            return self._ok(BOT)
        if method in ("deleteWebhook", "setWebhook", "answerCallbackQuery", "deleteMessage", "close", "logOut"):
            return self._ok(True)
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            for _ in range(10):  # answer within a fraction of a second: shutdown waits for it
                with self._lock:
                    pending = [u for u in self.updates if u["update_id"] >= offset]
                if pending:
                    return self._ok(pending)
                await asyncio.sleep(0.02)
            return self._ok([])
        if method == "sendMessage":
            with self._lock:
                if int(params["chat_id"]) in self.blocked_chats:
                    self.calls[-1] = ("sendMessage:403", params)
                    return web.json_response(
                        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
                        status=403,
                    )
                refusal = self._refusal(int(params["chat_id"]))
                if refusal is not None:
                    self.calls[-1] = ("sendMessage:400", params)
                    return web.json_response({"ok": False, "error_code": 400, **refusal}, status=400)
                if self.rate_limit_next:
                    self.rate_limit_next -= 1
                    self.calls[-1] = ("sendMessage:429", params)
                    return web.json_response(
                        {
                            "ok": False,
                            "error_code": 429,
                            "description": f"Too Many Requests: retry after {self.retry_after}",
                            "parameters": {"retry_after": self.retry_after},
                        },
                        status=429,
                    )
                self._message_id += 1
                message_id = self._message_id
            return self._ok(
                {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "from": BOT,
                    "chat": {"id": int(params["chat_id"]), "type": "private"},
                    "text": params["text"],
                }
            )
        if method in ("sendPhoto", "sendDocument"):
            return self._ok(self._file_message(method, params))
        if method == "getFile":
            with self._lock:
                data = self.files.get(str(params.get("file_id")))
            if data is None:
                return web.json_response({"ok": False, "error_code": 400,
                                          "description": "Bad Request: invalid file_id"}, status=400)  # fmt: skip
            file_id = str(params["file_id"])
            return self._ok({"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data),
                             "file_path": f"documents/{file_id}.bin"})  # fmt: skip
        if method == "getChatMember":
            return self._ok(
                {
                    "status": "administrator",
                    "user": BOT,
                    "can_delete_messages": True,
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_restrict_members": False,
                    "can_promote_members": False,
                    "can_change_info": False,
                    "can_invite_users": True,
                    "can_manage_video_chats": False,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                }
            )
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    def _refusal(self, chat_id: int) -> dict | None:
        """Telegram's 400 for a message to `chat_id`, as it words it, if it refuses one."""
        if chat_id in self.refused_chats:
            return {"description": "Bad Request: not enough rights to send text messages to the chat"}
        if chat_id in self.moved_chats:
            return {"description": "Bad Request: group chat was upgraded to a supergroup chat",
                    "parameters": {"migrate_to_chat_id": self.moved_chats[chat_id]}}  # fmt: skip
        return None

    async def _download(self, request: web.Request) -> web.Response:
        """`GET /file/bot<token>/<file_path>`: the bytes of a file getFile named."""
        path = request.match_info["path"]
        with self._lock:
            self.downloads.append(path)
            data = self.files.get(path.removeprefix("documents/").removesuffix(".bin"))
        if data is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    def _file_message(self, method: str, params: dict) -> dict:
        """The message a sendPhoto or sendDocument made, as Telegram describes it."""
        with self._lock:
            self._message_id += 1
            message_id = self._message_id
        upload = params["photo" if method == "sendPhoto" else "document"]
        sent = {"file_id": f"S{message_id}", "file_unique_id": f"uS{message_id}", "file_size": len(upload["data"])}
        return {"message_id": message_id, "date": int(time.time()), "from": BOT,
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                **({"photo": [{**sent, "width": 64, "height": 64}]} if method == "sendPhoto"
                   else {"document": {**sent, "file_name": upload["file_name"]}})}  # fmt: skip

    def sent_files(self, chat_id: int) -> list[tuple[str, str, bytes]]:
        """The files sent to `chat_id` (sendPhoto, sendDocument uploads): method, file name, bytes."""
        fields = {"sendPhoto": "photo", "sendDocument": "document"}
        with self._lock:
            return [(m, p[fields[m]]["file_name"], p[fields[m]]["data"]) for m, p in self.calls
                    if m in fields and int(p["chat_id"]) == chat_id]  # fmt: skip

    @staticmethod
    def _ok(result: object) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    def push(
        self,
        chat_id: int,
        text: str,
        chat_type: str = "private",
        user_id: int = 5001,
        language_code: str = "en",
        reply_to_bot: bool = False,
    ) -> int:
        """A user's message as an update; returns its message id."""
        with self._lock:
            self._update_id += 1
            self._message_id += 1
            message = {
                "message_id": self._message_id,
                "date": int(time.time()),
                "text": text,
                "chat": {
                    "id": chat_id,
                    "type": chat_type,
                    **({"title": "ExampleX Community"} if chat_type != "private" else {}),
                },
                "from": {"id": user_id, "is_bot": False, "first_name": "Ana", "language_code": language_code},
            }
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
            if reply_to_bot:
                message["reply_to_message"] = {
                    "message_id": 1,
                    "date": int(time.time()),
                    "from": BOT,
                    "chat": message["chat"],
                    "text": "earlier answer",
                }
            self.updates.append({"update_id": self._update_id, "message": message})
            return self._message_id

    def push_update(self, update: dict) -> None:
        """Any update (an edited message, a photo...); its update_id is set here."""
        with self._lock:
            self._update_id += 1
            self.updates.append({**update, "update_id": self._update_id})

    def push_file(self, chat_id: int, data: bytes, *, name: str = "", caption: str = "", language_code: str = "en",
                  file_size: int | None = None) -> str:
        """A user sends a file: a photo when `name` is empty (in two sizes, the larger being
        `data`), else a document named `name`; `file_size` as the update tells it (default: the
        real one). Returns the file id the bot would fetch."""
        with self._lock:
            file_id = f"F{len(self.files) + 1:04d}x{chat_id}"
            self.files[file_id] = data
        size = len(data) if file_size is None else file_size
        message = {"message_id": 0, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
                   "from": {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": language_code}}
        if name:
            message["document"] = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
                                   "file_size": size}  # fmt: skip
        else:
            message["photo"] = [{"file_id": f"{file_id}s", "file_unique_id": "s", "width": 90, "height": 90},
                                {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 800, "height": 800,
                                 "file_size": size}]  # fmt: skip
        if caption:
            message["caption"] = caption
        with self._lock:
            self._message_id += 1
            message["message_id"] = self._message_id
        self.push_update({"message": message})
        return file_id

    def press(self, chat_id: int, user_id: int, data: str) -> None:
        """A user presses an inline button under one of the bot's messages."""
        with self._lock:
            self._update_id += 1
            chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
            self.updates.append({"update_id": self._update_id, "callback_query": {
                "id": f"cb{self._update_id}", "chat_instance": "1", "data": data,
                "from": {"id": user_id, "is_bot": False, "first_name": "Ana", "language_code": "en"},
                "message": {"message_id": 1, "date": int(time.time()), "chat": chat, "from": BOT, "text": "answer"},
            }})  # fmt: skip

    def sent(self, chat_id: int | None = None) -> list[dict]:
        with self._lock:
            return [
                p for m, p in self.calls if m == "sendMessage" and (chat_id is None or int(p["chat_id"]) == chat_id)
            ]

    def wait_sent(self, chat_id: int, count: int = 1, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sent(chat_id)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        return self.sent(chat_id)
