"""`python -m bot run`: the bot process. Loads the model once, connects to Redis, and builds
its channels from the table the command line hands over (`adapters.CHANNELS`): the web chat
(always on) and every platform whose token is in the environment."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.config import Config
from bot.domain.pipeline import Pipeline
from bot.environment import PLATFORM_SECRETS, backoffice_credentials, check_environment, idle_credentials
from bot.metrics import metrics_route
from bot.services.backoffice_client import BackOfficeClient
from bot.services.channels import ChannelBuilder, ChannelKit, Channels
from bot.services.front_desk import FrontDesk
from bot.services.inbox import Inbox
from bot.services.privacy import DataRequests
from bot.services.upkeep import (
    escalate_overdue,
    lapse_offers,
    offer_waiting,
    overflow_waiting,
    remove_expired_files,
    requeue_vanished,
)
from bot.stores.canned_answers import PrivateCanned
from bot.stores.connection import connect, describe
from bot.stores.holder import Stores
from bot.stores.personal_data import PersonalData
from bot.web import console_page
from bot.web.agent_api import AgentApi
from bot.web.audit_routes import AUDIT_TRAIL
from bot.web.backoffice_routes import backoffice_routes
from bot.web.canned_routes import PRIVATE_CANNED
from bot.web.file_routes import USER_FILES
from bot.web.headers import install_response_headers
from bot.web.health import WORKER, health_routes
from bot.web.privacy_routes import DATA_REQUESTS

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The bot cannot start; the message says what to fix."""


async def build_app(config: Config, pipeline: Pipeline, channel_table: Mapping[str, ChannelBuilder],
                    lead: bool = True) -> web.Application:  # fmt: skip
    """The aiohttp application with every channel's routes, connected to Redis, with the
    background work (outbox drains, the vanished-agent sweep) tied to its life.
    `channel_table` says how each platform's channel is built. Only the `lead` worker of a
    replica runs the channels that hold a platform's connection, and the sweeps."""
    env = os.environ
    enabled = check_environment(config, env)  # before anything starts: a missing token stops it here
    for name in idle_credentials(config, env):
        log.warning("%s credentials are in the environment but %s.enabled is false: %s stays off", name, name, name)
    redis = connect(config, env)
    try:
        await redis.ping()
    except (RedisError, OSError) as exc:
        raise StartupError(
            f"{describe(config)} is not reachable ({type(exc).__name__}): start it or fix the environment"
        ) from None
    stores = await Stores.open(redis, config.languages, config.audit.retention_days, config.routing,
                               config.attachments)
    channels = Channels()
    backoffice = backoffice_credentials(env)
    client = BackOfficeClient(config.backoffice.url, backoffice[0], config.backoffice.timeout_seconds) \
        if backoffice else None  # fmt: skip
    log.info("back office: %s", f"on, {config.backoffice.url}" if client else "off (BACKOFFICE_TOKEN not set)")
    inbox = Inbox(config, pipeline, stores, channels, client)
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    kit = ChannelKit(FrontDesk(inbox), config, env, consumer, stores.channel_state)
    missing = [platform for platform in enabled if platform not in channel_table]
    if missing:
        raise StartupError(f"{', '.join(missing)} is enabled, but no channel is built for it")
    # A channel that needs no credentials (the web chat) is always on; the others when enabled.
    for platform, build in channel_table.items():
        if platform not in PLATFORM_SECRETS or platform in enabled:
            channel = build(kit)
            if lead or not channel.listens:
                channels.add(channel)
    api = AgentApi(config, stores.agents, stores.conversations, stores.queue, inbox, stores.assignment)
    app = web.Application(client_max_size=1024 * 1024, middlewares=[api.middleware])
    install_response_headers(app)
    app[AUDIT_TRAIL] = stores.audit
    app[DATA_REQUESTS] = DataRequests(PersonalData(redis, config.languages), stores.files)
    app[PRIVATE_CANNED] = PrivateCanned(redis)
    app[USER_FILES] = stores.files
    app.add_routes([*health_routes(redis, pipeline.nlu), *(route for channel in channels for route in channel.routes()),
                    *api.routes(), *console_page.routes(), metrics_route(stores.queue),
                    *(backoffice_routes(inbox.accounts, backoffice[1]) if backoffice else [])])  # fmt: skip
    app.cleanup_ctx.append(_background(config, redis, stores, inbox, channels, consumer, lead))
    return app


def _background(config: Config, redis: Redis, stores: Stores, inbox: Inbox, channels: Channels,
                consumer: str, lead: bool) -> Callable:  # fmt: skip
    """The work tied to the application's life: channels started and stopped, each platform's
    outbox drained into its channel, and (in the `lead` worker) the sweeps of the queue and of
    the inbox."""

    async def background(_: web.Application):
        for channel in channels:
            await channel.start()
        tasks = [asyncio.create_task(stores.outbox.drain(channel.platform, consumer, channel.deliver))
                 for channel in channels]  # fmt: skip
        if lead:
            tasks += [
                asyncio.create_task(every(5, "vanished agents", lambda: requeue_vanished(
                    stores.agents, stores.queue, config.handoff.agent_timeout_seconds))),
                asyncio.create_task(every(5, "SLA", lambda: escalate_overdue(
                    stores.queue, stores.conversations, inbox.replies, config.handoff, config.routing))),
                asyncio.create_task(every(1, "auto-assignment", lambda: offer_waiting(
                    stores.assignment, config.routing, config.handoff.agent_timeout_seconds))),
                asyncio.create_task(every(2, "offers", lambda: lapse_offers(
                    stores.assignment, stores.queue, stores.conversations, config.routing.accept_seconds))),
                asyncio.create_task(every(5, "overflow", lambda: overflow_waiting(
                    stores.queue, stores.assignment, stores.agents, stores.conversations, config.routing,
                    config.handoff.agent_timeout_seconds))),
                asyncio.create_task(every(120, "file retention", lambda: remove_expired_files(
                    stores.files, config.attachments.keep_days))),
                asyncio.create_task(every(min(5.0, config.limits.redelivery_seconds / 2), "inbox recovery",
                                          lambda: inbox.recover_orphans(config.limits.redelivery_seconds))),
            ]  # fmt: skip
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for channel in channels:
            await channel.stop()
        if inbox.accounts.client is not None:
            await inbox.accounts.client.close()
        try:  # what waits for its batch: answered messages' deletion, questions' counts
            await stores.intake.flush()
            await stores.incidents.send_counts()
        except (RedisError, OSError):
            log.warning("shutdown: batched deletions and counts not sent (Redis unavailable)")
        await redis.close()

    return background


async def every(seconds: float, what: str, step: Callable[[], Awaitable[object]]) -> None:
    """Run `step` every `seconds` for as long as the bot runs; a Redis outage skips a turn."""
    while True:
        try:
            await step()
        except (RedisError, OSError):
            log.warning("%s: Redis unavailable", what)
        await asyncio.sleep(seconds)


async def serve(config: Config, channel_table: Mapping[str, ChannelBuilder], pipeline: Pipeline,
                port: int | None = None, host: str | None = None, worker: int = 0,
                workers: int = 1) -> None:  # fmt: skip
    """Run until cancelled, with the channels `channel_table` builds: as worker `worker` of
    `workers` sharing the port (`bot/web/workers.py`), with `pipeline` (its model, language
    models and texts) built before the workers forked."""
    started = time.monotonic()
    app = await build_app(config, pipeline, channel_table, lead=worker == 0)
    app[WORKER] = worker
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, port = host or config.web.host, port or config.web.port
    site = web.TCPSite(runner, host, port, reuse_port=workers > 1)
    await site.start()
    log.info("serving the web chat at http://%s:%s/ (worker %d of %d, ready %.1f s after start)",
             host, port, worker + 1, workers, time.monotonic() - started)  # fmt: skip
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
