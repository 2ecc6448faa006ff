"""X (Twitter), through tweepy's API v2 AsyncClient: public @-mentions and DMs.

On when X_BEARER_TOKEN, X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_SECRET are in the
environment (the app needs "Read and write and Direct message" access).

One replica polls at a time: the leader holds a Redis lock that it renews every poll and that
expires when it dies. The last mention and DM handled are kept in Redis (`since_id`), and
each one is marked by id once the core has taken it (the core answers a message id once), so
a restart or a change of leader, even mid-mention, neither misses one nor answers one twice.

Public answers go in the thread, addressed to the user's @handle (X refuses a text the account
posted recently: `adapters/x_posts.py`), cut into numbered posts within X's weighted 280; account
matters move to a DM (sent where the user accepts DMs from the account, else parked until the
user writes to us through the link in the public reply). tweepy itself waits out 429s until
`x-rate-limit-reset`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from dataclasses import replace
from typing import Any

import aiohttp
import tweepy
import yarl
from aiohttp import web

from adapters.uploads import outgoing_files
from adapters.x_client import X_API, PatientClient, RedirectedSession
from adapters.x_posts import (
    ADDRESSING_WEIGHT,
    DUPLICATE,
    PERMISSION,
    addressed,
    refusal,
    thread_posts,
    time_marked,
    what_x_said,
    with_files_noted,
    with_suggestions_listed,
)
from bot.channel_settings import XSettings
from bot.domain.messages import InboundMessage, OutboundReply
from bot.domain.text_split import split_text
from bot.services.channels import STORE_OUTAGE, PrivateChat, XState
from bot.services.front_desk import FrontDesk

PLATFORM = "x"
MAX_DM_CHARS = 10_000
HANDLES_KEPT = 10_000  # users' @handles remembered from their mentions (the oldest forgotten first)
FIX_PERMISSION = ("give the app 'Read and write and Direct message' permission (and a plan that includes "
                  "these endpoints), then regenerate the access token")  # fmt: skip
NO_LANGUAGE = {"und", "zxx", "qme", "qht", "qam", "qct", "art"}
TWEET_FIELDS = ["lang", "author_id", "conversation_id", "referenced_tweets", "in_reply_to_user_id", "created_at"]
log = logging.getLogger(__name__)


class XAdapter:
    """The X channel: polls mentions and DMs (as the leader), delivers the x outbox."""

    platform = PLATFORM
    listens = True  # one poller per replica (and a leader among replicas)

    def __init__(self, desk: FrontDesk, settings: XSettings, credentials: dict[str, str], consumer: str,
                 state: XState) -> None:  # fmt: skip
        self.desk = desk
        self.state = state  # the leader lock, what was read and answered, parked DMs
        self.settings = settings
        self.consumer = consumer
        self.client = PatientClient(
            bearer_token=credentials["X_BEARER_TOKEN"], consumer_key=credentials["X_API_KEY"],
            consumer_secret=credentials["X_API_SECRET"], access_token=credentials["X_ACCESS_TOKEN"],
            access_token_secret=credentials["X_ACCESS_SECRET"], return_type=dict,
        )  # fmt: skip
        self.me = ""
        self.task: asyncio.Task | None = None
        self.warned: set[str] = set()
        self.handles: dict[str, str] = {}  # user id -> username, from the mentions read

    async def start(self) -> None:
        """Sign in (bad credentials stop start-up) and start polling."""
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        base = yarl.URL(self.settings.api_base_url)
        self.client.session = session if base.origin() == X_API else RedirectedSession(session, str(base))
        me = (await self.client.get_me(user_auth=True))["data"]
        self.me = str(me["id"])
        self.task = asyncio.create_task(self.poll_forever())
        log.info("x: signed in as @%s", me["username"])

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.state.resign(self.consumer)
        if self.client.session:
            await self.client.session.close()

    def routes(self) -> list[web.AbstractRouteDef]:
        return []  # X is polled
    # -- polling ---------------------------------------------------------------------------

    async def poll_forever(self) -> None:
        while True:
            try:
                if await self.state.lead(self.consumer, self.settings.leader_lock_seconds):
                    await self.poll_mentions()
                    await self.poll_dms()
            except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
                self.explain(exc)
            except (tweepy.TwitterServerError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
                log.warning("x: polling failed (%s); trying again", type(exc).__name__)
            except STORE_OUTAGE:
                log.warning("x: Redis unavailable; polling paused")
            await asyncio.sleep(self.settings.poll_interval_seconds)

    def explain(self, exc: tweepy.HTTPException) -> None:
        """A 401/403: logged once with what to fix; polling goes on trying."""
        what = ("the X_* credentials are wrong or revoked: regenerate them in the developer portal"
                if isinstance(exc, tweepy.Unauthorized) else f"the app lacks access: {FIX_PERMISSION}")  # fmt: skip
        if what not in self.warned:
            self.warned.add(what)
            log.error("x: %s %s", exc.response.status if exc.response is not None else "", what)

    async def _fetch(self, feed: str, call: Any, id_of: Any) -> list[dict]:
        """Everything newer than the feed's mark, oldest first, across pages. On the very first
        poll only the current newest id is recorded: what was there before the bot is history."""
        since = await self.state.last_read(feed)
        found, users, token = [], {}, None
        while True:
            page = await call(since if since and since != "0" else None, token)
            for user in (page.get("includes") or {}).get("users", []):
                users[str(user["id"])] = user
            items = page.get("data") or []
            fresh = [i for i in items if since is None or since == "0" or int(id_of(i)) > int(since)]
            found += fresh
            token = (page.get("meta") or {}).get("next_token")
            if not token or len(fresh) < len(items):
                break
        found.sort(key=lambda item: int(id_of(item)))
        if since is None:
            await self.state.mark_read(feed, id_of(found[-1]) if found else "0")
            return []
        for item in found:
            item["_author"] = users.get(str(item.get("author_id") or item.get("sender_id")), {})
        return found

    async def poll_mentions(self) -> None:
        async def page(since: str | None, token: str | None) -> dict:
            return await self.client.get_users_mentions(
                self.me, since_id=since, pagination_token=token, max_results=100, tweet_fields=TWEET_FIELDS,
                expansions=["author_id"], user_fields=["username", "name"],
            )  # fmt: skip

        for tweet in await self._fetch("mentions", page, lambda t: str(t["id"])):
            seen = f"mention:{tweet['id']}"
            if self._answerable(tweet) and not await self.state.handled_before(seen):
                await self.take_mention(tweet)
                await self.state.mark_handled(seen)
            await self.state.mark_read("mentions", str(tweet["id"]))

    def _answerable(self, tweet: dict) -> bool:
        """The loop guard: never our own posts, retweets, or users configured as bots."""
        author = str(tweet.get("author_id", ""))
        kinds = {ref.get("type") for ref in tweet.get("referenced_tweets") or []}
        return author != self.me and "retweeted" not in kinds and author not in self.settings.ignore_users

    async def take_mention(self, tweet: dict) -> None:
        author = str(tweet["author_id"])
        count = await self.state.count_mention(author, int(time.time() // 3600))
        if count > self.settings.max_replies_per_user_hour:
            log.info("x: user %s passed %s mentions this hour; not answering (loop guard)", author, count - 1)
            return
        self._remember_handle(author, tweet["_author"].get("username"))
        text = re.sub(r"^(\s*@\w+)+", "", tweet.get("text", "")).strip()
        lang = tweet.get("lang")
        message = InboundMessage(
            platform=PLATFORM, chat_id=f"public:{author}", chat_kind="group", user_id=author,
            user_name="@" + tweet["_author"].get("username", author), text=text, message_id=str(tweet["id"]),
            language_hint=None if lang in NO_LANGUAGE else lang,
        )  # fmt: skip
        await self.desk.take(message)

    async def poll_dms(self) -> None:
        async def page(since: str | None, token: str | None) -> dict:
            return await self.client.get_direct_message_events(
                event_types="MessageCreate", max_results=100, pagination_token=token, user_auth=True,
                dm_event_fields=["id", "text", "sender_id", "dm_conversation_id", "created_at", "event_type"],
            )  # fmt: skip

        for event in await self._fetch("dm", page, lambda e: str(e["id"])):
            sender = str(event.get("sender_id", ""))
            if sender != self.me and not await self.state.handled_before(f"dm:{event['id']}"):
                await self._release_parked(sender)
                message = InboundMessage(PLATFORM, f"dm:{sender}", "private", sender, event.get("text", ""),
                                         message_id=str(event["id"]))  # fmt: skip
                await self.desk.take(message)
                await self.state.mark_handled(f"dm:{event['id']}")
            await self.state.mark_read("dm", str(event["id"]))

    async def open_private(self, message: InboundMessage, token: str) -> PrivateChat:
        """The user's DM with the account, at once; the link opens it for users who do not
        accept DMs from accounts they don't follow."""
        return PrivateChat(f"https://x.com/messages/compose?recipient_id={self.me}", f"dm:{message.user_id}")

    # -- outbound ----------------------------------------------------------------------------

    async def deliver(self, reply: OutboundReply, conversation: str, sender: str) -> None:
        """Public replies become posts in the user's thread (a numbered thread when long);
        DM replies become DMs. A failure raises, so the outbox sends the rest again later;
        posts already made are remembered and not repeated."""
        kind, _, user = reply.chat_id.partition(":")
        reply = replace(reply, text=with_suggestions_listed(reply))
        if reply.files:  # X carries no file here: a line for each tells the user to ask another way
            names = [kept.name for kept in await outgoing_files(self.desk, PLATFORM, reply.files)]
            reply = replace(reply, text=with_files_noted(reply.text, names, public=kind != "dm"))
        if kind == "dm":
            await self._send_dm(user, reply, conversation, sender)
            return
        if not reply.reply_to:
            log.warning("x: a public reply with no post to answer is not sent (conversation %s)", conversation)
            return
        digest = hashlib.sha1(f"{reply.reply_to}\n{reply.text}".encode()).hexdigest()
        done, last, interrupted = await self.state.thread_progress(digest)
        previous = last or reply.reply_to
        handle = await self._handle(user)
        posts = thread_posts(reply.text, reserve=ADDRESSING_WEIGHT)
        for index in range(done, len(posts)):
            await self.state.record_attempt(digest, index)
            # Sent before a crash, X would call it a duplicate: then it is there, not to be time-marked.
            retry = not (interrupted and index == done)
            posted = await self._post(addressed(handle, posts[index]), previous, reply.reply_to, retry)
            if posted is None:
                return  # refused for good (logged): the rest of the thread would hang from nothing
            previous = posted
            await self.state.record_post(digest, index + 1, previous)

    async def _post(self, text: str, reply_to: str, about: str, retry: bool = True) -> str | None:
        """One post in reply to `reply_to`: its id, or None when X refused it for good. A text
        X calls a duplicate is sent once more, time-marked (with `retry`); only once, whatever
        X says then. Any other 403 is final. `about` is the user's post, for the log."""
        for attempt in range(2):
            try:
                posted = await self.client.create_tweet(text=text, in_reply_to_tweet_id=reply_to, user_auth=True)
                return str(posted["data"]["id"])
            except tweepy.Forbidden as exc:
                cause = refusal(exc)
                if cause == DUPLICATE and not retry:
                    log.info("x: reply to post %s was already posted before a restart; not posting it again", about)
                    return None
                if cause != DUPLICATE or attempt:
                    hint = f": {FIX_PERMISSION}" if cause == PERMISSION else ""
                    log.error("x: reply to post %s not sent: %s%s (X said: %s)", about, cause, hint, what_x_said(exc))
                    return None
                log.info("x: reply to post %s refused as %s; sending it once more, time-marked", about, cause)
                text = time_marked(text)
        return None

    def _remember_handle(self, user: str, username: str | None) -> None:
        if username:
            self.handles.pop(user, None)
            self.handles[user] = username
            if len(self.handles) > HANDLES_KEPT:
                self.handles.pop(next(iter(self.handles)))

    async def _handle(self, user: str) -> str:
        """The user's @handle: from the mention we read, else asked of X (another replica read
        it, or this one restarted); "" when X does not say (the reply then goes without it)."""
        if user not in self.handles:
            try:
                found = await self.client.get_user(id=user, user_auth=True)
            except (tweepy.HTTPException, aiohttp.ClientError, asyncio.TimeoutError) as exc:
                log.info("x: could not look up user %s's handle (%s)", user, type(exc).__name__)
                return ""
            self._remember_handle(user, (found.get("data") or {}).get("username"))
        return "@" + self.handles[user] if user in self.handles else ""

    async def _send_dm(self, user: str, reply: OutboundReply, conversation: str, sender: str) -> None:
        for piece in split_text(reply.text, MAX_DM_CHARS):
            try:
                await self.client.create_direct_message(participant_id=user, text=piece, user_auth=True)
            except tweepy.Forbidden as exc:
                if refusal(exc) == PERMISSION:  # the app may not send DMs at all: parking would not help
                    log.error("x: DM to user %s not sent: %s: %s", user, PERMISSION, FIX_PERMISSION)
                    return
                # The user does not accept DMs from us: kept until they write to us first.
                await self.state.park(user, reply.text, conversation, sender)
                log.info("x: user %s does not accept DMs from the account; the reply waits for their DM", user)
                return

    async def _release_parked(self, user: str) -> None:
        """The user wrote to us: replies parked for them go out now, before the answer."""
        while parked := await self.state.unpark(user):
            text, conversation, sender = parked
            await self.desk.deliver_later(OutboundReply(PLATFORM, f"dm:{user}", text), conversation, sender)
