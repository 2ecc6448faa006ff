"""`make bench`: routing at 200 agents in 5 teams (issue 19). Each agent works one or two teams
and holds at most 5 open conversations. First the agents claim at once until the queues are
empty (each resolves what they claimed, untimed, to make room: a claim also checks the room);
then the same conversations, queued again, are offered by auto-assignment, team after team,
the way the bot's sweep does it (the script reads every agent on shift to choose). The
latency of each claim and each offer, p50 and p99, on a database of its own."""

from __future__ import annotations

import asyncio
import random
import statistics
import time

from redis.asyncio import BlockingConnectionPool, Redis

from bot.domain.messages import InboundMessage
from bot.stores.agents import AgentStore
from bot.stores.assignment import Assignment
from bot.stores.conversations import ConversationStore
from bot.stores.handoff_queue import AtCapacity, HandoffQueue

TEAMS = ("security", "vip", "payments", "kyc", "general")
LANGUAGES = ("en", "es", "zh")


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


async def _queue_all(conversations: ConversationStore, queue: HandoffQueue, count: int, rng: random.Random) -> None:
    for i in range(count):
        conv = await conversations.for_message(InboundMessage("bench", f"r{i}", "private", f"r{i}", "help"))
        await queue.enqueue(conv.id, rng.choice(("urgent", "high", "normal")), rng.choice(LANGUAGES), "human_agent",
                            TEAMS[i % len(TEAMS)])  # fmt: skip


async def _claims(queue: HandoffQueue, teams: dict[str, tuple[str, ...]]) -> list[float]:
    took: list[float] = []

    async def agent(name: str) -> None:
        while True:
            began = time.perf_counter()
            try:
                cid = await queue.claim_next(name, LANGUAGES, teams[name])
            except AtCapacity:
                cid = None
            took.append(time.perf_counter() - began)
            if cid is None:
                return
            await queue.resolve(cid, name)

    await asyncio.gather(*(agent(name) for name in teams))
    return took


async def _offers(assignment: Assignment, queue: HandoffQueue) -> list[float]:
    took: list[float] = []
    while True:
        offered = 0
        for team in TEAMS:
            began = time.perf_counter()
            offer = await assignment.offer_next(team, time.time() - 600)
            took.append(time.perf_counter() - began)
            if offer:
                offered += 1
                await queue.resolve(offer.conversation, offer.agent)
        if not offered:
            return took


async def assignment_bench(redis_url: str, agents: int = 200, conversations: int = 4000) -> dict:
    """Claims and auto-assignment offers at `agents` agents in 5 teams: p50 and p99 of each."""
    pool = BlockingConnectionPool.from_url(redis_url, max_connections=agents + 5)
    redis = Redis(connection_pool=pool)
    await redis.flushdb()
    rng = random.Random(19)
    store, agent_store = ConversationStore(redis), AgentStore(redis)
    queue = HandoffQueue(redis, store, LANGUAGES, TEAMS, max_open=5)
    await queue.setup("general")
    assignment = Assignment(redis, LANGUAGES, max_open=5)
    teams = {}
    for n in range(agents):
        teams[f"a{n}"] = tuple(rng.sample(TEAMS, rng.randint(1, 2)))
        await agent_store.add(f"a{n}", rng.sample(LANGUAGES, 2), teams=teams[f"a{n}"])
        await agent_store.seen(f"a{n}")
    try:
        await _queue_all(store, queue, conversations, rng)
        claims = await _claims(queue, teams)
        await _queue_all(store, queue, conversations, rng)
        offers = await _offers(assignment, queue)
    finally:
        await redis.flushdb()
        await redis.close()
        await pool.disconnect()
    return {
        "agents": agents, "teams": len(TEAMS), "claims": len(claims), "offers": len(offers),
        "claim_p50_ms": _ms(claims, 0.5), "claim_p99_ms": _ms(claims, 0.99),
        "offer_p50_ms": _ms(offers, 0.5), "offer_p99_ms": _ms(offers, 0.99),
        "offer_mean_ms": round(1000 * statistics.fmean(offers), 3),
    }  # fmt: skip
