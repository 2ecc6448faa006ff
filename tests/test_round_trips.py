"""What a handled message costs in Redis (issue 17), through the real path: the web chat's API,
the front desk, the inbox with the trained model and every store, on a Redis of its own (see
`tests/round_trips.py`, which also prints the figures).

The limits are what the hot path costs now. A change that adds a round trip fails here: say
why in its commit and raise the limit with it (a round trip is ~0.1-0.5 ms of a message's
latency, more across zones; every replica's every message pays it)."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from bot.stores import incidents as incidents_module
from bot.stores.incidents import IncidentStore
from tests.conftest import RedisServer
from tests.round_trips import Rig, measure, open_rig, table

# Case -> (round trips, commands Redis runs, those inside Lua scripts included), at most.
# Not counted: what goes in batches shared by every message of a moment, the answered
# messages' deletion from the inbox (`intake.ANSWERED_BATCH_SECONDS`) and the questions' counts
# (`incidents.COUNT_BATCH_SECONDS`), one round trip each a batch.
# One round trip less each since the conversation and the secret marks come in one script; one
# more less for an answer through the outbox since its transcript line goes with it, and for
# the web chat's since its transcript line goes with the session's lines.
LIMITS = {
    "webchat question": (4, 27),  # the send counts' script is one command more than their pipeline
    "telegram question": (3, 19),
    "hand-off": (7, 39),  # 38 before teams: the returning user's check reads the last agent
    "during an incident": (4, 19),
}


@pytest.fixture(scope="module")
def quiet_redis(tmp_path_factory):
    """A Redis only this module talks to: its command counts are the bot's alone."""
    server = RedisServer(tmp_path_factory.mktemp("round-trips")).start()
    yield server
    server.stop()


@pytest.fixture
async def rig(quiet_redis, config, pipeline):
    await Redis.from_url(quiet_redis.url).flushdb()
    rig: Rig = await open_rig(quiet_redis.url, config, pipeline)
    yield rig
    await rig.close()


async def test_an_answered_question_costs_at_most_a_fixed_number_of_redis_round_trips(rig):
    spent = await measure(rig)
    over = {case: (cost.round_trips, cost.total) for case, cost in spent.items()
            if cost.round_trips > LIMITS[case][0] or cost.total > LIMITS[case][1]}  # fmt: skip
    assert not over, f"more Redis work per message than {LIMITS}:\n{table(spent)}"


async def test_an_incident_another_replica_declares_answers_its_topic_here_within_the_cache_time(quiet_redis):
    """The hot path reads the active incidents at most every `CACHED_SECONDS`; a declaration
    on another replica shows here once that time is over, and one made here at once."""
    here_client, there_client = Redis.from_url(quiet_redis.url), Redis.from_url(quiet_redis.url)
    await here_client.flushdb()
    here, there = IncidentStore(here_client), IncidentStore(there_client)
    try:
        assert await here.for_intent("withdrawal_pending") is None  # read: cached from now on
        declared = await there.declare(["withdrawal_pending"], {"en": "Delayed."}, "lead")
        await asyncio.sleep(incidents_module.CACHED_SECONDS + 0.2)
        assert (await here.for_intent("withdrawal_pending")).id == declared.id
        assert await here.resolve(declared.id) == []
        assert await here.for_intent("withdrawal_pending") is None, "resolved here: seen here at once"
        mine = await here.declare(["fees"], {"en": "Fees are changing."}, "lead")
        assert (await here.for_intent("fees")).id == mine.id, "declared here: seen here at once"
    finally:
        await here_client.flushdb()
        await here_client.close()
        await there_client.close()
