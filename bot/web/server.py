"""`python -m bot run`: the bot process. Loads the model once, connects to Redis, serves the
web chat (always on) and starts every platform adapter whose token is in the environment."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.webchat import WebChat, static_routes
from bot.config import X_CREDENTIALS, Config, check_environment, idle_credentials
from bot.domain.pipeline import Pipeline
from bot.metrics import metrics_route
from bot.nlu.model import NluModel, NluParser
from bot.services.inbox import Inbox
from bot.services.upkeep import escalate_overdue, requeue_vanished
from bot.stores.agents import AgentStore
from bot.stores.conversations import ConversationStore
from bot.stores.handoff_queue import HandoffQueue
from bot.stores.outbox import Outbox
from bot.web import console_page
from bot.web.agent_api import AgentApi

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The bot cannot start; the message says what to fix."""


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def build_app(config: Config, nlu: NluParser) -> web.Application:
    """The aiohttp application with every channel's routes, connected to Redis, with the
    background work (outbox drains, the vanished-agent sweep) tied to its life."""
    env = os.environ
    enabled = check_environment(config, env)  # before anything starts: a missing token stops it here
    for name in idle_credentials(config, env):
        log.warning("%s credentials are in the environment but %s.enabled is false: %s stays off", name, name, name)
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
    platforms = _platform_channels(config, env, enabled, inbox, app, consumer)
    drains = {"webchat": webchat.deliver, **{name: channel.deliver for name, channel in platforms}}
    channels = [channel for _, channel in platforms]

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


def _platform_channels(config: Config, env: Mapping[str, str], enabled: list[str], inbox: Inbox,
                       app: web.Application, consumer: str) -> list[tuple[str, Any]]:  # fmt: skip
    """The platform adapters whose credentials are set, by platform name (the name of their
    outbox); Telegram's webhook route joins `app` when it is configured."""
    channels: list[tuple[str, Any]] = []
    if "telegram" in enabled:
        from adapters.telegram import WEBHOOK_PATH, TelegramAdapter

        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "")
        telegram = TelegramAdapter(inbox, config.telegram, env["TELEGRAM_TOKEN"], secret)
        if config.telegram.webhook_url:
            app.router.add_post(WEBHOOK_PATH, telegram.webhook)
        channels.append(("telegram", telegram))
    if "discord" in enabled:
        from adapters.discord import DiscordAdapter

        channels.append(("discord", DiscordAdapter(inbox, config.discord, env["DISCORD_TOKEN"])))
    if "x" in enabled:
        from adapters.x import XAdapter

        channels.append(("x", XAdapter(inbox, config.x, {name: env[name] for name in X_CREDENTIALS}, consumer)))
    return channels


async def every(seconds: float, what: str, step: Callable[[], Awaitable[object]]) -> None:
    """Run `step` every `seconds` for as long as the bot runs; a Redis outage skips a turn."""
    while True:
        try:
            await step()
        except (RedisError, OSError):
            log.warning("%s: Redis unavailable", what)
        await asyncio.sleep(seconds)


async def serve(config: Config, port: int | None = None, host: str | None = None) -> None:
    """Run until cancelled."""
    started = time.monotonic()
    nlu = NluModel.load()
    app = await build_app(config, nlu)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, port = host or config.web.host, port or config.web.port
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("serving the web chat at http://%s:%s/ (ready %.1f s after start)", host, port, time.monotonic() - started)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
