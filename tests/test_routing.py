"""Teams, capacity, auto-assignment, offers, overflow and returning users, on a real Redis
(issue 19): the atomic steps in `bot/stores/queue_scripts.py` and `bot/stores/assignment.py`,
and the rules of `bot/domain/routing.py`."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.messages import InboundMessage
from bot.domain.routing import RoutingError, RoutingSettings, parse_routing
from bot.services.upkeep import lapse_offers, offer_waiting, overflow_waiting
from bot.stores import keys
from bot.stores.agents import AgentStore
from bot.stores.assignment import Assignment
from bot.stores.conversations import ConversationStore
from bot.stores.handoff_queue import AtCapacity, HandoffQueue, Returning
from tests.helpers import LANGUAGES

TEAMS = ("security", "vip", "payments", "kyc", "general")


def routing(**changes) -> RoutingSettings:
    raw = {"teams": [{"name": "security", "lanes": ["urgent"], "intents": ["account_compromised"],
                      "auto_assign": True},
                     {"name": "vip", "lanes": ["vip"]}, {"name": "payments", "intents": ["deposit_missing"]},
                     {"name": "kyc", "intents": ["kyc_verification"]}, {"name": "general"}], **changes}  # fmt: skip
    return parse_routing(raw, LANGUAGES)


async def stores(redis, max_open: int = 8):
    conversations = ConversationStore(redis)
    queue = HandoffQueue(redis, conversations, LANGUAGES, TEAMS, max_open)
    await queue.setup("general")
    return conversations, queue, AgentStore(redis), Assignment(redis, LANGUAGES, max_open)


async def queued(conversations, queue, n: int, team: str, lane: str = "normal", language: str = "en",
                 prefix: str = "u") -> list[str]:  # fmt: skip
    ids = []
    for i in range(n):
        user = f"{prefix}{i}"
        conv = await conversations.for_message(InboundMessage("webchat", user, "private", user, "hi"))
        await queue.enqueue(conv.id, lane, language, "human_agent", team)
        ids.append(conv.id)
    return ids


async def published(events) -> list[dict]:
    """Every event the subscription received, in the order Redis ran what published them (a
    read that finds none, such as the subscription's own confirmation, is not the end: a
    second of silence is)."""
    found, quiet_since = [], time.monotonic()
    while time.monotonic() - quiet_since < 1:
        message = await events.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is not None:
            found.append(json.loads(message["data"]))
            quiet_since = time.monotonic()
    await events.close()
    return found


async def on_shift(agents: AgentStore, name: str, languages=("en",), teams=(), max_open=None) -> None:
    await agents.add(name, languages, teams=teams, max_open=max_open)
    await agents.seen(name)


def test_a_hand_off_goes_to_the_first_team_that_takes_it_and_the_rest_to_the_fallback():
    rules = routing()
    assert rules.team_for("account_compromised", "high", "en").name == "security"
    assert rules.team_for("human_agent", "urgent", "en").name == "security"
    assert rules.team_for("human_agent", "vip", "en").name == "vip"
    assert rules.team_for("deposit_missing", "normal", "en").name == "payments"
    assert rules.team_for("complaint", "high", "en").name == "general"
    only_chinese = routing(teams=[{"name": "zh-payments", "intents": ["deposit_missing"], "languages": ["zh"]},
                                  {"name": "general"}])  # fmt: skip
    assert only_chinese.team_for("deposit_missing", "normal", "zh").name == "zh-payments"
    assert only_chinese.team_for("deposit_missing", "normal", "en").name == "general"


@pytest.mark.parametrize("bad, says", [
    ({"teams": [{"name": "Security!"}]}, "teams[0]"),
    ({"teams": [{"name": "a", "intents": ["no_such_intent"]}]}, "teams[0].intents"),
    ({"teams": [{"name": "a", "lanes": ["fast"]}]}, "teams[0].lanes"),
    ({"teams": [{"name": "a"}], "fallback_team": "b"}, "fallback_team"),
    ({"teams": [{"name": "a"}, {"name": "a"}]}, "share a name"),
    ({"teams": [{"name": "a", "hours": {"timezone": "Mars/Olympus"}}]}, "timezone"),
    ({"teams": [{"name": "a", "hours": {"from": "18:00", "to": "09:00"}}]}, "before"),
    ({"max_open_per_agent": 0}, "max_open_per_agent"),
    ({"overflow_secs": 5}, "overflow_secs"),
])  # fmt: skip
def test_a_bad_routing_section_is_refused_naming_the_key(bad, says):
    with pytest.raises(RoutingError, match=says.replace("[", r"\[").replace("]", r"\]")):
        parse_routing(bad, LANGUAGES)


def test_business_hours_and_when_a_closed_team_opens_in_its_own_time_zone():
    hours = routing(teams=[{"name": "general", "hours": {"timezone": "Asia/Tokyo", "days": ["mon", "tue", "wed",
                    "thu", "fri"], "from": "09:00", "to": 1080}}]).fallback.hours  # fmt: skip  # YAML's 18:00
    tokyo = ZoneInfo("Asia/Tokyo")
    friday_evening = datetime(2026, 12, 11, 18, 30, tzinfo=tokyo).timestamp()
    assert not hours.is_open(friday_evening)
    assert hours.next_opening(friday_evening) == datetime(2026, 12, 14, 9, 0, tzinfo=tokyo)  # Monday
    monday_noon = datetime(2026, 12, 14, 12, 0, tzinfo=tokyo).timestamp()
    assert hours.is_open(monday_noon) and not hours.is_open(monday_noon + 6 * 3600)


async def test_claims_take_only_the_agents_teams_and_never_pass_their_maximum(redis):
    conversations, queue, agents, _ = await stores(redis, max_open=2)
    security = await queued(conversations, queue, 2, "security", "urgent", prefix="s")
    general = await queued(conversations, queue, 3, "general", prefix="g")
    assert await queue.claim_next("gil", ["en"], ["general"]) == general[0]
    assert await queue.claim_next("sam", ["en"], ["security"]) == security[0]
    assert await queue.claim_next("gil", ["en"], ["general"]) == general[1]
    with pytest.raises(AtCapacity):
        await queue.claim_next("gil", ["en"], ["general"])
    with pytest.raises(AtCapacity):
        await queue.claim(general[2], "gil")
    assert await queue.claim_next("sam", ["en"], ["security"]) == security[1]
    with pytest.raises(AtCapacity):  # a transfer to someone at their maximum is refused too
        await queue.transfer(security[0], "sam", "gil")
    await queue.resolve(general[0], "gil")
    assert await queue.claim(general[2], "gil")


async def test_twenty_thousand_claims_and_offers_by_200_agents_in_5_teams_keep_every_maximum(redis):
    """Agents claim, auto-assignment offers and agents resolve, all at once from many
    connections: in the order Redis ran them (its event stream), no agent ever held more than
    their maximum, no conversation went to two agents, and every conversation is accounted for."""
    conversations, queue, agents, assignment = await stores(redis, max_open=3)
    rng = random.Random(19)
    per_team = 1000
    ids = {team: await queued(conversations, queue, per_team, team, rng.choice(("urgent", "high", "normal")),
                              prefix=f"{team}-") for team in TEAMS}  # fmt: skip
    maximum = {}
    for n in range(200):
        name = f"a{n}"
        maximum[name] = rng.randint(1, 5)
        await on_shift(agents, name, teams=rng.sample(TEAMS, rng.randint(1, 2)), max_open=maximum[name])
    team_of = {name: (await agents.get(name)).teams for name in maximum}
    events = redis.pubsub()
    await events.subscribe(keys.EVENTS)
    operations = Counter()

    async def agent_day(name: str) -> None:
        while operations["claim"] + operations["offer"] < 20_000:
            mine = await queue.owned_by(name)
            if mine and rng.random() < 0.5:
                await queue.resolve(rng.choice(mine), name)
                continue
            try:
                operations["claim"] += 1
                if await queue.claim_next(name, ["en"], team_of[name]) is None and not mine:
                    return
            except AtCapacity:
                operations["at capacity"] += 1

    async def auto_assign() -> None:
        while operations["claim"] + operations["offer"] < 20_000:
            operations["offer"] += 1
            if not await assignment.offer_next(rng.choice(TEAMS), time.time() - 60):
                await asyncio.sleep(0)

    await asyncio.gather(*(agent_day(name) for name in maximum), *(auto_assign() for _ in range(5)))
    holding, peak, owner, over = Counter(), Counter(), {}, []
    for event in await published(events):
        if event["type"] == "claimed":
            assert event["conversation"] not in owner, f"{event['conversation']} given twice"
            owner[event["conversation"]] = event["agent"]
            holding[event["agent"]] += 1
            peak[event["agent"]] = max(peak[event["agent"]], holding[event["agent"]])
            if holding[event["agent"]] > maximum[event["agent"]]:
                over.append(event)
        elif event["type"] == "resolved":
            holding[event["agent"]] -= 1
    assert not over, f"over their maximum: {over[:3]}"
    assert len(owner) > 1000 and sum(peak[n] == maximum[n] for n in maximum) > 50, "most agents reached their maximum"
    assert operations["claim"] + operations["offer"] >= 20_000 and operations["at capacity"] > 0
    states = Counter()
    for cid in (cid for team in ids.values() for cid in team):
        states[(await conversations.get(cid)).state] += 1
    waiting = len(await queue.waiting())
    assert states["queued"] == waiting and sum(states.values()) == 5 * per_team, states
    assert set(owner) <= {cid for team in ids.values() for cid in team}
    for name, maximum_open in maximum.items():
        assert len(await queue.owned_by(name)) <= maximum_open


async def test_auto_assignment_offers_to_the_most_room_then_the_longest_idle_and_a_lapsed_offer_moves_on(redis):
    conversations, queue, agents, assignment = await stores(redis)
    await on_shift(agents, "busy", teams=["security"], max_open=3)
    await on_shift(agents, "idle", teams=["security"], max_open=3)
    await on_shift(agents, "away", teams=["security"], max_open=9)
    await agents.set_presence("away", "away")
    await on_shift(agents, "other-team", teams=["general"], max_open=9)
    await queue.claim(*(await queued(conversations, queue, 1, "security", prefix="x")), "busy")
    first, second = await queued(conversations, queue, 2, "security", "urgent")
    rules = routing()
    assert await offer_waiting(assignment, rules, 60) == 2
    assert (await conversations.get(first)).agent == "idle", "the most room"
    assert (await conversations.get(second)).agent in ("busy", "idle")
    assert (await conversations.get(first)).offered_at
    assert await assignment.accept(second, (await conversations.get(second)).agent)
    assert not (await conversations.get(second)).offered_at
    # Not accepted in time: back to the head of its lane and offered to someone else.
    assert await lapse_offers(assignment, queue, conversations, accept_seconds=0) == [first]
    assert (await conversations.get(first)).state == "queued"
    await offer_waiting(assignment, rules, 60)
    assert (await conversations.get(first)).agent == "busy", "not again to the agent who let it lapse"
    transcript = [line["text"] for line in await conversations.transcript(first)]
    assert any("not accepted in time by idle" in line for line in transcript)


async def test_an_offer_accepted_as_it_lapses_stays_with_the_agent(redis):
    conversations, queue, agents, assignment = await stores(redis)
    await on_shift(agents, "ana", teams=["security"])
    cid = (await queued(conversations, queue, 1, "security", "urgent"))[0]
    await assignment.offer_next("security", time.time() - 60)
    assert await assignment.accept(cid, "ana")
    assert await lapse_offers(assignment, queue, conversations, accept_seconds=0) == []
    assert (await conversations.get(cid)).agent == "ana"


async def test_a_team_with_no_one_available_overflows_to_the_fallback_after_the_wait_and_leads_hear(redis):
    conversations, queue, agents, assignment = await stores(redis)
    await on_shift(agents, "gil", teams=["general"])
    await on_shift(agents, "pat", teams=["payments"])
    await agents.set_presence("pat", "away")  # on shift but away: not available
    vip = await queued(conversations, queue, 1, "vip", "vip", prefix="v")
    payments = await queued(conversations, queue, 1, "payments", prefix="p")
    events = redis.pubsub()
    await events.subscribe(keys.EVENTS)
    rules = routing(overflow_seconds=3600)
    assert await overflow_waiting(queue, assignment, agents, conversations, rules, 60) == []
    rules = routing(overflow_seconds=0)
    assert sorted(await overflow_waiting(queue, assignment, agents, conversations, rules, 60)) == sorted(vip + payments)
    conv = await conversations.get(vip[0])
    assert conv.team == "general" and conv.overflowed_from == "vip"
    assert await queue.claim_next("gil", ["en"], ["general"]) in (vip[0], payments[0])
    told = await published(events)
    assert {e["overflowed_from"] for e in told if e["type"] == "overflowed"} == {"vip", "payments"}


async def test_a_returning_user_goes_back_to_their_last_agent_when_online_with_room(redis):
    conversations, queue, agents, _ = await stores(redis, max_open=1)
    await on_shift(agents, "ana", teams=["general"])
    cid = (await queued(conversations, queue, 1, "general"))[0]
    assert await queue.claim(cid, "ana") and await queue.resolve(cid, "ana")
    now = time.time()
    back = await queue.enqueue(cid, "normal", "en", "human_agent", "general", Returning(now - 3600, now - 60))
    assert back.agent == "ana" and (await conversations.get(cid)).agent == "ana"
    await queue.resolve(cid, "ana")
    busy = (await queued(conversations, queue, 1, "general", prefix="b"))[0]
    assert await queue.claim(busy, "ana")  # now at her maximum of 1
    full = await queue.enqueue(cid, "normal", "en", "human_agent", "general", Returning(now - 3600, now - 60))
    assert full.agent == "" and (await conversations.get(cid)).state == "queued"
    await queue.claim_next("someone", ["en"])
    await queue.resolve(cid, "someone")
    later = await queue.enqueue(cid, "normal", "en", "human_agent", "general", Returning(time.time() + 1, now - 60))
    assert later.agent == "", "past the window: the queue"


async def test_queues_from_before_teams_join_the_fallback_team(redis):
    conversations = ConversationStore(redis)
    conv = await conversations.for_message(InboundMessage("webchat", "old", "private", "old", "hi"))
    await conversations.update(conv.id, state="queued", lane="high", language="en", queued_at=1.0)
    await redis.zadd("sb:q:high:en", {conv.id: 1.0})
    queue = HandoffQueue(redis, conversations, LANGUAGES, TEAMS)
    await queue.setup("general")
    assert [(e.conversation, e.team) for e in await queue.waiting()] == [(conv.id, "general")]
    assert await queue.claim_next("ana", ["en"], ["general"]) == conv.id
