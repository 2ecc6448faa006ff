"""The built-in web chat: a page at `/` and a JSON API for it. Always on, no token needed.

    POST /api/webchat/sessions            {}  ->  {"session": "<id>"}
    POST /api/webchat/{session}/messages  {"text": "...", "client_id"?}  ->  {"message", "replies", "cursor"}
    GET  /api/webchat/{session}/messages?after=<cursor>[&wait=<s>]  ->  what came later
    POST /api/webchat/{session}/press     {"action": "helpful:yes"}  ->  202 (what follows comes by GET)
    POST /api/webchat/{session}/files     the file as the body  ->  {"message"} (`webchat_files.py`)
    GET  /api/webchat/{session}/files/{id}   a file an agent attached to a reply (`webchat_files.py`)
    POST /api/webchat/{session}/followup  {"email": "..."}  ->  {"reply"} (`webchat_followup.py`)

Sessions: the server issues their ids (`webchat_ids.py`: random and signed), since an id is
all it takes to read a conversation; every route answers an id it did not issue with 404
`unknown_session`, and the page then asks for a new one. Every write (POST) but a file must be
`Content-Type: application/json`, else 415: a cross-site form can post `text/plain` without
the browser asking first, a JSON body it cannot.

Long polls (`wait`): a waiting GET costs no Redis connection (`bot/stores/webchat_news.py`
wakes it), and how many are held open is capped (`webchat_polls.py`, `web.polls_*`).

Each session's messages (the user's as stored, redacted, and the replies) live in a Redis
stream (`sb:webchat:<session>`); the cursor is a stream id. The bot's answers are written
there at once; an agent's replies reach it through the web chat's outbox, which `deliver`
drains (their files listed on the line: `files`, each {id, name, media_type}). It only
translates: HTTP into calls on the front desk, replies into JSON.

Order: one session's messages are handled one after another, each reply right after its
question in the stream. A reply carries `reply_to` (its question's line) and the user's line
the page's `client_id` (also the message's idempotency key): the page confirms and places
every line whichever of POST and GET brings it first.

Embedding: `<script src="https://<bot>/webchat/embed.js" async></script>` adds a chat button.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from aiohttp import web

from adapters.in_order import PerChat
from adapters.webchat_files import CLIENT_ID, WebChatUploads, language_hint
from adapters.webchat_followup import WebChatFollowUp
from adapters.webchat_ids import SessionIds, is_cursor
from adapters.webchat_polls import HeldPolls, PollRefused
from bot.config import WebSettings
from bot.domain.messages import Action, Decision, InboundMessage, OutboundReply
from bot.services.channels import STORE_OUTAGE, WebChatSessions
from bot.services.front_desk import RATE_LIMITED, FrontDesk, Refusal
from bot.web.responses import json_error

PLATFORM = "webchat"
STATIC = Path(__file__).with_name("webchat_static")
ACTION = re.compile(r"^[A-Za-z0-9:_-]{1,100}$")
MAX_BODY_BYTES = 64 * 1024


def _reply_json(reply: OutboundReply) -> dict:
    return {"text": reply.text, "buttons": [{"label": b.label, "action": b.action} for b in reply.buttons]}


MAX_WAIT_SECONDS = 25
# The HTTP status of a refused message, by the refusal's code (any other: 400).
REFUSAL_STATUS = {"too_long": 413, "rate_limited": 429, "unavailable": 503}


def _refused(refusal: Refusal, message: str | None = None) -> web.Response:
    status = REFUSAL_STATUS.get(refusal.code, 400)
    return json_error(status, refusal.code, message or refusal.reason, reply=refusal.reply)


class WebChat:
    """The web chat channel: its page and API, and the delivery of its outbox into sessions."""

    platform, listens = PLATFORM, False  # reached over HTTP: every worker serves it

    def __init__(self, desk: FrontDesk, settings: WebSettings, sessions: WebChatSessions,
                 secret: str | None = None) -> None:  # fmt: skip
        self.desk = desk
        self.settings = settings
        self.sessions = sessions  # each session's lines, and how many it sent this minute
        self.in_order = PerChat()
        self.secret = secret  # WEBCHAT_SESSION_SECRET; without it the one kept in Redis
        self.ids: SessionIds | None = None  # set by `start`, before the first request
        self.polls = HeldPolls(max(1, settings.polls_per_session), settings.polls_per_address, settings.polls_total)
        self.uploads = WebChatUploads(self)
        self.followup = WebChatFollowUp(self)

    async def start(self) -> None:
        """The key that signs session ids; the page and API are served with the bot's HTTP server."""
        secret = self.secret.encode() if self.secret else await self.sessions.signing_secret()
        self.ids = SessionIds(secret)

    async def stop(self) -> None:
        """Long polls are no longer woken."""
        await self.sessions.close()

    def refused_session(self, request: web.Request, write: bool = False) -> web.Response | None:
        """404 for a session id this server did not issue; 415 for a write that is not JSON."""
        session = request.match_info["session"]
        if self.ids is None or not self.ids.issued(session):
            return json_error(404, "unknown_session", "this chat session was not issued by this server: "
                              "get one with POST /api/webchat/sessions")  # fmt: skip
        return _not_json(request) if write else None

    def client_address(self, request: web.Request) -> str:
        if self.settings.trust_forwarded_for and request.headers.get("X-Forwarded-For"):
            return request.headers["X-Forwarded-For"].split(",")[-1].strip()
        return request.remote or "?"

    async def too_fast(self, request: web.Request, session: str) -> web.Response | None:
        """A 429 when the session or the client's address is over its messages a minute."""
        counts = await self.sessions.count_sends(session, self.client_address(request), int(time.time() // 60))
        if counts is None:
            return None  # during an outage the message is refused anyway, with "we'll answer shortly"
        by_session, by_address = counts
        if by_session <= self.settings.rate_per_session_minute and by_address <= self.settings.rate_per_ip_minute:
            return None
        wait = 60 - int(time.time()) % 60
        refusal = self.desk.refusal(RATE_LIMITED, language_hint(request))
        response = _refused(refusal, f"too many messages; try again in {wait} s")
        response.headers["Retry-After"] = str(wait)
        return response

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/", self.page),
            web.post("/api/webchat/sessions", self.new_session),
            web.post("/api/webchat/{session}/messages", self.post_message),
            web.get("/api/webchat/{session}/messages", self.get_messages),
            web.post("/api/webchat/{session}/press", self.press),
            web.post("/api/webchat/{session}/files", self.uploads.post_file),
            web.get("/api/webchat/{session}/files/{id}", self.uploads.get_file),
            web.post("/api/webchat/{session}/followup", self.followup.post_address),
            web.static("/webchat", STATIC),
        ]

    async def deliver(self, reply: OutboundReply, conversation: str, sender: str) -> None:
        """A later reply into the session (with an agent's files' names); one that answers a
        message of the page (recovered after a crash) names its client id."""
        answers = {"answers": reply.reply_to} if reply.reply_to else {}
        files = await self.uploads.attached(reply.chat_id, reply.files) if reply.files else []
        await self.sessions.append(reply.chat_id, sender, reply, files, **answers)

    async def new_session(self, request: web.Request) -> web.Response:
        """A new session id; whether the page offers /link, /unlink and replies by e-mail."""
        refused = _not_json(request)
        if refused is not None:
            return refused
        if self.ids is None:
            return json_error(503, "unavailable", "the chat is starting; try again")
        return web.json_response({"session": self.ids.issue(), "accounts": self.desk.accounts_enabled,
                                  "followup_by_email": self.desk.followup_enabled}, status=201)  # fmt: skip

    async def get_messages(self, request: web.Request) -> web.Response:
        refused = self.refused_session(request)
        if refused is not None:
            return refused
        session = request.match_info["session"]
        after = request.query.get("after", "0-0")
        if not is_cursor(after):
            return json_error(400, "bad_cursor", "after must be a cursor returned by this API")
        try:
            wait = min(MAX_WAIT_SECONDS, max(0.0, float(request.query.get("wait", "0"))))
        except ValueError:
            return json_error(400, "bad_wait", "wait is a number of seconds")
        try:
            lines = await self._lines(request, session, after, wait)
        except PollRefused as refusal:
            response = json_error(refusal.status, refusal.code, refusal.message)
            response.headers["Retry-After"] = "5"
            response.force_close()  # a flood's sockets are not kept open for it
            return response
        except STORE_OUTAGE:
            return json_error(503, "unavailable", "the chat's history cannot be read this moment; try again")
        if lines is None:
            return json_error(409, "poll_replaced", "a newer poll of this session took this one's place")
        messages = []
        for entry_id, data in lines:
            messages.append({
                "id": entry_id, "from": data["from"], "text": data["text"],
                "buttons": [{"label": label, "action": action} for label, action in json.loads(data["buttons"])],
                **{name: data[name] for name in ("reply_to", "client_id", "answers", "replaces") if name in data},
                **({"files": json.loads(data["files"])} if "files" in data else {}),
            })  # fmt: skip
        cursor = messages[-1]["id"] if messages else after
        return web.json_response({"messages": messages, "cursor": cursor})

    async def _lines(self, request: web.Request, session: str, after: str, wait: float) -> list | None:
        """The session's lines after `after`, waiting up to `wait` s while holding a poll; None
        when a newer poll of the session replaced this one."""
        if not wait:
            return await self.sessions.lines_after(session, after, 0)
        address = self.client_address(request)
        return await self.polls.held(session, address, lambda: self.sessions.lines_after(session, after, wait))

    async def page(self, request: web.Request) -> web.Response:
        return web.FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)

    async def post_message(self, request: web.Request) -> web.Response:
        refused = self.refused_session(request, write=True)
        if refused is not None:
            return refused
        session = request.match_info["session"]
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
        # ValueError: not UTF-8, not JSON, a 4,300-digit number; RecursionError: `[` x 30,000
        except (ValueError, RecursionError):
            return json_error(400, "bad_json", 'the body must be a JSON object like {"text": "..."}')
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return json_error(400, "bad_json", 'the body must be a JSON object like {"text": "..."}')
        client_id = body.get("client_id")
        client_id = client_id if isinstance(client_id, str) and CLIENT_ID.match(client_id) else None
        # The page's client id is the message's idempotency key: a resend is answered once.
        message = InboundMessage(
            platform=PLATFORM, chat_id=session, chat_kind="private", user_id=session,
            text=body["text"], addressed=True, language_hint=language_hint(request), message_id=client_id or "",
        )  # fmt: skip
        # One session's messages one after another: its stream reads question, answer, question...
        return await self.in_order.run(session, lambda: self._answer(message, body["text"], client_id))

    async def _answer(self, message: InboundMessage, text: str, client_id: str | None) -> web.Response:
        session = message.chat_id
        mine = {"client_id": client_id} if client_id else {}
        lines: dict[str, str] = {}

        async def record(decision: Decision) -> None:
            """The user's line (as stored: redacted), then the reply, once per client id."""
            if decision.earlier_redacted:  # the first half of a secret this message completed
                await self.sessions.redact_user_lines(session, decision.earlier_redacted)
            said = OutboundReply(PLATFORM, session, decision.redacted_text or text)
            lines["said"], lines["reply"] = await self.sessions.append_exchange(
                session, said, decision.reply, once=message.once_key, **mine)  # fmt: skip
            lines["cursor"] = lines["reply"] or lines["said"]

        decision = await self.desk.answer(message, record)
        if isinstance(decision, Refusal):  # nothing was taken: the page keeps the text and sends it again
            return _refused(decision)
        if decision.action is Action.DUPLICATE:  # taken before: its lines come (or came) by GET
            return web.json_response({"replies": [], "action": decision.action.value, "duplicate": True,
                                      "message": {**mine}})  # fmt: skip
        replies = []
        if decision.reply and lines.get("reply"):
            replies.append({**_reply_json(decision.reply), "id": lines["reply"], "reply_to": lines["said"]})
        await self.sessions.replicated()  # the answer outlives a failover once the user has it
        said = {"id": lines["said"], "text": decision.redacted_text or text, **mine}
        body = {"replies": replies, "language": decision.language, "action": decision.action.value,
                "cursor": lines["cursor"], "message": said}  # fmt: skip
        return web.json_response(body)

    async def press(self, request: web.Request) -> web.Response:
        """A button under one of the bot's messages ("Was this helpful?", a rating, "Talk to a
        person"); what follows arrives through GET like any later reply."""
        refused = self.refused_session(request, write=True)
        if refused is not None:
            return refused
        session = request.match_info["session"]
        try:
            body = json.loads((await request.content.read(4096)).decode("utf-8"))
        # ValueError: not UTF-8, not JSON, a 4,300-digit number; RecursionError: `[` x 2,000
        except (ValueError, RecursionError):
            body = None
        limited = await self.too_fast(request, session)
        if limited is not None:  # (a Response is falsy: it is an empty mapping)
            return limited
        action = body.get("action") if isinstance(body, dict) else None
        if not isinstance(action, str) or not ACTION.match(action):
            return json_error(400, "bad_action", 'the body must be {"action": "<a button\'s action>"}')
        message = InboundMessage(platform=PLATFORM, chat_id=session, chat_kind="private", user_id=session, text="",
                                 language_hint=language_hint(request))  # fmt: skip
        try:
            await self.desk.press(message, action)
        except STORE_OUTAGE:
            return json_error(503, "unavailable", "the bot cannot take this press this moment; try again")
        return web.json_response({"ok": True}, status=202)


def _not_json(request: web.Request) -> web.Response | None:
    """415 unless the body is declared JSON, which a cross-site form cannot send."""
    declared = request.headers.get("Content-Type", "").partition(";")[0].strip().lower()  # aiohttp's is slow
    return None if declared == "application/json" else json_error(
        415, "not_json", "send the body as JSON, with Content-Type: application/json")  # fmt: skip


_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors *",
    "X-Content-Type-Options": "nosniff",
}

