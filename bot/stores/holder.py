"""The stores the services share, opened together on one Redis connection: one holder handed
to each service instead of each constructor listing them, and what a store raises when Redis
is out of reach."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.domain.attachments import FileSettings
from bot.domain.routing import RoutingSettings
from bot.stores.account_links import AccountLinks
from bot.stores.agents import AgentStore
from bot.stores.assignment import Assignment
from bot.stores.audit import AuditTrail
from bot.stores.blobs import open_blobs
from bot.stores.channel_state import ChannelState
from bot.stores.conversations import ConversationStore
from bot.stores.handoff_queue import HandoffQueue
from bot.stores.incidents import IncidentStore
from bot.stores.intake import IntakeStream
from bot.stores.lead_lists import LeadLists
from bot.stores.move_tokens import MoveTokens
from bot.stores.outbox import Outbox
from bot.stores.user_files import UserFiles

# What a store outage raises: a channel that polls pauses and tries again, a request is refused.
STORE_OUTAGE: tuple[type[Exception], ...] = (RedisError, OSError)


@dataclass(frozen=True)
class Stores:
    """Conversations, the hand-off queue, the outbox, agents, incidents, the intake stream, the
    leads' lists, the tokens of private moves, account links, the audit trail, the offers
    of auto-assignment, the conversations' files and what channels keep (handed to them by the
    composition root; the services read e-mail threads and whether a web chat page is open). The services
    reach Redis only through these."""

    conversations: ConversationStore
    queue: HandoffQueue
    outbox: Outbox
    agents: AgentStore
    incidents: IncidentStore
    intake: IntakeStream
    lead_lists: LeadLists
    moves: MoveTokens
    links: AccountLinks
    audit: AuditTrail

    assignment: Assignment
    files: UserFiles
    channel_state: ChannelState

    @classmethod
    async def open(cls, redis: Redis, languages: Iterable[str], audit_days: int = 365,
                   routing: RoutingSettings = RoutingSettings(),
                   files: FileSettings = FileSettings()) -> Stores:  # fmt: skip
        """Every store on `redis`, ticket numbers set up and queues from before teams moved to
        the fallback team (`audit_days`: the audit's retention; `routing`: the teams; `files`:
        where the files' bytes are kept)."""
        conversations = ConversationStore(redis)
        languages = tuple(languages)
        queue = HandoffQueue(redis, conversations, languages, routing.team_names, routing.max_open_per_agent)
        await queue.setup(routing.fallback_team)
        return cls(conversations, queue, Outbox(redis), AgentStore(redis), IncidentStore(redis), IntakeStream(redis),
                   LeadLists(redis), MoveTokens(redis), AccountLinks(redis), AuditTrail(redis, audit_days),
                   Assignment(redis, languages, routing.max_open_per_agent),
                   UserFiles(redis, open_blobs(files)), ChannelState.on(redis))  # fmt: skip
