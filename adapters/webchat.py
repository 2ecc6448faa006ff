"""The built-in web chat: a page at `/` and a JSON API for it. Always on, no token needed.

    POST /api/webchat/{session}/messages  {"text": "...", "client_id"?}  ->  {"message", "replies", "cursor"}
    GET  /api/webchat/{session}/messages?after=<cursor>[&wait=<s>]  ->  what came later
    POST /api/webchat/{session}/press     {"action": "helpful:yes"}  ->  202 (what follows comes by GET)

Each session's messages (the user's as stored, redacted, and the replies) live in a Redis
stream (`sb:webchat:<session>`); the cursor is a stream id. The bot's answers are written
there at once; an agent's replies reach it through the web chat's outbox, which `deliver`
drains. It only translates: HTTP into an `InboundMessage`, replies into JSON.

Order: one session's messages are handled one after another (a user who types fast is
answered in order, each reply right after its question in the stream). A reply to a message
carries `reply_to`, the message's id, and the user's line carries the `client_id` the page
sent with it, so the page can confirm its pending line by id and put every line in its place
whichever of POST and GET brings it first.

Embedding: `<script src="https://<bot>/webchat/embed.js" async></script>` on any page adds a
chat button that opens this page in a frame.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.in_order import PerChat
from bot.domain.messages import InboundMessage, OutboundReply
from bot.domain.pipeline import BadMessage
from bot.services.inbox import Inbox
from bot.stores import keys
from bot.web.responses import json_error

PLATFORM = "webchat"
STATIC = Path(__file__).with_name("webchat_static")
SESSION = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
ACTION = re.compile(r"^[A-Za-z0-9:_-]{1,100}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_BODY_BYTES = 64 * 1024


def _reply_json(reply: OutboundReply) -> dict:
    return {"text": reply.text, "buttons": [{"label": b.label, "action": b.action} for b in reply.buttons]}


def _language_hint(request: web.Request) -> str | None:
    header = request.headers.get("Accept-Language", "")
    first = header.split(",")[0].split(";")[0].strip()
    return first or None


_UNAVAILABLE = BadMessage("unavailable", "will_answer_shortly", "the store is unavailable")
_RATE_LIMITED = BadMessage("rate_limited", "error_rate_limited", "too many messages")
SESSION_TTL_SECONDS = 7 * 24 * 3600
SESSION_MAX_MESSAGES = 500
MAX_WAIT_SECONDS = 25


def session_stream(session: str) -> str:
    return keys.webchat_session(session)


class WebChat:
    """Routes of the web chat channel."""

    def __init__(self, inbox: Inbox, redis: Redis) -> None:
        self.inbox = inbox
        self.redis = redis
        self.settings = inbox.config.web
        self.in_order = PerChat()

    def client_address(self, request: web.Request) -> str:
        if self.settings.trust_forwarded_for and request.headers.get("X-Forwarded-For"):
            return request.headers["X-Forwarded-For"].split(",")[-1].strip()
        return request.remote or "?"

    async def too_fast(self, request: web.Request, session: str) -> web.Response | None:
        """A 429 when the session or the client's address is over its messages a minute."""
        minute = int(time.time() // 60)
        limits = ((keys.webchat_rate("session", session, minute), self.settings.rate_per_session_minute),
                (keys.webchat_rate("ip", self.client_address(request), minute), self.settings.rate_per_ip_minute))
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, _ in limits:
                    pipe.incr(key)
                    pipe.expire(key, 120)
                counts = (await pipe.execute())[::2]
        except (RedisError, ConnectionError):
            return None  # during an outage the message is refused anyway, with "we'll answer shortly"
        if all(count <= limit for count, (_, limit) in zip(counts, limits, strict=True)):
            return None
        wait = 60 - int(time.time()) % 60
        reply = self.inbox.pipeline.error_reply(_RATE_LIMITED, _language_hint(request))
        response = json_error(429, "rate_limited", f"too many messages; try again in {wait} s", reply=reply)
        response.headers["Retry-After"] = str(wait)
        return response

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.page),
            web.post("/api/webchat/{session}/messages", self.post_message),
            web.get("/api/webchat/{session}/messages", self.get_messages),
            web.post("/api/webchat/{session}/press", self.press),
        ]

    async def _append(self, session: str, sender: str, reply: OutboundReply, **extra: str) -> str:
        fields = {"from": sender, "text": reply.text,
                  "buttons": json.dumps([[b.label, b.action] for b in reply.buttons]), **extra}  # fmt: skip
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(session_stream(session), fields, maxlen=SESSION_MAX_MESSAGES, approximate=True)
            pipe.expire(session_stream(session), SESSION_TTL_SECONDS)
            entry, _ = await pipe.execute()
        return entry.decode()

    async def deliver(self, reply: OutboundReply, conversation: str, sender: str) -> None:
        """The outbox's delivery for this platform: a later reply into the session."""
        await self._append(reply.chat_id, sender, reply)

    async def _cursor(self, session: str) -> str:
        last = await self.redis.xrevrange(session_stream(session), count=1)
        return last[0][0].decode() if last else "0-0"

    async def get_messages(self, request: web.Request) -> web.Response:
        session = request.match_info["session"]
        if not SESSION.match(session):
            return json_error(400, "bad_session", "the session id must be 8-64 letters, digits, '-' or '_'")
        after = request.query.get("after", "0-0")
        if not re.fullmatch(r"\d{1,20}-\d{1,20}", after):
            return json_error(400, "bad_cursor", "after must be a cursor returned by this API")
        try:
            wait = min(MAX_WAIT_SECONDS, max(0.0, float(request.query.get("wait", "0"))))
        except ValueError:
            return json_error(400, "bad_wait", "wait is a number of seconds")
        key = session_stream(session)
        if wait:
            found = await self.redis.xread({key: after}, count=100, block=int(wait * 1000))
            entries = found[0][1] if found else []
        else:
            entries = await self.redis.xrange(key, min=f"({after}", count=100)
        messages = []
        for entry_id, fields in entries:
            data = {k.decode(): v.decode() for k, v in fields.items()}
            messages.append({
                "id": entry_id.decode(), "from": data["from"], "text": data["text"],
                "buttons": [{"label": label, "action": action} for label, action in json.loads(data["buttons"])],
                **{name: data[name] for name in ("reply_to", "client_id") if name in data},
            })  # fmt: skip
        cursor = messages[-1]["id"] if messages else after
        return web.json_response({"messages": messages, "cursor": cursor})

    async def page(self, request: web.Request) -> web.Response:
        return web.FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)

    async def post_message(self, request: web.Request) -> web.Response:
        session = request.match_info["session"]
        if not SESSION.match(session):
            return json_error(400, "bad_session", "the session id must be 8-64 letters, digits, '-' or '_'")
        limited = await self.too_fast(request, session)
        if limited is not None:  # (a Response is falsy: it is an empty mapping)
            return limited
        if request.content_length and request.content_length > MAX_BODY_BYTES:
            return json_error(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
        raw = await request.content.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            return json_error(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return json_error(400, "bad_json", 'the body must be a JSON object like {"text": "..."}')
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return json_error(400, "bad_json", 'the body must be a JSON object like {"text": "..."}')
        client_id = body.get("client_id")
        client_id = client_id if isinstance(client_id, str) and CLIENT_ID.match(client_id) else None
        message = InboundMessage(
            platform=PLATFORM, chat_id=session, chat_kind="private", user_id=session,
            text=body["text"], addressed=True, language_hint=_language_hint(request),
        )  # fmt: skip
        # One session's messages one after another: its stream reads question, answer, question...
        return await self.in_order.run(session, lambda: self._answer(request, message, body["text"], client_id))

    async def _answer(self, request: web.Request, message: InboundMessage, text: str,
                      client_id: str | None) -> web.Response:  # fmt: skip
        session = message.chat_id
        try:
            decision = await self.inbox.handle(message)
        except (RedisError, ConnectionError):
            # Not accepted: the page keeps the text and sends it again.
            reply = self.inbox.pipeline.error_reply(_UNAVAILABLE, _language_hint(request))
            return json_error(503, "unavailable", "the bot cannot take messages this moment", reply=reply)
        except BadMessage as exc:
            reply = self.inbox.pipeline.error_reply(exc, _language_hint(request))
            return json_error(400 if exc.code != "too_long" else 413, exc.code, str(exc), reply=reply)
        # The session's history keeps the user's words as stored: redacted.
        said = OutboundReply(PLATFORM, session, decision.redacted_text or text)
        mine = {"client_id": client_id} if client_id else {}
        cursor = said_id = await self._append(session, "user", said, **mine)
        replies = []
        if decision.reply:
            cursor = await self._append(session, "bot", decision.reply, reply_to=said_id)
            replies.append({**_reply_json(decision.reply), "id": cursor, "reply_to": said_id})
        body = {"replies": replies, "language": decision.language, "action": decision.action.value, "cursor": cursor,
                "message": {"id": said_id, "text": said.text, **mine}}  # fmt: skip
        return web.json_response(body)

    async def press(self, request: web.Request) -> web.Response:
        """A button under one of the bot's messages ("Was this helpful?", a rating, "Talk to a
        person"); what follows arrives through GET like any later reply."""
        session = request.match_info["session"]
        if not SESSION.match(session):
            return json_error(400, "bad_session", "the session id must be 8-64 letters, digits, '-' or '_'")
        try:
            body = json.loads((await request.content.read(4096)).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        limited = await self.too_fast(request, session)
        if limited is not None:  # (a Response is falsy: it is an empty mapping)
            return limited
        action = body.get("action") if isinstance(body, dict) else None
        if not isinstance(action, str) or not ACTION.match(action):
            return json_error(400, "bad_action", 'the body must be {"action": "<a button\'s action>"}')
        message = InboundMessage(platform=PLATFORM, chat_id=session, chat_kind="private", user_id=session, text="",
                                 language_hint=_language_hint(request))  # fmt: skip
        try:
            await self.inbox.press(message, action)
        except (RedisError, ConnectionError):
            return json_error(503, "unavailable", "the bot cannot take this press this moment; try again")
        return web.json_response({"ok": True}, status=202)


_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors *",
    "X-Content-Type-Options": "nosniff",
}


def static_routes() -> list[web.AbstractRouteDef]:
    return [web.static("/webchat", STATIC)]
