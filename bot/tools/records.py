"""The command line's audit trail and data requests:

    python -m bot audit export [--since 30d] [--until ...] [--actor ..] [--action ..]   JSON lines
    python -m bot users export <platform> <user_id>                                      one JSON document
    python -m bot users erase <platform> <user_id> --confirm <platform>:<user_id>

Commands run by an operator are recorded as `cli:<login>` with the role `operator`; the
export and erasure are recorded like a lead's through the API.
"""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from bot.config import Config

if TYPE_CHECKING:  # Redis and the stores are imported when a command runs: `--help` stays quick
    from redis.asyncio import Redis

T = TypeVar("T")


async def record_operator_action(redis: Redis, config: Config, action: str, target: str, outcome: str = "ok") -> None:
    """An operator's command in the audit trail (their login, this host; never a token)."""
    from bot.stores.audit import AuditEntry, AuditTrail

    entry = AuditEntry(f"cli:{getpass.getuser()}", "operator", action, target, f"cli@{socket.gethostname()}", outcome)
    await AuditTrail(redis, config.audit.retention_days).record(entry)


async def with_redis(config: Config, work: Callable[[Redis], Awaitable[T]]) -> T:
    import os

    from bot.stores.connection import connect

    redis = connect(config, os.environ)  # REDIS_URL, or the master Sentinel names
    try:
        return await work(redis)
    finally:
        await redis.close()


async def export_audit(redis: Redis, config: Config, args: argparse.Namespace) -> int:
    """The trail's entries of the period, oldest first, one JSON object a line on stdout."""
    from bot.stores.audit import AuditFilter, AuditTrail
    from bot.tools.reports import parse_moment

    wanted = AuditFilter(args.actor or "", args.action or "", "", parse_moment(args.since), parse_moment(args.until))
    await record_operator_action(redis, config, "audit_export", "")
    async for entry in AuditTrail(redis, config.audit.retention_days).between(wanted.since, wanted.until):
        if wanted.keeps(entry):
            sys.stdout.write(json.dumps(entry.public()) + "\n")
    return 0


async def user_request(redis: Redis, config: Config, args: argparse.Namespace) -> int:
    """`users export` prints everything kept about the user; `users erase` erases it."""
    from bot.services.privacy import DataRequests
    from bot.stores.audit import user_ref
    from bot.stores.blobs import open_blobs
    from bot.stores.personal_data import PersonalData
    from bot.stores.user_files import UserFiles

    requests = DataRequests(PersonalData(redis, config.languages), UserFiles(redis, open_blobs(config.attachments)))
    target = user_ref(args.platform, args.user_id)
    if args.users_command == "export":
        document = await requests.export(args.platform, args.user_id)
        await record_operator_action(redis, config, "user_export", target)
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    if args.confirm != f"{args.platform}:{args.user_id}":
        print(f"refused: add --confirm {args.platform}:<user_id> naming the same user", file=sys.stderr)
        await record_operator_action(redis, config, "user_erase", target, "not_confirmed")
        return 2
    erased = await requests.erase(args.platform, args.user_id)
    await record_operator_action(redis, config, "user_erase", target)
    print(json.dumps({"erased": erased}))
    return 0


def add_commands(sub: argparse._SubParsersAction, run_audit: Callable, run_users: Callable) -> None:
    """The `audit` and `users` commands, their work done by `run_audit` and `run_users`."""
    audit = sub.add_parser("audit", help="the audit trail of agents', leads' and operators' actions (needs REDIS_URL)")
    audit.add_argument("--config", default=None)
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    export = audit_sub.add_parser("export", help="entries as JSON lines, oldest first")
    export.add_argument("--since", default=None, help="epoch seconds or a duration ago: 30d, 24h")
    export.add_argument("--until", default=None, help="epoch seconds or a duration ago")
    export.add_argument("--actor", default=None)
    export.add_argument("--action", default=None)
    audit.set_defaults(func=run_audit)

    users = sub.add_parser("users", help="a platform user's data: export or erase (needs REDIS_URL)")
    users.add_argument("--config", default=None)
    users_sub = users.add_subparsers(dest="users_command", required=True)
    for name, text in (("export", "everything kept about the user, as JSON"),
                       ("erase", "erase it everywhere (reports keep anonymous counts)")):  # fmt: skip
        command = users_sub.add_parser(name, help=text)
        command.add_argument("platform", help="webchat, telegram, discord or x")
        command.add_argument("user_id")
        if name == "erase":
            command.add_argument("--confirm", default="", help="<platform>:<user_id> again")
    users.set_defaults(func=run_users)
