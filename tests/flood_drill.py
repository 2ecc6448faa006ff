"""The incident flood drill (issue 17): when withdrawals stall, thousands of users ask at once.

`users` users (half on Telegram, half in the web chat) send `messages` messages in all over
`seconds` seconds, at a steady rate, through two replicas of the bot on one Redis (a load
balancer's round robin: message by message, alternately to each). Each user's messages are
spaced evenly (users / rate seconds apart), so each is answered before the next. The clients
behave like the platforms: a webhook update that got no 200 is posted again, a web chat message
that got no answer (503, a reset connection) is sent again with the same client id.

The load runs in a process of its own (`python -m tests.flood_drill`, one JSON command on
stdin, its result on stdout), holding the Telegram stand-in the replicas send their answers
to. Measured: every message answered once (Telegram: one `sendMessage` per update to its chat;
web chat: one bot line per client id in the session's history), the latency's p50 and p99 per
channel (update posted -> the stand-in receives its answer; POST -> its response), and the
longest backlog (messages sent and not yet answered, sampled every quarter second).

`tests/test_flood.py` runs it small; `make bench` (`tests/bench_e2e.py`) runs it full size.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.config import ROOT
from tests.bench_load import QUESTIONS, WEBHOOK_SECRET, telegram_update
from tests.bench_saturation import BOT_ENV, bot_config
from tests.conftest import BotProcess, RedisServer
from tests.standins.telegram_api import TelegramStandIn

FIRST_CHAT = 70_000_000
RESEND_AFTER_SECONDS = 1.0
SAMPLE_SECONDS = 0.25


class CountingTelegram(TelegramStandIn):
    """The stand-in, noting when each answer to each chat reaches it."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[int, list[float]] = defaultdict(list)

    async def _handle(self, request: web.Request) -> web.Response:
        response = await super()._handle(request)
        if request.match_info["method"] == "sendMessage" and response.status == 200:
            chat = json.loads(response.body)["result"]["chat"]["id"]
            self.answers[chat].append(time.perf_counter())
        return response


class Flood:
    """One drill's clients and what they saw."""

    def __init__(self, telegram: CountingTelegram, bot_urls: list[str]) -> None:
        self.telegram = telegram
        self.bot_urls = bot_urls
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                          timeout=aiohttp.ClientTimeout(total=120))  # fmt: skip
        self.sent_at: dict[tuple[str, int, int], float] = {}  # (channel, user, n-th message) -> time
        self.latency_ms: dict[str, list[float]] = defaultdict(list)
        self.answered = 0
        self.resends: Counter = Counter()
        self.sessions: dict[int, str] = {}

    async def issue_sessions(self, users: list[int]) -> None:
        gate = asyncio.Semaphore(20)

        async def one(user: int) -> None:
            async with gate, self.http.post(f"{self.bot_urls[user % 2]}/api/webchat/sessions", json={}) as response:
                response.raise_for_status()
                self.sessions[user] = (await response.json())["session"]

        await asyncio.gather(*(one(user) for user in users))

    async def send_telegram(self, index: int, user: int, nth: int) -> None:
        update = telegram_update(index + 1, nth + 1, FIRST_CHAT + user, QUESTIONS[index % len(QUESTIONS)])
        self.sent_at[("telegram", user, nth)] = time.perf_counter()
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        while not await self._posted(f"{self.bot_urls[index % 2]}/telegram/webhook", update, headers):
            self.resends["telegram"] += 1
            await asyncio.sleep(RESEND_AFTER_SECONDS)

    async def send_webchat(self, index: int, user: int, nth: int) -> None:
        body = {"text": QUESTIONS[index % len(QUESTIONS)], "client_id": f"flood-{user}-{nth}"}
        sent = self.sent_at[("webchat", user, nth)] = time.perf_counter()
        url = f"{self.bot_urls[index % 2]}/api/webchat/{self.sessions[user]}/messages"
        while not await self._posted(url, body, {}):
            self.resends["webchat"] += 1
            await asyncio.sleep(RESEND_AFTER_SECONDS)
        self.latency_ms["webchat"].append((time.perf_counter() - sent) * 1000)
        self.answered += 1

    async def _posted(self, url: str, body: dict, headers: dict) -> bool:
        try:
            async with self.http.post(url, json=body, headers=headers) as response:
                await response.read()
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False

    def telegram_answered(self) -> int:
        return sum(1 for (channel, user, nth) in self.sent_at
                   if channel == "telegram" and len(self.telegram.answers.get(FIRST_CHAT + user, ())) > nth)

    def outstanding(self) -> int:
        return len(self.sent_at) - self.answered - self.telegram_answered()

    async def run(self, users: int, messages: int, seconds: float, drain_seconds: float) -> dict:
        """Send, wait for the answers (at most `drain_seconds` after the last message left),
        then check each message was answered once."""
        await self.issue_sessions([user for user in range(users) if user % 2])
        rate, nth = messages / seconds, Counter()
        cpu, began = time.process_time(), time.perf_counter()
        backlog: list[tuple[float, int]] = []
        tasks, next_sample = [], began
        for index in range(messages):
            now = time.perf_counter()
            if now >= next_sample:
                backlog.append((round(now - began, 2), self.outstanding()))
                next_sample += SAMPLE_SECONDS
            await asyncio.sleep(max(0.0, began + index / rate - now))
            user = index % users
            send = self.send_webchat if user % 2 else self.send_telegram
            tasks.append(asyncio.create_task(send(index, user, nth[user])))
            nth[user] += 1
        sending = time.perf_counter() - began
        deadline = time.perf_counter() + drain_seconds
        while self.outstanding() > 0 and time.perf_counter() < deadline:
            backlog.append((round(time.perf_counter() - began, 2), self.outstanding()))
            await asyncio.sleep(SAMPLE_SECONDS)
        drained = time.perf_counter() - began - sending
        await asyncio.sleep(3)  # a repeated answer would come late
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        result = {"users": users, "messages": messages, "seconds": seconds, "rate": round(rate, 1),
                  "send_seconds": round(sending, 2), "drain_seconds": round(drained, 2),
                  "max_backlog": max(count for _, count in backlog), "backlog": backlog[::4],
                  "driver_cpu_s": round(time.process_time() - cpu, 2), "resends": dict(self.resends),
                  "telegram": self.telegram_figures(), "webchat": await self.webchat_figures()}  # fmt: skip
        await self.http.close()
        return result

    def telegram_figures(self) -> dict:
        """Per chat: as many answers as messages (the k-th answers the k-th), latencies."""
        sent = Counter(user for channel, user, _ in self.sent_at if channel == "telegram")
        for (channel, user, nth), at in self.sent_at.items():
            answers = self.telegram.answers.get(FIRST_CHAT + user, [])
            if channel == "telegram" and len(answers) > nth:
                self.latency_ms["telegram"].append((answers[nth] - at) * 1000)
        got = {user: len(self.telegram.answers.get(FIRST_CHAT + user, ())) for user in sent}
        return _figures(sum(sent.values()), sum(min(got[u], n) for u, n in sent.items()),
                        sum(max(0, got[u] - n) for u, n in sent.items()), self.latency_ms["telegram"])  # fmt: skip

    async def webchat_figures(self) -> dict:
        """Per session's history: one bot line answering each client id."""
        sent = Counter(f"flood-{user}-{nth}" for channel, user, nth in self.sent_at if channel == "webchat")
        answers: Counter = Counter()
        for session in self.sessions.values():
            url = f"{self.bot_urls[0]}/api/webchat/{session}/messages?after=0-0"
            async with self.http.get(url) as response:
                lines = (await response.json())["messages"]
            client_of = {line["id"]: line.get("client_id") for line in lines if line["from"] == "user"}
            answers.update(line.get("answers") or client_of.get(line.get("reply_to"))
                           for line in lines if line["from"] == "bot")  # fmt: skip
        answered = sum(1 for client_id in sent if answers[client_id] >= 1)
        repeated = sum(answers[client_id] - 1 for client_id in sent if answers[client_id] > 1)
        return _figures(len(sent), answered, repeated, self.latency_ms["webchat"])


def _figures(sent: int, answered: int, repeated: int, latencies: list[float]) -> dict:
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0

    return {"sent": sent, "answered": answered, "missing": sent - answered, "repeated": repeated,
            "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": round(ordered[-1], 1) if ordered else 0.0}  # fmt: skip


async def _drill(telegram: CountingTelegram, command: dict) -> dict:
    flood = Flood(telegram, command["bot_urls"])
    return await flood.run(command["users"], command["messages"], command["seconds"], command["drain_seconds"])


def run_drill(workdir: Path, users: int, messages: int, seconds: float, drain_seconds: float = 120) -> dict:
    """The drill with everything it needs started here: a Redis (AOF, fsync each second, as
    shipped), the load process and its Telegram stand-in, two replicas (their workers sized to
    the machine) with Telegram in webhook mode. The result, and each replica's log."""
    redis = RedisServer(workdir, appendonly=True).start()
    load = subprocess.Popen([sys.executable, "-m", "tests.flood_drill"], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    replicas: list[BotProcess] = []
    try:
        assert load.stdin is not None and load.stdout is not None
        base_url = json.loads(load.stdout.readline())["telegram_base_url"]
        for name in ("a", "b"):
            home = workdir / name
            home.mkdir()
            replicas.append(BotProcess(redis.url, home / "bot.log", bot_config(home, base_url),
                                       env={**BOT_ENV, "SUPPORTBOT_WORKERS": "0"}).start())  # fmt: skip
        command = {"bot_urls": [bot.url for bot in replicas], "users": users, "messages": messages,
                   "seconds": seconds, "drain_seconds": drain_seconds}  # fmt: skip
        load.stdin.write(json.dumps(command) + "\n")
        load.stdin.flush()
        line = load.stdout.readline()
        if not line:
            raise RuntimeError(f"the flood's load process exited with {load.wait()}")
        result = json.loads(line)
        result["workers_per_replica"] = [len(bot.workers()) or 1 for bot in replicas]
        return result
    finally:
        for bot in replicas:
            bot.stop()
        load.kill()
        redis.stop()


def main() -> int:
    telegram = CountingTelegram().start()
    print(json.dumps({"telegram_base_url": telegram.base_url}), flush=True)
    command = json.loads(sys.stdin.readline())
    print(json.dumps(asyncio.run(_drill(telegram, command))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
