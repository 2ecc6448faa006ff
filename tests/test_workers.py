"""A replica's worker processes (issue 17): `python -m bot run` forks one worker per core (two
here), all serving one port. Messages spread over them and each is answered once, also when a
worker is killed in the middle of a flood (it is started again); the metrics count every
worker's messages whichever worker is scraped; stopping the replica, or killing it, leaves no
worker behind. A Redis of its own (AOF, fsync always), as in the exactly-once drills."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import urllib.request
import uuid
from collections import Counter

import pytest
import yaml

from tests.conftest import ROOT, BotProcess, RedisServer
from tests.helpers import wait_for
from tests.test_exactly_once import answers_by_client, flood, send_until_taken


def start_bot(workdir, redis: RedisServer) -> BotProcess:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    assert config["web"]["workers"] == 0, "the shipped default: one worker per core"
    config["limits"]["redelivery_seconds"] = 2
    config["web"]["rate_per_ip_minute"] = 1_000_000
    config["web"]["rate_per_session_minute"] = 1_000
    config_path = workdir / "config.yml"
    config_path.write_text(yaml.safe_dump(config))
    # The machine's cores decide by default; two workers here whatever the machine has.
    return BotProcess(redis.url, workdir / "bot.log", config_path, env={"SUPPORTBOT_WORKERS": "2"}).start()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, model_path):
    workdir = tmp_path_factory.mktemp("workers")
    redis = RedisServer(workdir, appendonly=True, appendfsync="always").start()
    bot = start_bot(workdir, redis)
    yield {"redis": redis, "bot": bot, "workdir": workdir}
    bot.stop()
    redis.stop()


def answering_workers(bot: BotProcess, tries: int = 60) -> set[int]:
    """Which workers answered `tries` fresh connections."""
    seen = set()
    for _ in range(tries):
        with urllib.request.urlopen(bot.url + "/livez", timeout=5) as response:
            seen.add(yaml.safe_load(response.read())["worker"])
    return seen


def messages_in(bot: BotProcess) -> float:
    with urllib.request.urlopen(bot.url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(r'^supportbot_messages_in_total\{platform="webchat"\} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_two_workers_serve_one_port(stack):
    bot = stack["bot"]
    assert len(bot.workers()) == 2
    # Ready when the first worker answers; the second follows within a few seconds.
    assert wait_for(lambda: answering_workers(bot) == {0, 1}, timeout=30)


def test_every_scrape_counts_the_messages_of_both_workers(stack):
    bot = stack["bot"]
    before = {messages_in(bot) for _ in range(6)}
    assert len(before) == 1, "each worker's scrape reports the same sum"
    for n in range(24):
        body = send_until_taken(bot, f"workers-count-{n}", "how do i enable 2fa?", uuid.uuid4().hex)
        assert body["replies"]
    after = {messages_in(bot) for _ in range(10)}
    assert after == {before.pop() + 24}


def test_a_worker_killed_in_a_flood_loses_nothing_and_answers_nothing_twice(stack):
    bot = stack["bot"]
    lead = min(bot.workers())  # forked first: worker 0, the one with the sweeps (recovery among them)
    killed_at = []

    def crash() -> None:
        killed_at.append(messages_in(bot))
        os.kill(lead, signal.SIGKILL)

    sent = flood(bot, sessions=16, per_session=45, crash=crash)  # a session reads 100 lines at once
    total = sum(len(client_ids) for client_ids in sent.values())
    assert total == 720 and killed_at[0] < total - 200, "the worker died in the middle of the flood"
    for session, client_ids in sent.items():
        expected = Counter(dict.fromkeys(client_ids, 1))
        answered = wait_for(lambda s=session, e=expected: _answers(bot, s) == e, timeout=60)
        assert answered, (session, _answers(bot, session))
    restarted = wait_for(lambda: lead not in bot.workers() and len(bot.workers()) == 2, timeout=15)
    assert restarted, "the killed worker was started again"
    assert wait_for(lambda: answering_workers(bot, 20) == {0, 1}, timeout=30)
    assert "worker 0 (pid" in bot.logs() and "starting it again" in bot.logs()


def _answers(bot: BotProcess, session: str) -> Counter | None:
    """The session's answers by client id; None when the connection went to a worker as it
    was killed (the page then asks again, as `wait_for` does)."""
    try:
        return answers_by_client(bot, session)
    except OSError:
        return None


def test_a_killed_replica_leaves_no_worker_serving(stack):
    bot = stack["bot"]
    workers = bot.workers()
    bot.process.kill()
    bot.process.wait()
    assert wait_for(lambda: not any(os.path.exists(f"/proc/{pid}") and _alive(pid) for pid in workers), timeout=15)
    with pytest.raises(OSError):
        urllib.request.urlopen(bot.url + "/livez", timeout=2)


def test_stopping_the_replica_stops_every_worker(stack, tmp_path):
    bot = start_bot(tmp_path, stack["redis"])
    workers = bot.workers()
    assert len(workers) == 2
    bot.process.send_signal(signal.SIGTERM)
    assert bot.process.wait(timeout=20) == 0
    assert not any(_alive(pid) for pid in workers)
    bot.stop()


def test_a_replica_whose_redis_is_unreachable_stops_and_says_why(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text((ROOT / "config.yml").read_text())
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:1/0", "SUPPORTBOT_WORKERS": "2"}
    done = subprocess.run([os.sys.executable, "-m", "bot", "run", "--port", "0", "--config", str(config)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert "is not reachable" in done.stderr and "stopping the replica" in done.stderr


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent."""
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
