"""The command line: `python -m bot run | train | replay | agents | report | check-config | agent | audit |
users | bench`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from bot.config import Config, ConfigError, load_config
from bot.environment import check_environment, idle_credentials
from bot.logs import setup_logging

log = logging.getLogger("bot")


def _run(args: argparse.Namespace) -> int:
    """The composition root: the server gets the table of channels from `adapters`. The model
    loads and the pipeline (language models, texts, help center) is built once, before the
    workers fork (`bot/web/workers.py`), which then share their memory; so are the enabled
    platforms' modules imported."""
    from bot.web.workers import run_loop, run_workers, share_metrics_between_workers, worker_count

    config = load_config(args.config)
    enabled = check_environment(config)  # a missing token stops start-up before the model loads
    workers = worker_count(config.web.workers)
    if workers > 1:
        share_metrics_between_workers()
    from adapters import CHANNELS
    from bot.domain.language import load_language_models_in_background
    from bot.domain.pipeline import Pipeline
    from bot.domain.texts import TextsError
    from bot.nlu.model import ModelMissing, NluModel
    from bot.web.server import StartupError, serve

    language_models = load_language_models_in_background(config.languages)
    try:
        model = NluModel.load()
        language_models.join()
        pipeline = Pipeline(config, model)
    except (ModelMissing, ConfigError, TextsError) as exc:  # a worker would die of it again and again
        log.error("%s", exc)
        return 2
    _import_channel_modules(["webchat", *enabled])

    def serve_one(index: int) -> None:
        try:
            run_loop(serve(config, CHANNELS, pipeline, args.port, args.host, index, workers))
        except (StartupError, ConfigError) as exc:
            log.error("%s", exc)
            raise SystemExit(2) from None

    try:
        return run_workers(workers, serve_one)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        return 0


def _import_channel_modules(platforms: list[str]) -> None:
    """Each platform's module (`adapters/<platform>.py`) and its library, imported before the
    workers fork: once, in pages they share, rather than in every worker as it builds the
    channel (python-telegram-bot's took 0.9 s of each worker's start). One that fails to
    import here fails again in the worker that builds the channel, which says why."""
    import importlib

    for platform in platforms:
        try:
            importlib.import_module(f"adapters.{platform}")
        except ImportError:
            pass


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


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from redis.exceptions import RedisError

    from bot.stores.connection import connect, describe
    from bot.tools.report_charts import write_charts
    from bot.tools.reports import build_report, parse_since, summary_text

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

    from bot.tools.agents_cli import add_agents_command

    add_agents_command(sub)

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
