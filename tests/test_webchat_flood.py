"""A flood of web chat long polls against the real bot process and a Redis of its own: the bot
keeps answering everyone else, holds no Redis connection per poll, and refuses what is over
its caps with a JSON error.

Each poll used to hold a Redis connection for its whole wait (a blocking XREAD): 10,000 open
polls meant ~10,000 Redis connections, the bot ran out of file descriptors and a POST waited
14 s for a 503.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from collections import Counter
from collections.abc import Iterator

import aiohttp
import pytest
import redis as redis_sync
import yaml

from adapters.webchat_ids import SessionIds
from tests.conftest import ROOT, BotProcess, RedisServer

POLLS = 10_000
SECRET = "flood-test-secret-0123456789abcdef"  # WEBCHAT_SESSION_SECRET: the test signs its own ids
IDS = SessionIds(SECRET.encode())


def start_bot(workdir, redis: RedisServer, **web: object) -> BotProcess:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["web"].update(rate_per_ip_minute=1_000_000, **web)
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    return BotProcess(redis.url, workdir / "bot.log", workdir / "config.yml",
                      env={"WEBCHAT_SESSION_SECRET": SECRET}).start()  # fmt: skip


@pytest.fixture(scope="module")
def redis_alone(tmp_path_factory) -> Iterator[RedisServer]:
    """A Redis of this module's own: its client count is the bot's."""
    server = RedisServer(tmp_path_factory.mktemp("flood-redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def roomy(tmp_path_factory, redis_alone, model_path) -> Iterator[BotProcess]:
    """A bot whose address and process caps let one client hold 10,000 polls."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < POLLS + 1000:  # a socket a poll, here and in the bot
        pytest.skip(f"needs {POLLS + 1000} file descriptors a process; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the bot inherits it
    bot = start_bot(tmp_path_factory.mktemp("flood-roomy"), redis_alone, polls_per_address=POLLS * 2,
                    polls_total=POLLS * 2)  # fmt: skip
    yield bot
    bot.stop()
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture(scope="module")
def capped(tmp_path_factory, redis_alone, model_path) -> Iterator[BotProcess]:
    """A bot with the shipped caps, behind a proxy: addresses come from X-Forwarded-For."""
    bot = start_bot(tmp_path_factory.mktemp("flood-capped"), redis_alone, trust_forwarded_for=True)
    yield bot
    bot.stop()


def redis_clients(server: RedisServer) -> int:
    """Connections to the test's Redis, this one excluded."""
    return redis_sync.Redis.from_url(server.url).info("clients")["connected_clients"] - 1


def open_files(bot: BotProcess) -> int:
    return len(os.listdir(f"/proc/{bot.process.pid}/fd"))


def cpu_seconds(bot: BotProcess) -> float:
    """The CPU time the bot process has used (user and system)."""
    fields = open(f"/proc/{bot.process.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def settled(bot: BotProcess, timeout: float) -> bool:
    """Waits until the bot is idle (under 5% of a core for a second): every poll sent is
    read and waiting. Taking 10,000 in costs ~1 ms of CPU each, longer on a busy machine."""
    deadline, used = time.monotonic() + timeout, cpu_seconds(bot)
    while time.monotonic() < deadline:
        await asyncio.sleep(1)
        used, before = cpu_seconds(bot), used
        if used - before < 0.05:
            return True
    return False


async def poll(http: aiohttp.ClientSession, bot: BotProcess, session: str, address: str = "203.0.113.1",
               wait: int = 25) -> tuple[int, dict]:  # fmt: skip
    url = f"{bot.url}/api/webchat/{session}/messages?after=0-0&wait={wait}"
    try:
        async with http.get(url, headers={"X-Forwarded-For": address}) as response:
            return response.status, await response.json()
    except aiohttp.ClientError as exc:
        return 0, {"error": type(exc).__name__}


async def say(http: aiohttp.ClientSession, bot: BotProcess, session: str, text: str) -> tuple[int, float]:
    """POSTs a message; its status and how long the answer took."""
    started = time.monotonic()
    async with http.post(f"{bot.url}/api/webchat/{session}/messages", json={"text": text}) as response:
        await response.read()
        return response.status, time.monotonic() - started


async def until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.25)
    return predicate()


@pytest.mark.timeout(600)
def test_ten_thousand_held_polls_leave_the_bot_answering_on_a_few_redis_connections(roomy, redis_alone):
    sessions = [IDS.issue() for _ in range(POLLS)]
    measured: dict[str, object] = {}

    async def flood() -> None:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:
            polls = [asyncio.create_task(poll(http, roomy, session)) for session in sessions]
            started = time.monotonic()
            held = await until(lambda: open_files(roomy) >= POLLS, timeout=120) and await settled(roomy, 150)
            measured["held"], measured["files"] = held, open_files(roomy)
            measured["intake seconds"] = round(time.monotonic() - started, 1)
            measured["redis during"] = redis_clients(redis_alone)
            async with aiohttp.ClientSession() as other:  # someone else, on connections of their own
                measured["post"] = await say(other, roomy, IDS.issue(), "what are the trading fees?")
                woken = polls[1234]
                status, _ = await say(other, roomy, sessions[1234], "hello?")
                started = time.monotonic()
                measured["woken"] = (await asyncio.wait_for(woken, 5), time.monotonic() - started, status)
            measured["redis flooded"] = redis_clients(redis_alone)
            for task in polls:
                task.cancel()
            await asyncio.gather(*polls, return_exceptions=True)
        await until(lambda: open_files(roomy) < 300, timeout=30)
        measured["files after"], measured["redis after"] = open_files(roomy), redis_clients(redis_alone)

    asyncio.run(flood())
    print(measured)
    assert measured["held"], f"the bot never held {POLLS} polls: {measured['files']} open files"
    assert measured["post"][0] == 200 and measured["post"][1] < 1.0, f"a POST under the flood: {measured['post']}"
    (status, body), latency, _ = measured["woken"]
    assert status == 200 and body["messages"][0]["text"] == "hello?" and latency < 0.5, measured["woken"]
    for when in ("redis during", "redis flooded", "redis after"):
        assert measured[when] < 50, f"Redis connections {when}: {measured[when]}"
    assert measured["files"] < POLLS + 300, "one socket per poll, nothing more"
    assert measured["files after"] < 300
    assert "Too many open files" not in roomy.logs()


def test_polls_over_the_caps_are_answered_at_once_and_other_addresses_are_served(capped, redis_alone):
    sessions = [IDS.issue() for _ in range(500)]

    async def flood() -> dict:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
            polls = [asyncio.create_task(poll(http, capped, sessions[n % 500])) for n in range(1000)]
            await asyncio.sleep(5)
            refused = [task.result() for task in polls if task.done()]
            neighbour = asyncio.create_task(poll(http, capped, IDS.issue(), address="198.51.100.9", wait=3))
            tabs = IDS.issue()  # one session, three polls (three tabs, or a page reloaded twice)
            first = asyncio.create_task(poll(http, capped, tabs, address="192.0.2.1", wait=20))
            await asyncio.sleep(0.5)
            second = asyncio.create_task(poll(http, capped, tabs, address="192.0.2.2", wait=1))
            third = asyncio.create_task(poll(http, capped, tabs, address="192.0.2.3", wait=1))
            replaced = await asyncio.wait_for(first, 5)
            results = {"refused": refused, "neighbour": await neighbour, "replaced": replaced,
                       "second": await second, "third": await third}  # fmt: skip
            for task in polls:
                task.cancel()
            await asyncio.gather(*polls, return_exceptions=True)
            return results

    results = asyncio.run(flood())
    codes = Counter((status, body.get("error")) for status, body in results["refused"])
    assert codes == {(429, "too_many_polls"): 950}, f"50 held from one address, the rest refused at once: {codes}"
    assert results["neighbour"] == (200, {"messages": [], "cursor": "0-0"}), "another address waits as usual"
    assert results["replaced"][0] == 409 and results["replaced"][1]["error"] == "poll_replaced", results["replaced"]
    assert results["second"][0] == results["third"][0] == 200, "a session's two newest polls are held"
    assert redis_clients(redis_alone) < 50
