"""`python -m bot agents add | rotate | revoke | list`: agents and their tokens (needs Redis).
A token is printed once, when it is made; the audit trail records who issued, rotated or
revoked one (never the token)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from typing import TYPE_CHECKING

from bot.config import load_config

if TYPE_CHECKING:
    from bot.stores.agents import AgentStore

log = logging.getLogger("bot")


def _days(text: str) -> float:
    """--expires-in-days: a number of days from 0 (no end) to 3650."""
    days = float(text)
    if not 0 <= days <= 3650:
        raise argparse.ArgumentTypeError("from 0 (no end) to 3650 days")
    return days


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
            known = config.routing.team_names
            unknown = [t for t in (getattr(args, "teams", "") or "").split(",") if t and t not in known]
            if unknown:
                log.error("no team %r in config.yml (routing.teams: %s)", unknown[0], ", ".join(known))
                return 2
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
            token = await store.add(args.name, args.languages.split(","), args.role, days,
                                    (args.teams or "").split(","), args.max_open)  # fmt: skip
        except ValueError as exc:
            log.error("%s", exc)
            return 2
        teams = args.teams or "every team"
        print(f"agent {args.name} ({args.role}, {args.languages}, {teams}); token ({until}), shown only now:")
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
            teams = ",".join(agent.teams) or "*"
            languages = ",".join(agent.languages)
            print(f"{agent.name}\t{agent.role}\t{languages}\t{teams}\t{agent.max_open or '-'}\t{expiry}")
    return 0


def add_agents_command(sub: argparse._SubParsersAction) -> None:
    """`agents add | rotate | revoke | list` on the command line."""
    agents = sub.add_parser("agents", help="manage support agents (needs REDIS_URL)")
    agents.add_argument("--config", default=None)
    agents_sub = agents.add_subparsers(dest="agents_command", required=True)
    add = agents_sub.add_parser("add", help="add an agent (or give one a new token); prints the token once")
    add.add_argument("name")
    add.add_argument("--languages", required=True, help="comma-separated, e.g. en,zh")
    add.add_argument("--role", choices=("agent", "lead"), default="agent")
    add.add_argument("--teams", default="", help="comma-separated teams of config.yml's routing (default: every team)")
    add.add_argument("--max-open", type=int, default=None,
                     help="open conversations held at most (default: routing.max_open_per_agent)")
    rotate = agents_sub.add_parser("rotate", help="a new token for an agent (the old one stops working); printed once")
    rotate.add_argument("name")
    revoke = agents_sub.add_parser("revoke", help="stop an agent's token from working")
    revoke.add_argument("name")
    for command in (add, rotate):
        command.add_argument("--expires-in-days", type=_days, default=None,
                             help="the token works this many days (0: no end; default: handoff.agent_token_days)")
    agents_sub.add_parser("list", help="list agents (name, role, languages, teams, maximum, token expiry)")
    agents.set_defaults(func=_agents)
