"""`python -m tests.bench_load`: the saturation bench's load generator, a process of its own so
that the CPU it spends is not counted as the bot's (`tests/bench_saturation.py` starts it and
reports its CPU time beside each step).

It holds the Telegram stand-in the bot sends its answers to (`tests/bench_telegram.py`, on this
process's own loop), and posts messages at a steady rate, open loop: each message leaves on
schedule whether or not the earlier ones were answered, as users do. The posts go through a lean
keep-alive client (`tests/bench_http.py`) on uvloop when it is installed: the driver shares the
machine with the bot it measures (web chat at 150-250 msg/s on the 2-core VM: ~1.5-2 ms of CPU a
message with aiohttp's client and a task per message, ~0.3-0.55 ms now, mostly the loop's
wake-ups; receiving a `sendMessage` cost ~1.7-1.8 ms with the full aiohttp stand-in in a thread,
~0.45 ms with the lean one). Telegram updates go to the bot's webhook, each from a chat of its
own, and are answered when the stand-in receives the `sendMessage` for that chat; web chat
messages go to sessions issued beforehand, one message per session, and are answered by the
response to their POST (the web chat answers inline).

Commands, one JSON object a line on stdin, each answered by one JSON line on stdout:

    {"cmd": "sessions", "bot_url": ..., "count": N}     issue N web chat sessions for the next step
    {"cmd": "step", "channel": "telegram" | "webchat", "bot_url": ..., "rate": R, "seconds": S,
     "first": n, "drain_seconds": D}                    one step; see `run_step` for its answer
    {"cmd": "quit"}

Its first line names the stand-in: {"telegram_base_url": ...}.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from tests.bench_http import ConnectionPool, post_request
from tests.bench_telegram import LeanTelegram

WEBHOOK_SECRET = "bench-webhook-secret"
QUESTIONS = ["how do I reset my password", "what are the trading fees", "my deposit has not arrived",
             "提现一直没到账", "¿cómo verifico mi identidad?", "comment activer la 2FA ?",
             "как вывести usdt", "入金が反映されません"]  # fmt: skip
SAMPLE_SECONDS = 0.25  # how often the backlog is sampled during a step
FIRST_CHAT = 50_000_000
TELEGRAM_SECRET_HEADER = f"X-Telegram-Bot-Api-Secret-Token: {WEBHOOK_SECRET}\r\n"


def telegram_update(update_id: int, message_id: int, chat: int, text: str) -> dict:
    """A private chat's text message, as Telegram posts it to the webhook."""
    return {"update_id": update_id, "message": {
        "message_id": message_id, "date": int(time.time()), "text": text, "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "Load", "language_code": "en"}}}  # fmt: skip


@dataclass
class Step:
    """One step's messages: when each left, how each ended."""

    count: int
    sent_at: dict[int, float] = field(default_factory=dict)
    latency_ms: dict[int, float] = field(default_factory=dict)
    ack_ms: list[float] = field(default_factory=list)  # Telegram: the webhook's 200
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def outstanding(self) -> int:
        return len(self.sent_at) - len(self.latency_ms) - sum(self.errors.values())


class LoadGenerator:
    def __init__(self, telegram: LeanTelegram) -> None:
        self.telegram = telegram
        self.sessions: list[str] = []
        self.http: aiohttp.ClientSession | None = None  # issues the sessions (not timed)
        self.pools: dict[str, ConnectionPool] = {}  # by bot URL: the timed posts

    async def client(self) -> aiohttp.ClientSession:
        if self.http is None:
            self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                              timeout=aiohttp.ClientTimeout(total=300))  # fmt: skip
        return self.http

    def pool(self, bot_url: str) -> ConnectionPool:
        if bot_url not in self.pools:
            address = urlsplit(bot_url)
            self.pools[bot_url] = ConnectionPool(address.hostname or "127.0.0.1", address.port or 80)
        return self.pools[bot_url]

    async def issue_sessions(self, bot_url: str, count: int) -> dict:
        http = await self.client()
        gate = asyncio.Semaphore(20)

        async def one() -> str:
            async with gate, http.post(f"{bot_url}/api/webchat/sessions", json={}) as response:
                response.raise_for_status()
                return (await response.json())["session"]

        self.sessions = list(await asyncio.gather(*(one() for _ in range(count))))
        return {"sessions": len(self.sessions)}

    def post_webchat(self, pool: ConnectionPool, step: Step, n: int) -> None:
        """Message n on session n; answered by the POST's 200 (the web chat answers inline)."""
        body = json.dumps({"text": QUESTIONS[n % len(QUESTIONS)], "client_id": f"bench{n}"}).encode()
        request = post_request(pool.address, f"/api/webchat/{self.sessions[n]}/messages", body)
        step.sent_at[n] = time.perf_counter()
        pool.send(request, functools.partial(self.webchat_answered, step, n))

    @staticmethod
    def webchat_answered(step: Step, n: int, status: int | None, error: str | None) -> None:
        if status == 200:
            step.latency_ms[n] = (time.perf_counter() - step.sent_at[n]) * 1000
        else:
            step.error(error or f"http_{status}")

    def post_telegram(self, pool: ConnectionPool, step: Step, n: int) -> None:
        """Update n from chat FIRST_CHAT + n; the webhook's 200 is its ack, the stand-in's
        `sendMessage` to that chat its answer (`collect_telegram`)."""
        body = json.dumps(telegram_update(n + 1, n + 1, FIRST_CHAT + n, QUESTIONS[n % len(QUESTIONS)])).encode()
        request = post_request(pool.address, "/telegram/webhook", body, TELEGRAM_SECRET_HEADER)
        step.sent_at[n] = time.perf_counter()
        pool.send(request, functools.partial(self.telegram_acked, step, n))

    @staticmethod
    def telegram_acked(step: Step, n: int, status: int | None, error: str | None) -> None:
        if status == 200:
            step.ack_ms.append((time.perf_counter() - step.sent_at[n]) * 1000)
        else:
            step.error(error or f"http_{status}")

    def collect_telegram(self, step: Step) -> None:
        """The Telegram answers that reached the stand-in, as latencies."""
        for n, sent in step.sent_at.items():
            answered = self.telegram.answered_at.get(FIRST_CHAT + n)
            if answered is not None and n not in step.latency_ms:
                step.latency_ms[n] = (answered - sent) * 1000

    async def run_step(self, channel: str, bot_url: str, rate: float, seconds: float, first: int,
                       drain_seconds: float) -> dict:  # fmt: skip
        """Sends `rate` messages a second for `seconds`, then waits up to `drain_seconds` for the
        rest of the answers. Answers each message's latency (ms; answered ones only), the
        backlog (sent, not yet answered) every SAMPLE_SECONDS while sending, and the CPU time
        this process spent sending and receiving."""
        count = int(rate * seconds)
        step = Step(count)
        pool = self.pool(bot_url)
        post, offset = (self.post_webchat, 0) if channel == "webchat" else (self.post_telegram, first)
        backlog: list[tuple[float, int]] = []
        cpu_began, began = time.process_time(), time.perf_counter()

        def note() -> None:
            if channel == "telegram":
                self.collect_telegram(step)
            backlog.append((round(time.perf_counter() - began, 3), step.outstanding()))

        # One loop sends every message whose time has come (message i leaves at began + i / rate),
        # then sleeps until the next one's: no task per message, and no message waits for an answer.
        # At least 1 ms: uvloop rounds a shorter sleep to none, and the loop would spin until then.
        sent, next_sample = 0, began
        while sent < count:
            now = time.perf_counter()
            if now >= next_sample:
                note()
                next_sample += SAMPLE_SECONDS
            for i in range(sent, min(count, int((now - began) * rate) + 1)):
                post(pool, step, offset + i)
                sent = i + 1
            await asyncio.sleep(max(0.001, began + sent / rate - time.perf_counter()))
        await asyncio.sleep(max(0.0, began + count / rate - time.perf_counter()))
        note()
        send_seconds, send_cpu = time.perf_counter() - began, time.process_time() - cpu_began
        deadline = time.perf_counter() + drain_seconds
        while time.perf_counter() < deadline:
            if channel == "telegram":
                self.collect_telegram(step)
            if step.outstanding() <= 0:
                break
            await asyncio.sleep(0.05)
        pool.abort_waiting()
        return {
            "channel": channel, "rate": rate, "sent": len(step.sent_at), "answered": len(step.latency_ms),
            "errors": step.errors, "latencies_ms": [round(v, 2) for v in step.latency_ms.values()],
            "ack_ms": [round(v, 2) for v in step.ack_ms], "backlog": backlog, "send_seconds": round(send_seconds, 3),
            "driver_cpu_s": round(send_cpu, 3),
            "drain_seconds": round(time.perf_counter() - began - send_seconds, 3),
            "driver_cpu_total_s": round(time.process_time() - cpu_began, 3),
        }  # fmt: skip


async def serve_commands(load: LoadGenerator) -> None:
    """Answers the commands on stdin until quit, then says on stderr which Bot API methods the
    bot called (the stand-in answers only those a bench run needs)."""
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        if command["cmd"] == "sessions":
            answer = await load.issue_sessions(command["bot_url"], command["count"])
        else:
            answer = await load.run_step(command["channel"], command["bot_url"], command["rate"], command["seconds"],
                                         command.get("first", 0), command.get("drain_seconds", 60))  # fmt: skip
        print(json.dumps(answer), flush=True)
    for pool in load.pools.values():
        pool.close()
    if load.http is not None:
        await load.http.close()
    load.telegram.close()
    print(f"bench_load: Bot API calls {dict(load.telegram.calls)}", file=sys.stderr, flush=True)


async def serve() -> None:
    """The stand-in and the load generator, on one loop."""
    telegram = await LeanTelegram().start()
    print(json.dumps({"telegram_base_url": telegram.base_url}), flush=True)
    await serve_commands(LoadGenerator(telegram))


def main() -> int:
    try:  # a runtime dependency of the bot
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
