"""Redis commands per handled message (issue 17), counted on a Redis of its own through the real
path: the front desk, the inbox with the trained model and every store, and the web chat's API
served in-process over HTTP. `python -m tests.round_trips` prints the figures (the bench's);
`tests/test_round_trips.py` pins them.

Two figures: round trips (requests the bot's client sent, a pipeline or a script being one; what
a message waits for) and commands (what Redis executed, `INFO commandstats` before and after,
the commands a Lua script runs counted one by one; what Redis works for). Nothing else talks
to that Redis; the INFO calls themselves are left out. Each case first handles a message of the same kind
from another user, so that what a first use costs once per process (loading a Lua script
after NOSCRIPT, opening a connection) is not counted: the figure is the steady state.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import redis as redis_sync
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import Connection

from adapters.webchat import WebChat
from bot.config import Config
from bot.domain.messages import Action, Decision, InboundMessage
from bot.domain.pipeline import Pipeline
from bot.services.front_desk import FrontDesk
from bot.services.inbox import Inbox
from bot.stores.channel_state import WebChatSessions
from bot.stores.holder import Stores

LANGUAGES = ("en", "zh", "es", "fr", "ru", "ja", "ko", "vi")
QUESTION = "how long does a withdrawal take?"
PERSON = "i want to talk to a human"
# What only the measuring does (INFO) or a connection's first use (HELLO, CLIENT SETINFO).
NOT_COUNTED = {"info", "hello", "client|setinfo", "client|setname"}


class CommandCounter:
    """The commands Redis executed between `start` and `stop`, by name."""

    def __init__(self, url: str) -> None:
        self.client = redis_sync.Redis.from_url(url)
        self.before: Counter[str] = Counter()

    def _calls(self) -> Counter[str]:
        stats = self.client.info("commandstats")
        return Counter({name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()})

    def start(self) -> None:
        self.before = self._calls()

    def stop(self) -> Counter[str]:
        spent = self._calls() - self.before
        return Counter({name: calls for name, calls in spent.items() if name not in NOT_COUNTED})


class CountedConnection(Connection):
    """A connection that counts what it sends: one request per send, a whole pipeline included."""

    sent = 0

    async def send_packed_command(self, command, check_health: bool = True) -> None:  # type: ignore[no-untyped-def]
        type(self).sent += 1
        await super().send_packed_command(command, check_health)


@dataclass(frozen=True)
class Cost:
    """What one message cost: round trips from the bot, commands Redis ran (by name)."""

    round_trips: int
    commands: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.commands.values())


@dataclass
class Rig:
    """The core and the web chat on one Redis, and a counter of its commands."""

    redis: Redis
    stores: Stores
    desk: FrontDesk
    webchat: WebChat
    client: TestClient
    counter: CommandCounter

    async def close(self) -> None:
        await self.client.close()
        await self.webchat.stop()
        await self.redis.close()

    async def counted(self, step: Callable[[], Awaitable[object]]) -> tuple[object, Cost]:
        """What `step` returns and what it cost."""
        sent = CountedConnection.sent
        self.counter.start()
        result = await step()
        return result, Cost(CountedConnection.sent - sent, self.counter.stop())

    async def ask_webchat(self, text: str) -> tuple[dict, Cost]:
        """A new web chat session asks `text` (POST, as the page sends it): the response and
        what the POST cost."""
        created = await self.client.post("/api/webchat/sessions", json={})
        session = (await created.json())["session"]

        async def post() -> dict:
            response = await self.client.post(f"/api/webchat/{session}/messages",
                                              json={"text": text, "client_id": f"m-{session[:12]}"})  # fmt: skip
            assert response.status == 200, await response.text()
            return await response.json()

        body, spent = await self.counted(post)
        return body, spent  # type: ignore[return-value]

    async def take(self, user: str, text: str) -> tuple[Decision, Cost]:
        """A Telegram-style message (keyed by its id) whose reply takes the outbox."""
        message = InboundMessage("telegram", f"chat-{user}", "private", user, text, message_id=f"{user}-1")
        decision, spent = await self.counted(lambda: self.desk.take(message))
        return decision, spent  # type: ignore[return-value]


async def open_rig(redis_url: str, config: Config, pipeline: Pipeline) -> Rig:
    """The rig on the (empty) Redis at `redis_url`, with two agents on shift."""
    redis = Redis(connection_pool=ConnectionPool.from_url(redis_url, connection_class=CountedConnection))
    stores = await Stores.open(redis, LANGUAGES)
    desk = FrontDesk(Inbox(config, pipeline, stores))
    webchat = WebChat(desk, config.web, WebChatSessions(redis), secret="round-trips-test-secret")
    await webchat.start()
    app = web.Application()
    app.add_routes(webchat.routes())
    client = TestClient(TestServer(app))
    await client.start_server()
    for name, languages in (("ana", ["en", "es"]), ("bo", ["en", "zh"])):
        await stores.agents.add(name, languages)
        await stores.agents.seen(name)
    return Rig(redis, stores, desk, webchat, client, CommandCounter(redis_url))


async def measure(rig: Rig) -> dict[str, Cost]:
    """The commands of one message in each case: a web chat question answered (its session
    lines), a Telegram-style question answered through the outbox, a hand-off, and a question
    while an incident on its topic is active."""
    spent: dict[str, Cost] = {}
    await rig.ask_webchat(QUESTION)  # first uses: scripts loaded, connections opened
    body, spent["webchat question"] = await rig.ask_webchat(QUESTION)
    assert body["action"] == Action.ANSWER.value and body["replies"], body

    warm, _ = await rig.take("warm-1", QUESTION)
    decision, spent["telegram question"] = await rig.take("t-1", QUESTION)
    assert decision.action is Action.ANSWER and decision.reply, decision

    await rig.take("warm-2", PERSON)
    decision, spent["hand-off"] = await rig.take("h-1", PERSON)
    assert decision.action is Action.HANDOFF, decision

    status = {"en": "Withdrawals are delayed: we are on it."}
    incident = await rig.stores.incidents.declare([warm.intent], status, "lead")
    await rig.take("warm-3", QUESTION)
    decision, spent["during an incident"] = await rig.take("i-1", QUESTION)
    assert decision.reply and decision.reply.text.startswith("Withdrawals are delayed"), decision
    await rig.stores.incidents.resolve(incident.id)
    return spent


def table(spent: dict[str, Cost]) -> str:
    """One line per case: round trips, commands, and the commands by name."""
    lines = [f"{'':<20} {'trips':>5} {'cmds':>5}"]
    for case, cost in spent.items():
        detail = " ".join(f"{name}={calls}" for name, calls in sorted(cost.commands.items()))
        lines.append(f"{case:<20} {cost.round_trips:>5} {cost.total:>5}  {detail}")
    return "\n".join(lines)


async def _main() -> None:
    from bot.config import load_config
    from bot.nlu.model import NluModel, train
    from tests.conftest import RedisServer

    config = load_config()
    pipeline = Pipeline(config, NluModel.load(train(say=lambda line: print(line, file=sys.stderr))))
    with tempfile.TemporaryDirectory() as workdir:
        server = RedisServer(Path(workdir)).start()
        try:
            rig = await open_rig(server.url, config, pipeline)
            try:
                spent = await measure(rig)
            finally:
                await rig.close()
        finally:
            server.stop()
    print("Redis commands per handled message")
    print(table(spent))
    print(json.dumps({case: {"round_trips": cost.round_trips, "commands": cost.total} for case, cost in spent.items()}))


if __name__ == "__main__":
    asyncio.run(_main())
