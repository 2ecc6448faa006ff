"""Shared fixtures: one real redis-server, one trained model and one bot process per session.

Nothing here is a stand-in for Redis or Rasa: the tests start Debian's redis-server on a free
port and load the model `make test` trained (training it if it is missing).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def normal_text(text: str) -> str:
    """Lower case, punctuation and spacing folded: how near-duplicates are compared."""
    return re.sub(r"\W+", " ", text.lower()).strip()


def training_examples() -> set[str]:
    """Every NLU training example (`data/nlu/*.yml`), as `normal_text`."""
    examples = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            examples |= {normal_text(line[2:]) for line in block["examples"].splitlines() if line.startswith("- ")}
    return examples


def stored_text(redis_url: str) -> dict[str, str]:
    """Every value Redis holds (hash fields, list items, stream entries), as text per key: for
    asserting that a secret is stored nowhere."""
    import redis as redis_sync

    client = redis_sync.Redis.from_url(redis_url)
    stored = {}
    for key in client.scan_iter("*"):
        kind = client.type(key)
        if kind == b"hash":
            values = list(client.hgetall(key).values())
        elif kind == b"list":
            values = client.lrange(key, 0, -1)
        elif kind == b"stream":
            values = [v for _, fields in client.xrange(key) for v in fields.values()]
        else:
            continue
        stored[key.decode()] = "\n".join(v.decode(errors="replace") for v in values)
    return stored


class RedisServer:
    """A real redis-server on a free loopback port, with its data in a temporary folder."""

    def __init__(self, workdir: Path, appendonly: bool = False, appendfsync: str = "everysec") -> None:
        self.port = free_port()
        self.workdir = workdir
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if not binary:
            pytest.fail("redis-server is not installed: run `make test` (scripts/ensure-redis installs it)")
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir), "--save", "",
                "--databases", "32"]  # a database per module that runs its own bot
        if self.appendonly:
            args += ["--appendonly", "yes", "--appendfsync", self.appendfsync]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # redis-server writes its AOF out on SIGTERM
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The trained model (trained here only when `make test` did not already)."""
    from bot.nlu.model import train

    return train(say=lambda line: print(line, file=sys.stderr))


@pytest.fixture(scope="session")
def config():
    from bot.config import load_config

    return load_config()


@pytest.fixture(scope="session")
def pipeline(model_path: Path, config):
    from bot.domain.pipeline import Pipeline
    from bot.nlu.model import NluModel

    return Pipeline(config, NluModel.load(model_path))


def child_pids(pid: int) -> list[int]:
    """The live children of process `pid` (Linux), none when it is gone."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class BotProcess:
    """`python -m bot run` as a user starts it, on a free port, against the test Redis."""

    def __init__(self, redis_url: str, log_path: Path, config: Path | None = None, env: dict | None = None) -> None:
        self.port = free_port()
        self.redis_url = redis_url
        self.log_path = log_path
        self.config = config
        self.env = env or {}
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> BotProcess:
        # One worker process unless the test asks for more (`SUPPORTBOT_WORKERS`): a test that
        # kills the bot kills the process that handles its messages (tests/test_workers.py
        # runs several).
        env = {**os.environ, "REDIS_URL": self.redis_url, "SUPPORTBOT_WORKERS": "1", **self.env}
        if self.config is None:
            # The shipped configuration, except that every test client shares one address: the
            # per-address limit of the web chat is lifted (the per-session one stays).
            config = yaml.safe_load((ROOT / "config.yml").read_text())
            config["web"]["rate_per_ip_minute"] = 1_000_000
            self.config = self.log_path.with_name("config.yml")
            self.config.write_text(yaml.safe_dump(config))
        self.log = open(self.log_path, "ab")
        extra = ["--config", str(self.config)] if self.config else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--port", str(self.port), *extra],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the bot exited with {self.process.returncode}:\n{self.logs()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"the bot did not answer within {timeout} s:\n{self.logs()[-3000:]}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def workers(self) -> list[int]:
        """The pids of its worker processes (none when it runs one, in itself)."""
        return child_pids(self.process.pid) if self.process else []

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


@pytest.fixture(scope="module")
def bot(redis_server: RedisServer, model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    process = BotProcess(redis_server.url, tmp_path_factory.mktemp("bot") / "bot.log").start()
    yield process
    process.stop()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, driven by Playwright, for the modules that test pages."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run",
        ])  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
async def redis(redis_server):
    """An asyncio client on a Redis database of its own, emptied before and after each test."""
    # A database of its own, emptied for each test: the bot process of other modules uses db 0.
    client = Redis.from_url(redis_server.url.rsplit("/", 1)[0] + "/3")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.close()
