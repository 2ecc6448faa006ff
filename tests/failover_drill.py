"""The Redis failover drill (`python -m tests.failover_drill` prints its figures; the test is
`tests/test_failover.py`): a master, a replica and three sentinels, all real `redis-server`
processes on loopback; the bot started as a user starts it, configured with the sentinels; a
flood of web chat messages; `kill -9` of the master in the middle of it.

Counted: messages the bot acknowledged (HTTP 200) whose answer is not in the session afterwards
(lost; the goal is 0), and the seconds without service (from the first refused message to the
first accepted one after it). A refused message is sent again with the same text and the same
`client_id`, as the page does.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import redis as redis_sync
import yaml

from bot.config import ROOT
from tests.conftest import BotProcess, free_port

MASTER_NAME = "mymaster"
QUESTIONS = ["what are the trading fees", "how do I enable 2FA", "how long does a withdrawal take",
             "how do I verify my identity", "what is the minimum deposit"]  # fmt: skip
RETRY_SECONDS = 0.5  # the page's user sends again after a moment; a script does it on its own


def _ping(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server on port {port} did not start")


class SentinelCluster:
    """A master, a replica and three sentinels (quorum 2) on free loopback ports, with their
    files in `workdir`. Sentinels mark the master down after `down_after_ms` of silence."""

    def __init__(self, workdir: Path, down_after_ms: int = 1000, failover_timeout_ms: int = 3000) -> None:
        self.workdir = workdir
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.binary = shutil.which("redis-server") or "redis-server"
        self.servers: dict[int, subprocess.Popen] = {}  # port -> master or replica
        self.sentinels: dict[int, subprocess.Popen] = {}

    def _server(self, port: int, *extra: str) -> None:
        args = [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.workdir), "--save", "",
                "--dbfilename", f"dump-{port}.rdb", "--repl-diskless-sync-delay", "0", *extra]  # fmt: skip
        self.servers[port] = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _ping(port)

    def start(self) -> SentinelCluster:
        self.first_master = free_port()
        self._server(self.first_master)
        self._server(free_port(), "--replicaof", "127.0.0.1", str(self.first_master))
        for _ in range(3):
            port = free_port()
            conf = self.workdir / f"sentinel-{port}.conf"  # a sentinel rewrites its file: one each
            conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {self.workdir}\n"
                            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.first_master} 2\n"
                            f"sentinel down-after-milliseconds {MASTER_NAME} {self.down_after_ms}\n"
                            f"sentinel failover-timeout {MASTER_NAME} {self.failover_timeout_ms}\n")  # fmt: skip
            self.sentinels[port] = subprocess.Popen([self.binary, str(conf), "--sentinel"],
                                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        self._until_sentinels_know_everyone()
        return self

    def _until_sentinels_know_everyone(self, timeout: float = 30) -> None:
        """A failover needs each sentinel to know the replica and the other sentinels."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                states = [redis_sync.Redis(port=port).sentinel_master(MASTER_NAME) for port in self.sentinels]
                if all(s["num-slaves"] >= 1 and s["num-other-sentinels"] >= 2 for s in states):
                    return
            except redis_sync.RedisError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the sentinels did not find the replica and each other")

    @property
    def sentinel_addresses(self) -> str:
        """What `REDIS_SENTINELS` holds."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinels)

    def master_port(self) -> int:
        """The master's port, as the sentinels say."""
        for port in self.sentinels:
            try:
                return int(redis_sync.Redis(port=port).sentinel_get_master_addr_by_name(MASTER_NAME)[1])
            except (redis_sync.RedisError, TypeError):
                continue
        raise RuntimeError("no sentinel answers")

    def replica_port(self) -> int:
        """A replica's port (before a failover: the one replica)."""
        master = self.master_port()
        return next(port for port, process in self.servers.items() if port != master and process.poll() is None)

    def kill_master(self) -> int:
        """`kill -9` the master; its port."""
        port = self.master_port()
        self.servers[port].send_signal(signal.SIGKILL)
        self.servers[port].wait()
        return port

    def restart(self, port: int) -> None:
        """Start the killed server again, empty, as an operator would; the sentinels make it a
        replica of the new master."""
        self._server(port)

    def until_master_has_a_replica(self, timeout: float = 30) -> bool:
        """True once the master (the promoted one, after a failover) streams to a replica."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = redis_sync.Redis(port=self.master_port()).info("replication")
            if any(isinstance(v, dict) and v.get("state") == "online" for v in info.values()):
                return True
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        for process in [*self.sentinels.values(), *self.servers.values()]:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)


def start_bot(cluster: SentinelCluster, workdir: Path) -> BotProcess:
    """The bot, configured with the sentinels only (REDIS_URL points nowhere)."""
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["web"]["rate_per_ip_minute"] = 1_000_000  # one client sends everything
    config["web"]["rate_per_session_minute"] = 1_000_000
    config["limits"]["redelivery_seconds"] = 2
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    env = {"REDIS_SENTINELS": cluster.sentinel_addresses, "REDIS_MASTER_NAME": MASTER_NAME}
    return BotProcess("redis://127.0.0.1:1/0", workdir / "bot.log", workdir / "config.yml", env=env).start()


async def new_session(http: aiohttp.ClientSession, bot_url: str) -> str:
    """A web chat session id, issued by the bot as the page gets one."""
    async with http.post(f"{bot_url}/api/webchat/sessions", json={}) as response:
        assert response.status == 201, await response.text()
        return (await response.json())["session"]


@dataclass
class Flood:
    """What the client saw: per message its session, when it was acknowledged and the ids the
    acknowledgement named (its line and its answers); every attempt's outcome and time."""

    started: float = field(default_factory=time.monotonic)
    acknowledged: dict[str, tuple[str, float, list[str]]] = field(default_factory=dict)
    attempts: list[tuple[float, bool]] = field(default_factory=list)
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (when, seconds) of each 200
    unacknowledged: int = 0

    def now(self) -> float:
        return time.monotonic() - self.started


async def send_until_accepted(http: aiohttp.ClientSession, bot_url: str, flood: Flood, session: str, text: str,
                              client_id: str, give_up_after: float) -> None:  # fmt: skip
    """POST one message; a refusal (any status but 200) is sent again, same text and client_id."""
    deadline = time.monotonic() + give_up_after
    while time.monotonic() < deadline:
        sent = time.monotonic()
        try:
            async with http.post(f"{bot_url}/api/webchat/{session}/messages",
                                 json={"text": text, "client_id": client_id}) as response:  # fmt: skip
                body = await response.json(content_type=None)
                ok = response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError):
            ok = False
        flood.attempts.append((flood.now(), ok))
        if ok:
            flood.latencies.append((flood.now(), time.monotonic() - sent))
            ids = [body["message"]["id"], *(reply["id"] for reply in body["replies"])]
            flood.acknowledged[client_id] = (session, flood.now(), ids)
            return
        await asyncio.sleep(RETRY_SECONDS)
    flood.unacknowledged += 1


async def session_lines(http: aiohttp.ClientSession, bot_url: str, session: str) -> set[str]:
    """The ids of every line the session has, read through GET as the page reads them."""
    ids: set[str] = set()
    cursor = "0-0"
    while True:
        async with http.get(f"{bot_url}/api/webchat/{session}/messages", params={"after": cursor}) as response:
            body = await response.json()
        if not body["messages"]:
            return ids
        ids |= {message["id"] for message in body["messages"]}
        cursor = body["cursor"]


def outage_seconds(attempts: list[tuple[float, bool]], after: float) -> float | None:
    """From the first refused attempt after `after` to the first accepted one after that."""
    refused = [t for t, ok in attempts if not ok and t >= after]
    if not refused:
        return 0.0
    back = [t for t, ok in attempts if ok and t > refused[0]]
    return round(back[0] - refused[0], 2) if back else None


TIMEOUTS = "supportbot_replica_wait_timeouts_total"


async def _metric(http: aiohttp.ClientSession, bot_url: str, name: str) -> float:
    async with http.get(f"{bot_url}/metrics") as response:
        text = await response.text()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


def _p50_ms(seconds: list[float]) -> float | None:
    return round(statistics.median(seconds) * 1000, 1) if seconds else None


async def _flood(http: aiohttp.ClientSession, bot_url: str, cluster: SentinelCluster, names: list[str],
                 rate: float, seconds: float, kill_at: float) -> tuple[Flood, dict[str, float]]:  # fmt: skip
    """`rate` messages a second for `seconds` over the sessions `names`, the master killed at
    `kill_at`; once service is back the killed server is started again (empty), as an operator
    would, and the sentinels make it the new master's replica. What was seen, and when."""
    flood = Flood()
    killed: dict[str, float] = {}
    tasks = []
    for n in range(int(rate * seconds)):
        if "at" not in killed and flood.now() >= kill_at:
            killed["port"], killed["at"] = cluster.kill_master(), flood.now()
        elif "at" in killed and "restarted" not in killed and outage_seconds(flood.attempts, killed["at"]):
            cluster.restart(int(killed["port"]))
            killed["restarted"] = flood.now()
        tasks.append(asyncio.create_task(send_until_accepted(
            http, bot_url, flood, names[n % len(names)], QUESTIONS[n % len(QUESTIONS)], f"m{n:05d}", 60)))
        await asyncio.sleep(max(0.0, (n + 1) / rate - flood.now()))
    await asyncio.gather(*tasks)
    return flood, killed


async def flood_and_kill(bot_url: str, cluster: SentinelCluster, rate: float = 20, seconds: float = 20,
                         kill_at: float = 6, sessions: int = 40) -> dict:  # fmt: skip
    """The drill; its figures."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        names = [await new_session(http, bot_url) for _ in range(sessions)]
        timeouts_before = await _metric(http, bot_url, TIMEOUTS)
        flood, killed = await _flood(http, bot_url, cluster, names, rate, seconds, kill_at)
        timeouts = await _metric(http, bot_url, TIMEOUTS) - timeouts_before
        # With the old server back as a replica, acknowledgements wait for it again (no timeouts).
        replica_back = await asyncio.to_thread(cluster.until_master_has_a_replica)
        for n in range(5):
            await send_until_accepted(http, bot_url, flood, names[n], QUESTIONS[0], f"after-{n}", 30)
        timeouts_once_back = await _metric(http, bot_url, TIMEOUTS) - timeouts - timeouts_before
        found: set[str] = set()
        for name in names:
            found |= await session_lines(http, bot_url, name)
    lost = sorted(cid for cid, (_, _, ids) in flood.acknowledged.items() if not set(ids) <= found)
    return {
        "messages": int(rate * seconds), "acknowledged": sum(1 for cid in flood.acknowledged if cid[0] == "m"),
        "lost": len(lost),
        "lost_ids": lost, "never_acknowledged": flood.unacknowledged,
        "refused_attempts": sum(1 for _, ok in flood.attempts if not ok),
        "killed_at_s": round(killed["at"], 2), "seconds_without_service": outage_seconds(flood.attempts, killed["at"]),
        "old_master_restarted_at_s": round(killed.get("restarted", 0), 2), "replica_wait_timeouts": int(timeouts),
        "replica_back": replica_back, "replica_wait_timeouts_once_back": int(timeouts_once_back),
        "p50_ms_before_kill": _p50_ms([seconds for t, seconds in flood.latencies if t < killed["at"]]),
    }  # fmt: skip


def run(workdir: Path) -> dict:
    """Start everything in `workdir`, run the drill, stop everything; the figures."""
    cluster = SentinelCluster(workdir).start()
    bot = None
    try:
        bot = start_bot(cluster, workdir)
        return asyncio.run(flood_and_kill(bot.url, cluster))
    finally:
        if bot:
            bot.stop()
        cluster.stop()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="failover-") as tmp:
        print(json.dumps(run(Path(tmp)), indent=2))
