"""Background upkeep of the queue, one pass per call (the server runs them in loops):
agents who vanished lose their claims, and conversations past their lane's pickup target are
escalated."""

from __future__ import annotations

import logging
import time

from bot import metrics
from bot.config import HandoffSettings
from bot.services.replies import Replies
from bot.stores.agents import AgentStore
from bot.stores.conversations import ConversationStore
from bot.stores.handoff_queue import HandoffQueue

log = logging.getLogger(__name__)


async def requeue_vanished(agents: AgentStore, queue: HandoffQueue, timeout_seconds: float) -> list[str]:
    """Conversations of agents with no sign of life within the timeout go back to the head
    of their lanes; returns their ids."""
    requeued = []
    for name in await agents.vanished(timeout_seconds):
        for cid in await queue.owned_by(name):
            if await queue.requeue(cid, name):
                requeued.append(cid)
                log.info("agent %s vanished: %s back in the queue", name, cid)
    return requeued


async def escalate_overdue(
    queue: HandoffQueue, conversations: ConversationStore, replies: Replies, settings: HandoffSettings
) -> list[str]:
    """Every queued conversation past its lane's pickup target, once: bumped to the head of
    its lane, leads told (`sla_breached` event), the user told they are still in line."""
    now = time.time()
    escalated = []
    for entry in await queue.waiting():
        if now - entry.queued_at < settings.sla_seconds(entry.lane):
            continue
        conv = await conversations.get(entry.conversation)
        if conv is None or not await conversations.mark_sla_breached(conv.id, now):
            continue  # escalated before (or by another replica just now)
        await queue.bump(conv.id, entry.lane, entry.language)
        metrics.SLA_BREACHES.labels(entry.lane).inc()
        await queue.publish("sla_breached", conversation=conv.id, ticket=conv.ticket, lane=entry.lane,
                            language=entry.language, waited_seconds=round(now - entry.queued_at))  # fmt: skip
        text = replies.text("still_in_line", conv.language or entry.language, ticket=conv.ticket)
        await replies.tell(conv, text, record=True)
        escalated.append(conv.id)
    return escalated
