"""Redis failover without loss: the bot finds the master through Redis Sentinel, a write that
acknowledges something to a user or an agent returns only once a replica has it, and a
`kill -9` of the master in the middle of a flood of web chat messages loses none the bot
acknowledged. Real `redis-server` processes throughout: a master, a replica, three sentinels."""

from __future__ import annotations

import asyncio
import signal
import time
from contextlib import contextmanager

import pytest
import redis as redis_sync
from redis.asyncio import Redis

from bot import metrics
from bot.config import Config, ConfigError, load_config
from bot.domain.messages import InboundMessage, OutboundReply
from bot.stores import durability, keys
from bot.stores.connection import connect
from bot.stores.conversations import ConversationStore
from bot.stores.durability import replicated
from bot.stores.handoff_queue import HandoffQueue
from bot.stores.intake import IntakeStream
from bot.stores.outbox import Outbox
from tests import failover_drill
from tests.failover_drill import MASTER_NAME, SentinelCluster
from tests.helpers import LANGUAGES


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = SentinelCluster(tmp_path_factory.mktemp("sentinel")).start()
    yield cluster
    cluster.stop()


def sentinel_env(cluster: SentinelCluster) -> dict[str, str]:
    return {"REDIS_SENTINELS": cluster.sentinel_addresses, "REDIS_MASTER_NAME": MASTER_NAME}


def settings(tmp_path, env: dict[str, str], redis_section: str = "") -> Config:
    """The configuration of a file with only `redis_section` (the rest default), and `env`."""
    path = tmp_path / "config.yml"
    path.write_text(redis_section)
    return load_config(path, env=env)


def timeouts() -> float:
    return metrics.REGISTRY.get_sample_value("supportbot_replica_wait_timeouts_total")


@pytest.fixture
async def client(cluster, tmp_path):
    """The bot's client as `python -m bot run` makes it: through the sentinels; a replica
    that stalls gets 5 s before a write goes on without it."""
    redis = connect(settings(tmp_path, sentinel_env(cluster), "redis: {replica_wait_ms: 5000}"), {})
    await redis.flushdb()
    yield redis
    await redis.close()


@contextmanager
def stalled(cluster: SentinelCluster):
    """The replica frozen (SIGSTOP), as a replica behind a slow link or a long pause is."""
    replica = cluster.servers[cluster.replica_port()]
    replica.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        replica.send_signal(signal.SIGCONT)


def test_sentinels_come_from_the_environment_and_turn_the_replica_wait_on(tmp_path):
    config = settings(tmp_path, {"REDIS_SENTINELS": "10.0.0.5:26379, sentinel-2:26380", "REDIS_MASTER_NAME": "prod"})
    assert config.redis_sentinels == (("10.0.0.5", 26379), ("sentinel-2", 26380))
    assert (config.redis_master_name, config.redis.wait_replicas) == ("prod", 1)
    assert settings(tmp_path, {"REDIS_URL": "redis://10.0.0.5:6379/0"}).redis.wait_replicas == 0, "off without"
    assert settings(tmp_path, {"REDIS_SENTINELS": "s:26379"}, "redis: {wait_replicas: 0}").redis.wait_replicas == 0
    with pytest.raises(ConfigError, match="REDIS_SENTINELS: 'sentinel-1' is not host:port"):
        settings(tmp_path, {"REDIS_SENTINELS": "sentinel-1"})


async def _accept(redis: Redis) -> tuple[str, str]:
    entry = await IntakeStream(redis).accept(InboundMessage("webchat", "chat-1", "private", "u1", "hello"))
    return keys.INBOX, entry


async def _enqueue(redis: Redis) -> tuple[str, str]:
    conversations = ConversationStore(redis)
    conversation = await conversations.for_message(InboundMessage("webchat", "chat-2", "private", "u2", "a human"))
    await HandoffQueue(redis, conversations, LANGUAGES).enqueue(conversation.id, "high", "en", "human_agent")
    return keys.queue("general", "high", "en"), conversation.id


async def _put(redis: Redis) -> tuple[str, str]:
    return keys.outbox("webchat"), await Outbox(redis).put(OutboundReply("webchat", "chat-3", "Hi, Ana here."), "c3")


def _on(replica: redis_sync.Redis, key: str, member: str) -> bool:
    if replica.type(key) == b"zset":
        return replica.zscore(key, member) is not None
    return bool(replica.xrange(key, member, member))


@pytest.mark.parametrize("write", [_accept, _enqueue, _put], ids=["message accepted", "hand-off", "agent reply"])
async def test_an_acknowledging_write_returns_only_once_the_replica_has_it(cluster, client, write):
    with stalled(cluster):
        written = asyncio.create_task(write(client))
        await asyncio.sleep(0.5)
        assert not written.done(), "acknowledged while the replica does not have it"
    key, member = await asyncio.wait_for(written, 5)
    assert _on(redis_sync.Redis(port=cluster.replica_port()), key, member)


async def test_a_replica_too_slow_is_counted_and_the_write_stands(cluster, client):
    durability.require(client, 1, 200)
    before = timeouts()
    with stalled(cluster):
        started = time.monotonic()
        key, entry = await _accept(client)
        waited = time.monotonic() - started
    assert 0.2 <= waited < 2
    assert timeouts() == before + 1
    assert await client.xrange(key, entry, entry), "the message is still accepted"


async def test_the_wait_covers_what_other_connections_of_the_pool_wrote(cluster, client):
    """WAIT alone counts only the waiting connection's own writes; the stores write through a pool."""
    durability.require(client, 1, 200)
    other = Redis(port=cluster.master_port())
    with stalled(cluster):
        await other.set("written-elsewhere", 1)
        assert await replicated(client) is False
    await other.close()


async def test_without_sentinels_nothing_waits(cluster, tmp_path):
    config = settings(tmp_path, {"REDIS_URL": f"redis://127.0.0.1:{cluster.master_port()}/0"})
    redis = connect(config, {})
    with stalled(cluster):
        started = time.monotonic()
        await _accept(redis)
        assert time.monotonic() - started < 0.15
    await redis.close()


@pytest.mark.timeout(480)
def test_a_failover_mid_flood_loses_no_acknowledged_message(tmp_path, model_path):
    figures = failover_drill.run(tmp_path)
    print("\nfailover drill:", figures)
    assert figures["acknowledged"] == figures["messages"] and figures["never_acknowledged"] == 0
    assert figures["lost"] == 0, f"acknowledged, never answered: {figures['lost_ids']}"
    assert figures["seconds_without_service"] is not None and figures["seconds_without_service"] < 15
    assert figures["replica_back"] and figures["replica_wait_timeouts_once_back"] == 0

