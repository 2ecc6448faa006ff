"""The command line: `python -m bot run | train | replay | agents | report | check-config | agent | audit |
users | bench`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from typing import TYPE_CHECKING

from bot.config import Config, ConfigError, check_environment, idle_credentials, load_config
from bot.logs import setup_logging

if TYPE_CHECKING:
    from bot.stores.agents import AgentStore

log = logging.getLogger("bot")


def _days(text: str) -> float:
    """--expires-in-days: a number of days from 0 (no end) to 3650."""
    days = float(text)
    if not 0 <= days <= 3650:
        raise argparse.ArgumentTypeError("from 0 (no end) to 3650 days")
    return days


def _run(args: argparse.Namespace) -> int:
    """The composition root: the server gets the table of channels from `adapters`."""
    from adapters import CHANNELS
    from bot.nlu.model import ModelMissing
    from bot.web.server import StartupError, serve

    config = load_config(args.config)
    check_environment(config)  # a missing token stops start-up before the model loads
    try:
        asyncio.run(serve(config, CHANNELS, args.port, args.host))
    except (ModelMissing, StartupError, ConfigError) as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


def _train(args: argparse.Namespace) -> int:
    from bot.nlu.model import train

    train(force=args.force, say=lambda line: print(line, file=sys.stderr, flush=True))
    return 0


def _replay(args: argparse.Namespace) -> int:
    from bot.domain.pipeline import Pipeline
    from bot.nlu.model import ModelMissing, NluModel, RasaHttpNlu
    from bot.tools.replay import replay

    config = load_config(args.config)
    try:
        pipeline = Pipeline(config, RasaHttpNlu(args.nlu_url) if args.nlu_url else NluModel.load())
    except ModelMissing as exc:
        log.error("%s", exc)
        return 2
    asyncio.run(replay(pipeline, sys.stdin.buffer, sys.stdout))
    return 0


# The agents commands that change a token, as the audit trail names them.
TOKEN_ACTIONS = {"add": "token_issued", "rotate": "token_rotated", "revoke": "token_revoked"}


def _agents(args: argparse.Namespace) -> int:
    from bot.stores.agents import AgentStore
    from bot.stores.connection import connect
    from bot.tools.records import record_operator_action

    config = load_config(args.config)
    days = getattr(args, "expires_in_days", None)
    days = config.handoff.agent_token_days if days is None else days

    async def run() -> int:
        redis = connect(config, os.environ)
        try:
            status = await _agents_command(AgentStore(redis), args, days if days > 0 else None)
            action = TOKEN_ACTIONS.get(args.agents_command)
            if status == 0 and action:
                await record_operator_action(redis, config, action, f"agent:{args.name}")
            return status
        finally:
            await redis.close()

    return asyncio.run(run())


async def _agents_command(store: AgentStore, args: argparse.Namespace, days: float | None) -> int:
    """`agents add | rotate | revoke | list` on the agent store; the exit status."""
    until = f"expires in {days:g} days" if days else "does not expire"
    if args.agents_command == "add":
        try:
            token = await store.add(args.name, args.languages.split(","), args.role, days)
        except ValueError as exc:
            log.error("%s", exc)
            return 2
        print(f"agent {args.name} ({args.role}, {args.languages}); token ({until}), shown only now:")
        print(token)
    elif args.agents_command == "rotate":
        token = await store.rotate(args.name, days)
        if token is None:
            log.error("no agent named %r (agents add creates one)", args.name)
            return 2
        print(f"agent {args.name}: new token ({until}; the old one no longer works), shown only now:")
        print(token)
    elif args.agents_command == "revoke":
        if not await store.revoke(args.name):
            log.error("no agent named %r holding a token", args.name)
            return 2
        print(f"agent {args.name}: token revoked (agents rotate gives a new one)")
    else:
        for agent in await store.all():
            expires = agent.token_expires_at
            expiry = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expires)) if expires else "-"
            print(f"{agent.name}\t{agent.role}\t{','.join(agent.languages)}\t{expiry}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from redis.exceptions import RedisError

    from bot.stores.connection import connect, describe
    from bot.tools.reports import build_report, parse_since, summary_text, write_charts

    try:
        since = parse_since(args.since)
    except ValueError as exc:
        log.error("--since %s", exc)
        return 2
    config = load_config(args.config)

    async def run() -> dict:
        redis = connect(config, os.environ)
        try:
            return await build_report(redis, config, since)
        finally:
            await redis.close()

    try:
        report = asyncio.run(run())
    except (RedisError, OSError) as exc:
        log.error("%s is not reachable (%s)", describe(config), type(exc).__name__)
        return 1
    print(summary_text(report))
    if args.out:
        for path in write_charts(report, Path(args.out)):
            print(f"wrote {path}")
    return 0


def _records(args: argparse.Namespace) -> int:
    """`audit export` and `users export|erase` (bot/tools/records.py)."""
    from redis.exceptions import RedisError

    from bot.tools import records

    config = load_config(args.config)
    work = records.export_audit if args.command == "audit" else records.user_request
    try:
        return asyncio.run(records.with_redis(config, lambda redis: work(redis, config, args)))
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    except (RedisError, OSError) as exc:
        log.error("Redis at REDIS_URL is not reachable (%s)", type(exc).__name__)
        return 1


def _check_config(args: argparse.Namespace) -> int:
    """Everything `run` checks before it serves, without serving: the file, the environment,
    Redis, the texts and help-center articles, the trained model."""
    from redis.exceptions import RedisError

    from bot.domain.helpcenter import HelpCenter
    from bot.domain.texts import Texts
    from bot.nlu.model import ModelMissing, cached_model
    from bot.stores.connection import describe
    from intents import INTENT_NAMES

    config = load_config(args.config)
    enabled = check_environment(config)
    for name in idle_credentials(config):
        print(f"note: {name} credentials are in the environment but {name}.enabled is false")
    try:
        asyncio.run(_ping(config))
    except (RedisError, OSError) as exc:
        log.error("%s is not reachable (%s): start it or fix the environment", describe(config), type(exc).__name__)
        return 2
    Texts.load(config.languages, INTENT_NAMES, config.placeholders)
    articles = HelpCenter.load(config.placeholders).articles
    try:
        model = cached_model()
    except ModelMissing as exc:
        log.error("%s", exc)
        return 2
    print(f"configuration OK: platforms {', '.join(['webchat', *enabled])}; Redis answers; "
          f"{len(config.languages)} languages; {len(articles)} help-center articles; model {model.name}")  # fmt: skip
    return 0


async def _ping(config: Config) -> None:
    """Ask the bot's Redis (the master, with sentinels) for a PONG; raises when it cannot."""
    from bot.stores.connection import connect

    redis = connect(config, os.environ)
    try:
        await redis.ping()
    finally:
        await redis.close()


def _console(args: argparse.Namespace) -> int:
    from bot.tools.agent_terminal import main as console_main

    return console_main(args.url)


def _bench(args: argparse.Namespace) -> int:
    from bot.nlu.model import ModelMissing
    from bot.tools.bench import main as bench_main

    try:
        return bench_main(args)
    except ModelMissing as exc:
        log.error("%s", exc)
        return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="supportbot: crypto exchange support bot")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO (default), WARNING")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="serve the bot (web chat at http://127.0.0.1:8080)")
    run.add_argument("--config", default=None, help="configuration file (default: config.yml)")
    run.add_argument("--port", type=int, default=None, help="HTTP port (default: web.port of the config, 8080)")
    run.add_argument("--host", default=None, help="address to listen on (default: web.host, 127.0.0.1)")
    run.set_defaults(func=_run)

    train = sub.add_parser("train", help="train the NLU model unless the cached one is current")
    train.add_argument("--force", action="store_true", help="train even if a current model is cached")
    train.set_defaults(func=_train)

    replay = sub.add_parser("replay", help="JSON lines on stdin -> one decision per line on stdout")
    replay.add_argument("--config", default=None)
    replay.add_argument("--nlu-url", default=None, help="parse with a Rasa server at this URL instead of in-process")
    replay.set_defaults(func=_replay)

    agents = sub.add_parser("agents", help="manage support agents (needs REDIS_URL)")
    agents.add_argument("--config", default=None)
    agents_sub = agents.add_subparsers(dest="agents_command", required=True)
    add = agents_sub.add_parser("add", help="add an agent (or give one a new token); prints the token once")
    add.add_argument("name")
    add.add_argument("--languages", required=True, help="comma-separated, e.g. en,zh")
    add.add_argument("--role", choices=("agent", "lead"), default="agent")
    rotate = agents_sub.add_parser("rotate", help="a new token for an agent (the old one stops working); printed once")
    rotate.add_argument("name")
    revoke = agents_sub.add_parser("revoke", help="stop an agent's token from working")
    revoke.add_argument("name")
    for command in (add, rotate):
        command.add_argument("--expires-in-days", type=_days, default=None,
                             help="the token works this many days (0: no end; default: handoff.agent_token_days)")
    agents_sub.add_parser("list", help="list agents (name, role, languages, token expiry)")
    agents.set_defaults(func=_agents)

    check = sub.add_parser("check-config", help="check config.yml, the environment and Redis without starting")
    check.add_argument("--config", default=None)
    check.set_defaults(func=_check_config)

    report = sub.add_parser("report", help="deflection, hand-offs, response times, SLA, CSAT (needs REDIS_URL)")
    report.add_argument("--since", default="7d", help="the period: 7d, 24h, 2w... (default 7d)")
    report.add_argument("--out", default=None, help="write PNG charts and report.json to this folder")
    report.add_argument("--config", default=None)
    report.set_defaults(func=_report)

    from bot.tools.records import add_commands

    add_commands(sub, _records, _records)

    console = sub.add_parser("agent", help="the agents' terminal console (token: SUPPORTBOT_AGENT_TOKEN)")
    console.add_argument("--url", default="http://127.0.0.1:8080", help="the bot's address")
    console.set_defaults(func=_console)

    bench = sub.add_parser("bench", help="benchmark the pipeline (in-process and against a Rasa server)")
    bench.add_argument("--config", default=None)
    bench.add_argument("--messages", type=int, default=3000)
    bench.add_argument("--out", default=None, help="write the results as JSON here too")
    bench.set_defaults(func=_bench)

    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        return args.func(args)
    except ConfigError as exc:
        log.error("configuration: %s", exc)
        return 2
