"""`python -m bot run`: the bot process. Loads the model once, connects to Redis, serves the
web chat (always on) and starts every platform adapter whose token is in the environment."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.webchat import WebChat, static_routes
from bot.agent_api import AgentApi
from bot.agents import AgentStore
from bot.config import Config
from bot.conversations import ConversationStore
from bot.handoff_queue import HandoffQueue
from bot.inbox import Inbox
from bot.nlu import NluModel, NluParser
from bot.outbox import Outbox
from bot.pipeline import Pipeline

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
    api = AgentApi(config, agents, conversations, queue, outbox)
    app = web.Application(client_max_size=1024 * 1024, middlewares=[api.middleware])
    app.add_routes([web.get("/healthz", healthz), *webchat.routes(), *static_routes(), *api.routes()])
    consumer = f"{socket.gethostname()}-{os.getpid()}"

    async def background(_: web.Application):
        tasks = [
            asyncio.create_task(outbox.drain("webchat", consumer, webchat.deliver)),
            asyncio.create_task(sweep_vanished_agents(agents, queue, config.handoff.agent_timeout_seconds)),
            asyncio.create_task(recover_accepted_messages(inbox, config.limits.redelivery_seconds)),
        ]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await redis.close()

    app.cleanup_ctx.append(background)
    return app


async def recover_accepted_messages(inbox: Inbox, older_than: float) -> None:
    """Messages accepted by a process that died before handling them are handled here."""
    while True:
        try:
            await inbox.recover_orphans(older_than)
        except (RedisError, OSError):
            log.warning("inbox recovery: Redis unavailable")
        await asyncio.sleep(min(5.0, older_than / 2))


async def sweep_vanished_agents(agents: AgentStore, queue: HandoffQueue, timeout: float, every: float = 5) -> None:
    """An agent with no sign of life within `timeout` loses their claims: the conversations
    go back to the head of their lanes."""
    while True:
        try:
            for name in await agents.vanished(timeout):
                for cid in await queue.owned_by(name):
                    if await queue.requeue(cid, name):
                        log.info("agent %s vanished: %s back in the queue", name, cid)
        except (RedisError, OSError):
            log.warning("vanished-agent sweep: Redis unavailable")
        await asyncio.sleep(every)


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
