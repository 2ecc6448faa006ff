"""Background upkeep of the queue, one pass per call (the server runs them in loops; each
step is atomic in Redis): agents who vanished lose their claims, conversations past their
lane's pickup target are escalated, teams that auto-assign offer what waits, offers not
accepted in time go to the next agent, what waits too long in a team with no one
available overflows to the fallback team, and files past their retention are removed."""

from __future__ import annotations

import logging
import time

from bot import metrics
from bot.config import HandoffSettings
from bot.domain.routing import RoutingSettings
from bot.services.replies import Replies
from bot.stores.agents import AgentStore
from bot.stores.assignment import Assignment
from bot.stores.blobs import BlobStoreFailed
from bot.stores.conversations import ConversationStore
from bot.stores.handoff_queue import HandoffQueue
from bot.stores.user_files import UserFiles

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


async def escalate_overdue(queue: HandoffQueue, conversations: ConversationStore, replies: Replies,
                           settings: HandoffSettings,
                           routing: RoutingSettings = RoutingSettings()) -> list[str]:  # fmt: skip
    """Every queued conversation past its lane's pickup target, once: bumped to the head of
    its lane, leads told (`sla_breached` event), the user told they are still in line. Not
    while its team is closed: the user was told when it opens."""
    now = time.time()
    escalated = []
    for entry in await queue.waiting():
        closed = not routing.team(entry.team).hours.is_open(now)
        if now - entry.queued_at < settings.sla_seconds(entry.lane) or closed:
            continue
        conv = await conversations.get(entry.conversation)
        if conv is None or not await conversations.mark_sla_breached(conv.id, now):
            continue  # escalated before (or by another replica just now)
        await queue.bump(entry)
        metrics.SLA_BREACHES.labels(entry.lane).inc()
        await queue.publish("sla_breached", conversation=conv.id, ticket=conv.ticket, lane=entry.lane,
                            language=entry.language, waited_seconds=round(now - entry.queued_at))  # fmt: skip
        text = replies.text("still_in_line", conv.language or entry.language, ticket=conv.ticket)
        await replies.tell(conv, text, record=True)
        escalated.append(conv.id)
    return escalated


MAX_OFFERS_A_PASS = 200


async def offer_waiting(assignment: Assignment, routing: RoutingSettings, seen_within: float) -> int:
    """Each open team that auto-assigns offers what waits to its available agents, until
    nothing waits or no one has room; how many were offered."""
    offered, now = 0, time.time()
    for team in routing.teams:
        if not team.auto_assign or not team.hours.is_open(now):
            continue
        while offered < MAX_OFFERS_A_PASS and await assignment.offer_next(team.name, now - seen_within):
            offered += 1
    return offered


async def lapse_offers(assignment: Assignment, queue: HandoffQueue, conversations: ConversationStore,
                       accept_seconds: float) -> list[str]:  # fmt: skip
    """Offers not accepted within `accept_seconds` go back to the head of their lane, for the
    next agent (the one who let it lapse is not offered it again); the agent and leads are told."""
    lapsed = []
    for cid in await assignment.lapsed(time.time() - accept_seconds):
        conv = await conversations.get(cid)
        if conv is None or not await queue.requeue(cid, conv.agent, declined=True):
            continue  # accepted, closed or requeued meanwhile
        await conversations.append(cid, "system", f"not accepted in time by {conv.agent}: offered to the next agent")
        await queue.publish("offer_lapsed", conversation=cid, ticket=conv.ticket, agent=conv.agent)
        lapsed.append(cid)
    return lapsed


async def overflow_waiting(queue: HandoffQueue, assignment: Assignment, agents: AgentStore,
                           conversations: ConversationStore, routing: RoutingSettings,
                           seen_within: float) -> list[str]:  # fmt: skip
    """What waited `overflow_seconds` in an open team with no agent on shift and online moves
    to the fallback team, keeping its place in time; leads are told (`overflowed`)."""
    moved, now = [], time.time()
    fallback = routing.fallback_team
    on_shift = await agents.on_shift(seen_within)
    for team in routing.teams:
        if team.name == fallback or not team.hours.is_open(now) or any(a.available_for(team.name) for a in on_shift):
            continue
        for entry in await queue.waiting([team.name]):
            waited = now - entry.queued_at
            if waited < routing.overflow_seconds or not await assignment.move_team(entry.conversation, team.name,
                                                                                  fallback):  # fmt: skip
                continue
            conv = await conversations.get(entry.conversation)
            await conversations.append(entry.conversation, "system",
                                       f"overflowed from {team.name} to {fallback}: no one available after "
                                       f"{round(waited)} s")  # fmt: skip
            await queue.publish("overflowed", conversation=entry.conversation, ticket=conv.ticket if conv else None,
                                team=fallback, overflowed_from=team.name, waited_seconds=round(waited))  # fmt: skip
            log.info("%s overflowed from %s to %s after %d s", entry.conversation, team.name, fallback, waited)
            moved.append(entry.conversation)
    return moved


DAY = 86_400


async def remove_expired_files(files: UserFiles, keep_days: float, limit: int = 500) -> int:
    """Files kept longer than `keep_days` removed with their bytes, at most `limit` a pass;
    how many. Their transcript lines stay (the console shows the file as gone). A blob store
    that fails (a bucket unreachable or refusing) is logged, and the files are tried again on
    the next pass: their records stay until their bytes are gone."""
    try:
        return await files.remove_older_than(time.time() - keep_days * DAY, limit)
    except BlobStoreFailed as failed:
        log.warning("file retention: the blob store failed (%s); tried again next pass", failed)
        return 0
