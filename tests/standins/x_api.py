"""A stand-in for X's API v2 on 127.0.0.1, for running the real tweepy (Client and AsyncClient) against.

Serves what the bot uses: `GET /2/users/me`, `GET /2/users/:id`, `GET /2/users/:id/mentions`, `POST /2/tweets`,
`POST /2/dm_conversations/with/:participant_id/messages` and `GET /2/dm_events`, answered the way X answers
(field selection, expansions, pagination tokens, problem-style error bodies, x-rate-limit-* headers), and
refusing what X refuses: a post whose text the account already posted within `duplicate_window_seconds`.

tweepy has `https://api.twitter.com` as a literal, so the client's session must hand requests to `base_url`:
a wrapper whose `request(method, url, **kwargs)` swaps scheme, host and port of both `str` and (already
encoded, OAuth 1.0a-signed) `yarl.URL` urls and passes everything else through untouched. Signatures are
not checked here; an Authorization header (`Bearer ...` or `OAuth ...`) is required all the same.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import math
import re
import threading
import time
from collections.abc import Callable

from aiohttp import web

from tests.conftest import free_port

BOT_USER_ID = "1500000000000000001"
BOT_USERNAME = "ExampleX"

# Route keys for rate_limit(), with the 15-minute limits announced in x-rate-limit-limit (announced only:
# nothing is enforced unless rate_limit() asks for it).
LIMITS = {"me": 75, "user": 900, "mentions": 450, "tweets": 200, "dm_send": 200, "dm_events": 300}
WINDOW = 15 * 60
# X does not publish how long it remembers a text as duplicate; an hour outlasts any test run.
DUPLICATE_WINDOW = 60 * 60
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."

TWEET_FIELDS = {
    "article", "attachments", "author_id", "card_uri", "community_id", "context_annotations", "conversation_id",
    "created_at", "display_text_range", "edit_controls", "edit_history_tweet_ids", "entities", "geo", "id",
    "in_reply_to_user_id", "lang", "media_metadata", "non_public_metrics", "note_tweet", "organic_metrics",
    "possibly_sensitive", "promoted_metrics", "public_metrics", "referenced_tweets", "reply_settings", "scopes",
    "source", "text", "withheld",
}  # fmt: skip
USER_FIELDS = {
    "affiliation", "connection_status", "created_at", "description", "entities", "id", "location",
    "most_recent_tweet_id", "name", "pinned_tweet_id", "profile_banner_url", "profile_image_url", "protected",
    "public_metrics", "receives_your_dm", "subscription_type", "url", "username", "verified", "verified_type",
    "withheld",
}  # fmt: skip
TWEET_EXPANSIONS = {
    "attachments.media_keys", "attachments.media_source_tweet", "attachments.poll_ids", "author_id",
    "edit_history_tweet_ids", "entities.mentions.username", "geo.place_id", "in_reply_to_user_id",
    "entities.note.mentions.username", "referenced_tweets.id", "referenced_tweets.id.attachments.media_keys",
    "referenced_tweets.id.author_id",
}  # fmt: skip
DM_EVENT_FIELDS = {
    "attachments", "created_at", "dm_conversation_id", "entities", "event_type", "id", "participant_ids",
    "referenced_tweets", "sender_id", "text",
}  # fmt: skip
DM_EXPANSIONS = {"attachments.media_keys", "participant_ids", "referenced_tweets.id", "sender_id"}
DM_EVENT_TYPES = {"MessageCreate", "ParticipantsJoin", "ParticipantsLeave"}
COMMON_PARAMS = {"media.fields", "place.fields", "poll.fields"}

_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})(?!\w)")
_HASHTAG = re.compile(r"(?<![\w#&])#(\w*[^\W\d]\w*)")
_MENTIONS_BOT = re.compile(rf"(?<![\w@])@{BOT_USERNAME}(?!\w)", re.IGNORECASE)

# twitter-text v3: these code point ranges weigh 1, every other code point 2; a URL weighs 23.
_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_URL = re.compile(r"(?<![\w@$#./-])https?://(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?::\d+)?(?:[/?#][^\s]*)?",
                  re.IGNORECASE)  # fmt: skip
_URL_END = set("=_#/+-")


def _trim_url(url: str) -> str:
    """Drop trailing punctuation the way twitter-text does: 'see https://x.com/a.' links 'https://x.com/a'."""
    while url:
        last = url[-1]
        if last.isalnum() or last in _URL_END or (last == "&" and "?" in url):
            break
        if last == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _urls(text: str) -> list[tuple[int, int, str]]:
    found = []
    for match in _URL.finditer(text):
        url = _trim_url(match.group())
        if "://" in url and "." in url.split("://", 1)[1]:
            found.append((match.start(), match.start() + len(url), url))
    return found


def weighted_length(text: str) -> int:
    """X's weighted length of a post (twitter-text v3 rules): code points in 0-4351, 8192-8205, 8208-8223 and
    8242-8247 weigh 1, all others 2, and every http(s) URL 23 whatever its length. A post may weigh 280."""
    total = 0
    position = 0
    for start, end, _ in _urls(text):
        total += _weigh(text[position:start]) + 23
        position = end
    return total + _weigh(text[position:])


def _weigh(text: str) -> int:
    return sum(1 if any(low <= ord(char) <= high for low, high in _LIGHT) else 2 for char in text)


def _now_iso() -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _problem(status: int, title: str, detail: str, kind: str = "about:blank", **extra: object) -> dict:
    return {"title": title, "detail": detail, "type": kind, "status": status, **extra}


def _invalid(parameter: str, value: str, message: str) -> tuple[int, dict]:
    return 400, {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


class _BadRequest(Exception):
    def __init__(self, answer: tuple[int, dict]) -> None:
        super().__init__(answer[1])
        self.answer = answer


class XStandIn:
    def __init__(self) -> None:
        self.port = free_port()
        self.calls: list[tuple[str, str, dict]] = []
        self.dm_forbidden: set[str] = set()  # users who do not accept DMs from the bot: 403
        self.auth_failure: int | None = None  # 401 (bad credentials) or 403 (app lacks access): every request
        self.app_only_bearer = True  # a Bearer token is app-only: user-context endpoints answer 403 to it
        self.duplicate_window_seconds: float = DUPLICATE_WINDOW  # a text repeated within it: 403, as X does
        self.all_posts_duplicate = False  # every post refused as duplicate (a refusal that persists)
        self.read_only_app = False  # the app has Read permission only: posts and DMs answer 403
        self._tweets: dict[str, dict] = {}
        self._posts: list[dict] = []
        self._posted_at: list[tuple[float, str]] = []  # (time, text) of every post, for the duplicate check
        self._dm_events: list[dict] = []
        self._dms_sent: list[dict] = []
        self._users: dict[str, dict] = {BOT_USER_ID: {"id": BOT_USER_ID, "name": "ExampleX", "username": BOT_USERNAME}}
        self._ids = itertools.count(1790000000000000000, 7919)
        self._page_tokens: dict[str, int] = {}
        self._rate_limited: dict[str, int] = {}
        self._reset_at: dict[str, float] = {}
        self._windows: dict[str, list] = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # serving

    def start(self) -> XStandIn:
        threading.Thread(target=self._serve, daemon=True, name="x-standin").start()
        if not self._ready.wait(10):
            raise RuntimeError("the X stand-in did not start listening")
        return self

    def stop(self) -> None:
        if self._loop and self._runner:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)

    def _serve(self) -> None:
        self._loop = loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        loop.run_until_complete(self._runner.setup())
        loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        loop.run_forever()

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        if request.method == "GET":
            params: dict = dict(request.query)
        else:
            try:
                params = await request.json() if request.can_read_body else {}
            except ValueError:
                params = {"_body": await request.text()}
            if not isinstance(params, dict):
                params = {"_body": params}
        route, handler, args = self._route(request.method, path)
        headers = {}
        with self._lock:
            status, body = self._check(request, route)
            if status is None:
                try:
                    status, body = handler(params, *args)
                except _BadRequest as bad:
                    status, body = bad.answer
            if route:
                headers = self._limit_headers(route, status)
            self.calls.append((request.method if status < 300 else f"{request.method}:{status}", path, params))
        return web.json_response(body, status=status, headers=headers)

    def _route(self, method: str, path: str) -> tuple[str | None, Callable, tuple]:
        if method == "GET" and path == "/2/users/me":
            return "me", self._get_me, ()
        if method == "GET" and (match := re.fullmatch(r"/2/users/(\d+)", path)):
            return "user", self._get_user, (match.group(1),)
        if method == "GET" and (match := re.fullmatch(r"/2/users/([^/]+)/mentions", path)):
            return "mentions", self._get_mentions, (match.group(1),)
        if method == "POST" and path == "/2/tweets":
            return "tweets", self._create_tweet, ()
        if method == "POST" and (match := re.fullmatch(r"/2/dm_conversations/with/([^/]+)/messages", path)):
            return "dm_send", self._send_dm, (match.group(1),)
        if method == "POST" and (match := re.fullmatch(r"/2/dm_conversations/(\d+-\d+)/messages", path)):
            return "dm_send", self._send_dm_to_conversation, (match.group(1),)
        if method == "GET" and path == "/2/dm_events":
            return "dm_events", self._get_dm_events, (None,)
        if method == "GET" and (match := re.fullmatch(r"/2/dm_conversations/with/(\d+)/dm_events", path)):
            return "dm_events", self._get_dm_events, (self._conversation_id(match.group(1)),)
        if method == "GET" and (match := re.fullmatch(r"/2/dm_conversations/(\d+-\d+)/dm_events", path)):
            return "dm_events", self._get_dm_events, (match.group(1),)
        return None, self._not_found, ()

    def _check(self, request: web.Request, route: str | None) -> tuple[int | None, dict]:
        """Authentication, access level and rate limits, in X's order; (None, {}) lets the request through."""
        auth = request.headers.get("Authorization", "")
        if not auth.startswith(("Bearer ", "OAuth ")) or self.auth_failure == 401:
            return 401, _problem(401, "Unauthorized", "Unauthorized")
        if self.auth_failure == 403:
            return 403, _problem(
                403,
                "Client Forbidden",
                "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a "
                "Twitter developer App that is attached to a Project. You can create a project via the developer "
                "portal.",
                "https://api.twitter.com/2/problems/client-forbidden",
                reason="client-not-enrolled",
                registration_url="https://developer.twitter.com/en/docs/projects/overview",
                required_enrollment="Appropriate Level of API Access",
            )
        if auth.startswith("Bearer ") and self.app_only_bearer and route in ("me", "tweets", "dm_send", "dm_events"):
            return 403, _problem(
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
                "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
                "https://api.twitter.com/2/problems/unsupported-authentication",
            )
        if self.read_only_app and route in ("tweets", "dm_send"):
            return 403, _problem(
                403,
                "Forbidden",
                "Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.",
                "https://api.twitter.com/2/problems/oauth1-permissions",
            )
        if route is not None and self._rate_limited.get(route, 0) > 0:
            self._rate_limited[route] -= 1
            return 429, _problem(429, "Too Many Requests", "Too Many Requests")
        return None, {}

    def _limit_headers(self, route: str, status: int) -> dict:
        now = time.time()
        if status == 429:
            return {
                "x-rate-limit-limit": str(LIMITS[route]),
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(math.ceil(self._reset_at.get(route, now))),
            }
        window = self._windows.get(route)
        if window is None or now >= window[0] + WINDOW:
            window = self._windows[route] = [now, 0]
        window[1] += 1
        return {
            "x-rate-limit-limit": str(LIMITS[route]),
            "x-rate-limit-remaining": str(max(LIMITS[route] - window[1], 1)),
            "x-rate-limit-reset": str(math.ceil(window[0] + WINDOW)),
        }

    # endpoints (called with the lock held)

    def _not_found(self, params: dict) -> tuple[int, dict]:
        return 404, {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}

    def _get_me(self, params: dict) -> tuple[int, dict]:
        self._allowed(params, {"expansions", "tweet.fields", "user.fields"})
        self._fields(params, "user.fields", USER_FIELDS)
        return 200, {"data": dict(self._users[BOT_USER_ID])}

    def _get_user(self, params: dict, user_id: str) -> tuple[int, dict]:
        self._allowed(params, {"expansions", "tweet.fields", "user.fields"})
        fields = self._fields(params, "user.fields", USER_FIELDS)
        if user_id not in self._users:
            return 200, {"errors": [{
                "value": user_id, "detail": f"Could not find user with id: [{user_id}].", "title": "Not Found Error",
                "resource_type": "user", "parameter": "id", "resource_id": user_id,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }]}  # fmt: skip
        return 200, {"data": self._render_user(user_id, fields)}

    def _get_mentions(self, params: dict, user_id: str) -> tuple[int, dict]:
        if not user_id.isdigit():
            return _invalid("id", user_id, f"The `id` query parameter value [{user_id}] does not match ^[0-9]{{1,19}}$")
        self._allowed(
            params,
            {"end_time", "expansions", "max_results", "pagination_token", "since_id", "start_time", "tweet.fields",
             "until_id", "user.fields"} | COMMON_PARAMS,
        )  # fmt: skip
        tweet_fields = self._fields(params, "tweet.fields", TWEET_FIELDS)
        user_fields = self._fields(params, "user.fields", USER_FIELDS)
        expansions = self._fields(params, "expansions", TWEET_EXPANSIONS)
        limit = self._max_results(params, 5, 100, 10)
        since = self._id_param(params, "since_id")
        until = self._id_param(params, "until_id")
        found = sorted(
            (t for t in self._tweets.values() if user_id == BOT_USER_ID and t["_mentions_bot"]),
            key=lambda t: int(t["id"]),
            reverse=True,
        )
        found = [
            t for t in found if (since is None or int(t["id"]) > since) and (until is None or int(t["id"]) < until)
        ]
        page, meta = self._page(found, params, limit)
        if not page:
            return 200, {"meta": meta}
        answer: dict = {"data": [self._render_tweet(t, tweet_fields) for t in page]}
        includes, errors = self._tweet_includes(page, expansions, tweet_fields, user_fields)
        if includes:
            answer["includes"] = includes
        if errors:
            answer["errors"] = errors
        answer["meta"] = meta
        return 200, answer

    def _create_tweet(self, params: dict) -> tuple[int, dict]:
        text = params.get("text")
        if not isinstance(text, str) or not text:
            if "media" not in params:
                return 400, {
                    "errors": [{"message": "Invalid Request: One or more parameters to your request was invalid."}],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                }
            text = ""
        if weighted_length(text) > 280:
            return 403, _problem(
                403,
                "Forbidden",
                "Your Tweet text is too long. For more information on how Twitter determines text length see "
                "https://github.com/twitter/twitter-text.",
            )
        if self._duplicate(text):
            return 403, _problem(403, "Forbidden", DUPLICATE)
        reply_to = (params.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to is not None and str(reply_to) not in self._tweets:
            return 403, _problem(
                403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you."
            )
        tweet = self._new_tweet(text, BOT_USER_ID, "en", reply_to=None if reply_to is None else str(reply_to))
        tweet["_mentions_bot"] = bool(_MENTIONS_BOT.search(text))
        self._posts.append({"id": tweet["id"], "text": text, "in_reply_to_tweet_id": tweet["_reply_to"]})
        self._posted_at.append((time.monotonic(), text))
        return 201, {"data": {"id": tweet["id"], "text": text, "edit_history_tweet_ids": [tweet["id"]]}}

    def _duplicate(self, text: str) -> bool:
        """X refuses a text the account posted recently, a reply to another post included."""
        since = time.monotonic() - self.duplicate_window_seconds
        return self.all_posts_duplicate or any(at >= since and posted == text for at, posted in self._posted_at)

    def _send_dm_to_conversation(self, params: dict, conversation_id: str) -> tuple[int, dict]:
        members = conversation_id.split("-")
        if BOT_USER_ID not in members:
            return 403, _problem(403, "Forbidden", "You are not a participant of this conversation.")
        others = [m for m in members if m != BOT_USER_ID] or [BOT_USER_ID]
        return self._send_dm(params, others[0])

    def _send_dm(self, params: dict, participant_id: str) -> tuple[int, dict]:
        if not participant_id.isdigit():
            return _invalid(
                "participant_id",
                participant_id,
                f"The `participant_id` query parameter value [{participant_id}] does not match ^[0-9]{{1,19}}$",
            )
        text = params.get("text")
        if not params.get("attachments") and (not isinstance(text, str) or not text):
            return 400, _problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "https://api.twitter.com/2/problems/invalid-request",
                errors=[{"message": "Direct Message must contain either text or attachments"}],
            )
        if isinstance(text, str) and len(text) > 10000:
            return 400, _problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "https://api.twitter.com/2/problems/invalid-request",
                errors=[{"message": "Text cannot be longer than 10000 characters"}],
            )
        if participant_id in self.dm_forbidden:
            return 403, _problem(403, "Forbidden", "You are not allowed to create a Direct Message with this user.")
        event = self._new_dm(BOT_USER_ID, participant_id, text or "")
        self._dms_sent.append({"participant_id": participant_id, "text": text or "", "dm_event_id": event["id"]})
        return 201, {"data": {"dm_conversation_id": event["dm_conversation_id"], "dm_event_id": event["id"]}}

    def _get_dm_events(self, params: dict, conversation_id: str | None) -> tuple[int, dict]:
        self._allowed(
            params,
            {"dm_event.fields", "event_types", "expansions", "max_results", "pagination_token", "tweet.fields",
             "user.fields", "media.fields"},
        )  # fmt: skip
        fields = self._fields(params, "dm_event.fields", DM_EVENT_FIELDS)
        expansions = self._fields(params, "expansions", DM_EXPANSIONS)
        user_fields = self._fields(params, "user.fields", USER_FIELDS)
        self._fields(params, "tweet.fields", TWEET_FIELDS)
        kinds = self._fields(params, "event_types", DM_EVENT_TYPES) or DM_EVENT_TYPES
        limit = self._max_results(params, 1, 100, 100)
        found = [
            e
            for e in reversed(self._dm_events)
            if e["event_type"] in kinds and (conversation_id is None or e["dm_conversation_id"] == conversation_id)
        ]
        page, meta = self._page(found, params, limit)
        if not page:
            return 200, {"meta": meta}
        default = {"id", "event_type", "text"}
        answer: dict = {"data": [{k: v for k, v in e.items() if k in default | fields} for e in page]}
        if "sender_id" in expansions:
            senders = list(dict.fromkeys(e["sender_id"] for e in page))
            answer["includes"] = {"users": [self._render_user(s, user_fields) for s in senders]}
        answer["meta"] = meta
        return 200, answer

    # request parsing

    @staticmethod
    def _allowed(params: dict, known: set[str]) -> None:
        for name in params:
            if name not in known:
                raise _BadRequest(
                    _invalid(
                        name, params[name], f"The query parameter [{name}] is not one of [{','.join(sorted(known))}]"
                    )
                )

    @staticmethod
    def _fields(params: dict, name: str, known: set[str]) -> set[str]:
        values = [v for v in str(params.get(name, "")).split(",") if v]
        for value in values:
            if value not in known:
                raise _BadRequest(
                    _invalid(
                        name,
                        value,
                        f"The `{name}` query parameter value [{value}] is not one of [{','.join(sorted(known))}]",
                    )
                )
        return set(values)

    @staticmethod
    def _max_results(params: dict, low: int, high: int, default: int) -> int:
        value = params.get("max_results")
        if value is None:
            return default
        if not str(value).isdigit() or not low <= int(value) <= high:
            raise _BadRequest(
                _invalid(
                    "max_results",
                    str(value),
                    f"The `max_results` query parameter value [{value}] is not between {low} and {high}",
                )
            )
        return int(value)

    @staticmethod
    def _id_param(params: dict, name: str) -> int | None:
        value = params.get(name)
        if value is None:
            return None
        if not str(value).isdigit() or len(str(value)) > 19:
            raise _BadRequest(
                _invalid(
                    name, str(value), f"The `{name}` query parameter value [{value}] does not match ^[0-9]{{1,19}}$"
                )
            )
        return int(value)

    def _page(self, found: list[dict], params: dict, limit: int) -> tuple[list[dict], dict]:
        """One page of `found` (newest first) from the pagination_token on, and X's meta for it."""
        token = params.get("pagination_token")
        if token is not None:
            if token not in self._page_tokens:
                raise _BadRequest(
                    _invalid(
                        "pagination_token",
                        token,
                        f"The `pagination_token` query parameter value [{token}] is not valid",
                    )
                )
            anchor = self._page_tokens[token]
            found = [item for item in found if int(item["id"]) <= anchor]
        page, rest = found[:limit], found[limit:]
        meta: dict = {"result_count": len(page)}
        if page:
            meta["newest_id"] = page[0]["id"]
            meta["oldest_id"] = page[-1]["id"]
        if rest:
            next_token = f"7140dibdnow9c7btw4{int(rest[0]['id']):x}"
            self._page_tokens[next_token] = int(rest[0]["id"])
            meta["next_token"] = next_token
        return page, meta

    # rendering

    def _render_user(self, user_id: str, fields: set[str]) -> dict:
        user = self._users.get(user_id) or {
            "id": user_id,
            "name": f"User {user_id[-4:]}",
            "username": f"user{user_id[-6:]}",
        }
        return {k: v for k, v in user.items() if k in {"id", "name", "username"} | fields}

    def _render_tweet(self, tweet: dict, fields: set[str]) -> dict:
        shown = {"id", "text", "edit_history_tweet_ids"} | fields
        return {k: v for k, v in tweet.items() if not k.startswith("_") and k in shown}

    def _tweet_includes(
        self, page: list[dict], expansions: set[str], tweet_fields: set[str], user_fields: set[str]
    ) -> tuple[dict, list[dict]]:
        user_ids: list[str] = []
        tweets: list[dict] = []
        errors: list[dict] = []
        for tweet in page:
            if "author_id" in expansions:
                user_ids.append(tweet["author_id"])
            if "in_reply_to_user_id" in expansions and tweet.get("in_reply_to_user_id"):
                user_ids.append(tweet["in_reply_to_user_id"])
            if "entities.mentions.username" in expansions:
                user_ids += [m["id"] for m in tweet["entities"].get("mentions", []) if "id" in m]
            if "referenced_tweets.id" in expansions or "referenced_tweets.id.author_id" in expansions:
                for ref in tweet.get("referenced_tweets", []):
                    referenced = self._tweets.get(ref["id"])
                    if referenced is None:
                        errors.append({
                            "value": ref["id"],
                            "detail": f"Could not find tweet with referenced_tweets.id: [{ref['id']}].",
                            "title": "Not Found Error",
                            "resource_type": "tweet",
                            "parameter": "referenced_tweets.id",
                            "resource_id": ref["id"],
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        })  # fmt: skip
                        continue
                    if "referenced_tweets.id" in expansions and all(t["id"] != ref["id"] for t in tweets):
                        tweets.append(self._render_tweet(referenced, tweet_fields))
                    if "referenced_tweets.id.author_id" in expansions:
                        user_ids.append(referenced["author_id"])
        includes: dict = {}
        if user_ids:
            includes["users"] = [self._render_user(u, user_fields) for u in dict.fromkeys(user_ids)]
        if tweets:
            includes["tweets"] = tweets
        return includes, errors

    # building the world

    def _next_id(self) -> str:
        return str(next(self._ids))

    def _conversation_id(self, participant_id: str) -> str:
        """X names a one-to-one conversation by both user ids, the smaller first."""
        return "-".join(sorted((BOT_USER_ID, participant_id), key=int))

    def _entities(self, text: str) -> dict:
        by_name = {u["username"].lower(): u["id"] for u in self._users.values()}
        entities: dict = {}
        mentions = []
        for match in _MENTION.finditer(text):
            mention = {"start": match.start(), "end": match.end(), "username": match.group(1)}
            if match.group(1).lower() in by_name:
                mention["id"] = by_name[match.group(1).lower()]
            mentions.append(mention)
        if mentions:
            entities["mentions"] = mentions
        hashtags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG.finditer(text)]
        if hashtags:
            entities["hashtags"] = hashtags
        urls = [
            {"start": start, "end": end, "url": url, "expanded_url": url, "display_url": url.split("://", 1)[1][:26]}
            for start, end, url in _urls(text)
        ]
        if urls:
            entities["urls"] = urls
        return entities

    def _new_tweet(
        self,
        text: str,
        author_id: str,
        lang: str,
        *,
        reply_to: str | None = None,
        retweet_of: str | None = None,
    ) -> dict:
        tweet_id = self._next_id()
        tweet: dict = {
            "id": tweet_id,
            "text": text,
            "edit_history_tweet_ids": [tweet_id],
            "author_id": author_id,
            "conversation_id": tweet_id,
            "created_at": _now_iso(),
            "lang": lang,
            "_reply_to": reply_to,
        }
        if reply_to is not None:
            replied = self._tweets.get(reply_to)
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
            tweet["in_reply_to_user_id"] = replied["author_id"] if replied else BOT_USER_ID
            tweet["conversation_id"] = replied["conversation_id"] if replied else reply_to
        elif retweet_of is not None:
            tweet["referenced_tweets"] = [{"type": "retweeted", "id": retweet_of}]
        tweet["entities"] = self._entities(text)
        tweet["_mentions_bot"] = True
        self._tweets[tweet_id] = tweet
        return tweet

    def _new_dm(self, sender_id: str, participant_id: str, text: str) -> dict:
        event = {
            "id": self._next_id(),
            "event_type": "MessageCreate",
            "text": text,
            "sender_id": sender_id,
            "dm_conversation_id": self._conversation_id(participant_id),
            "created_at": _now_iso(),
        }
        self._dm_events.append(event)
        return event

    # for tests

    def mention(
        self,
        text: str,
        user_id: str = "1600000000000000001",
        username: str | None = None,
        lang: str = "en",
        *,
        reply_to: str | None = None,
        retweet_of: str | None = None,
        author_is_bot: bool = False,
    ) -> str:
        """A new post mentioning the bot (the text as given), in its mentions timeline; returns the post's id.
        Every user has their own username (`user` and the id's last 6 digits unless given), as on X.
        A retweet's text is 'RT @<original author>: <text>' unless the text already starts with 'RT @'."""
        with self._lock:
            if author_is_bot:
                user_id, username = BOT_USER_ID, BOT_USERNAME
            else:
                username = username or f"user{user_id[-6:]}"
                self._users[user_id] = {"id": user_id, "name": username.capitalize(), "username": username}
            if retweet_of is not None and not text.startswith("RT @"):
                original = self._tweets.get(retweet_of)
                author = self._users.get(original["author_id"], {}) if original else {}
                text = f"RT @{author.get('username', BOT_USERNAME)}: {text}"
            return self._new_tweet(text, user_id, lang, reply_to=reply_to, retweet_of=retweet_of)["id"]

    def dm(self, sender_id: str, text: str) -> str:
        """A direct message from a user to the bot, in GET /2/dm_events; returns the event's id."""
        with self._lock:
            return self._new_dm(sender_id, sender_id, text)["id"]

    def posts(self) -> list[dict]:
        """The posts the bot created, in order: {"id", "text", "in_reply_to_tweet_id"}."""
        with self._lock:
            return [dict(p) for p in self._posts]

    def wait_posts(
        self, count: int = 1, timeout: float = 30, predicate: Callable[[dict], bool] | None = None
    ) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = [p for p in self.posts() if predicate is None or predicate(p)]
            if len(found) >= count or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)

    def dms_sent(self, participant_id: str | None = None) -> list[dict]:
        """The DMs the bot sent, in order: {"participant_id", "text", "dm_event_id"}."""
        with self._lock:
            return [dict(d) for d in self._dms_sent if participant_id is None or d["participant_id"] == participant_id]

    def wait_dms(self, participant_id: str, count: int = 1, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.dms_sent(participant_id)
            if len(found) >= count or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)

    def rate_limit(self, endpoint: str, times: int = 1, reset_in: float = 2) -> None:
        """The next `times` requests to `endpoint` ("me", "user", "mentions", "tweets", "dm_send", "dm_events") answer
        429, announcing x-rate-limit-reset = now + reset_in (epoch seconds, rounded up)."""
        if endpoint not in LIMITS:
            raise ValueError(f"unknown endpoint {endpoint!r}: one of {', '.join(LIMITS)}")
        with self._lock:
            self._rate_limited[endpoint] = times
            self._reset_at[endpoint] = time.time() + reset_in
