"""The stores the services share, opened together on one Redis connection: one holder handed
to each service instead of each constructor listing them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.stores.agents import AgentStore
from bot.stores.conversations import ConversationStore
from bot.stores.handoff_queue import HandoffQueue
from bot.stores.incidents import IncidentStore
from bot.stores.outbox import Outbox


@dataclass(frozen=True)
class Stores:
    """Conversations, the hand-off queue, the outbox, agents and incidents; `redis` for the
    few records the services keep themselves (the inbox stream, feedback, move tokens)."""

    redis: Redis
    conversations: ConversationStore
    queue: HandoffQueue
    outbox: Outbox
    agents: AgentStore
    incidents: IncidentStore

    @classmethod
    async def open(cls, redis: Redis, languages: Iterable[str]) -> Stores:
        """Every store on `redis`, ticket numbers set up."""
        conversations = ConversationStore(redis)
        queue = HandoffQueue(redis, conversations, languages)
        await queue.setup()
        return cls(redis, conversations, queue, Outbox(redis), AgentStore(redis), IncidentStore(redis))
