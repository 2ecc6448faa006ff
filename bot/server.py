"""`python -m bot run`: the bot process. Loads the model once, connects to Redis, serves the
web chat (always on) and starts every platform adapter whose token is in the environment."""

from __future__ import annotations

import logging

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.webchat import WebChat, static_routes
from bot.config import Config
from bot.conversations import ConversationStore
from bot.inbox import Inbox
from bot.nlu import NluModel
from bot.pipeline import Pipeline

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The bot cannot start; the message says what to fix."""


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def build_app(config: Config, nlu: NluModel) -> web.Application:
    """The aiohttp application with every channel's routes, connected to Redis."""
    redis = Redis.from_url(config.redis_url)
    try:
        await redis.ping()
    except (RedisError, OSError) as exc:
        raise StartupError(
            f"Redis at REDIS_URL is not reachable ({type(exc).__name__}): start one or fix REDIS_URL"
        ) from None
    pipeline = Pipeline(config, nlu)
    inbox = Inbox(pipeline, ConversationStore(redis))
    app = web.Application(client_max_size=1024 * 1024)
    app.add_routes([web.get("/healthz", healthz), *WebChat(inbox).routes(), *static_routes()])

    async def close_redis(_: web.Application) -> None:
        await redis.close()

    app.on_cleanup.append(close_redis)
    return app


async def serve(config: Config, port: int | None = None) -> None:
    """Run until cancelled."""
    import asyncio

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
