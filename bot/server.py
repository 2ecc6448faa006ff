"""`python -m bot run`: the bot process. Loads the model once, connects to Redis, serves the
web chat (always on) and starts every platform adapter whose token is in the environment."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.webchat import WebChat, static_routes
from bot import console_page
from bot.agent_api import AgentApi
from bot.agents import AgentStore
from bot.config import X_CREDENTIALS, Config
from bot.conversations import ConversationStore
from bot.handoff_queue import HandoffQueue
from bot.inbox import Inbox
from bot.metrics import metrics_route
from bot.nlu import NluModel, NluParser
from bot.outbox import Outbox
from bot.pipeline import Pipeline
from bot.upkeep import escalate_overdue, requeue_vanished

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The bot cannot start; the message says what to fix."""


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def build_app(config: Config, nlu: NluParser) -> web.Application:
    """The aiohttp application with every channel's routes, connected to Redis, with the
    background work (outbox drains, the vanished-agent sweep) tied to its life."""
    redis = Redis.from_url(config.redis_url)
    try:
        await redis.ping()
    except (RedisError, OSError) as exc:
        raise StartupError(
            f"Redis at REDIS_URL is not reachable ({type(exc).__name__}): start one or fix REDIS_URL"
        ) from None
    conversations = ConversationStore(redis)
    queue = HandoffQueue(redis, conversations, config.languages)
    await queue.setup()
    agents = AgentStore(redis)
    outbox = Outbox(redis)
    inbox = Inbox(config, Pipeline(config, nlu), conversations, queue, outbox, agents)
    webchat = WebChat(inbox, redis)
    api = AgentApi(config, agents, conversations, queue, outbox, inbox)
    app = web.Application(client_max_size=1024 * 1024, middlewares=[api.middleware])
    app.add_routes([web.get("/healthz", healthz), *webchat.routes(), *static_routes(), *api.routes(),
                    *console_page.routes(), metrics_route(queue)])
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    drains = {"webchat": webchat.deliver}
    channels = []
    env = os.environ
    if env.get("TELEGRAM_TOKEN"):
        from adapters.telegram import WEBHOOK_PATH, TelegramAdapter

        if config.telegram.webhook_url and not env.get("TELEGRAM_WEBHOOK_SECRET"):
            raise StartupError("telegram.webhook_url is set: TELEGRAM_WEBHOOK_SECRET must be in the environment")
        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "")
        telegram = TelegramAdapter(inbox, config.telegram, env["TELEGRAM_TOKEN"], secret)
        if config.telegram.webhook_url:
            app.router.add_post(WEBHOOK_PATH, telegram.webhook)
        drains["telegram"] = telegram.deliver
        channels.append(telegram)
    if env.get("DISCORD_TOKEN"):
        from adapters.discord import DiscordAdapter

        discord_channel = DiscordAdapter(inbox, config.discord, env["DISCORD_TOKEN"])
        drains["discord"] = discord_channel.deliver
        channels.append(discord_channel)
    x_credentials = {name: env.get(name, "") for name in X_CREDENTIALS}
    if any(x_credentials.values()):
        from adapters.x import XAdapter

        missing = [name for name, value in x_credentials.items() if not value]
        if missing:
            raise StartupError(f"X is half configured: {', '.join(missing)} must be in the environment too")
        x_channel = XAdapter(inbox, config.x, x_credentials, consumer)
        drains["x"] = x_channel.deliver
        channels.append(x_channel)

    async def background(_: web.Application):
        for channel in channels:
            await channel.start()
        tasks = [
            *(asyncio.create_task(outbox.drain(platform, consumer, deliver)) for platform, deliver in drains.items()),
            asyncio.create_task(every(5, "vanished agents", lambda: requeue_vanished(
                agents, queue, config.handoff.agent_timeout_seconds))),
            asyncio.create_task(every(5, "SLA", lambda: escalate_overdue(
                queue, conversations, outbox, inbox.pipeline.texts, config.handoff))),
            asyncio.create_task(every(min(5.0, config.limits.redelivery_seconds / 2), "inbox recovery",
                                      lambda: inbox.recover_orphans(config.limits.redelivery_seconds))),
        ]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for channel in channels:
            await channel.stop()
        await redis.close()

    app.cleanup_ctx.append(background)
    return app


async def every(seconds: float, what: str, step: Callable[[], Awaitable[object]]) -> None:
    """Run `step` every `seconds` for as long as the bot runs; a Redis outage skips a turn."""
    while True:
        try:
            await step()
        except (RedisError, OSError):
            log.warning("%s: Redis unavailable", what)
        await asyncio.sleep(seconds)


async def serve(config: Config, port: int | None = None) -> None:
    """Run until cancelled."""
    nlu = NluModel.load()
    app = await build_app(config, nlu)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.web.host, port or config.web.port)
    await site.start()
    log.info("serving the web chat at http://%s:%s/", config.web.host, port or config.web.port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
