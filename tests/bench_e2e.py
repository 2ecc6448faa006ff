"""`python -m tests.bench_e2e` (part of `make bench`): end-to-end latency through the real bot
process, from a platform's update to the bot's send call, and the bot's cold start.

- Latency: a Telegram stand-in receives the bot's `sendMessage` calls; updates are posted to
  the bot's webhook (the replicas' set-up) at a steady 100 msg/s, each from its own chat, and
  the time from posting an update to the stand-in receiving its answer is recorded.
- Cold start: from launching `python -m bot run` to `/healthz` answering, with the model
  already cached (the way a container or a restart starts), three times.
- Memory: the bot process's resident memory after the latency run.

It lives with the tests because it drives the tests' stand-in server.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

from bot.config import ROOT, load_config
from tests.conftest import BotProcess
from tests.standins.telegram_api import TelegramStandIn

SECRET = "bench-webhook-secret"
TARGETS = {"e2e_p99_ms": 100, "cold_start_s": 15}
QUESTIONS = ["how do I reset my password", "what are the trading fees", "my deposit has not arrived",
             "提现一直没到账", "¿cómo verifico mi identidad?", "comment activer la 2FA ?",
             "как вывести usdt", "入金が反映されません"]  # fmt: skip


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _post_updates(bot_url: str, standin: TelegramStandIn, rate: float, seconds: float,
                        first: int = 0) -> list[float]:  # fmt: skip
    """Post `rate` updates a second for `seconds` (chats and update ids from `first` on); the
    latency of each answer, in ms."""
    sent_at: dict[int, float] = {}
    count = int(rate * seconds)
    async with aiohttp.ClientSession() as session:

        async def post(n: int) -> None:
            n += first
            chat = 50_000_000 + n
            update = {"update_id": n + 1, "message": {
                "message_id": n + 1, "date": int(time.time()), "text": QUESTIONS[n % len(QUESTIONS)],
                "chat": {"id": chat, "type": "private"},
                "from": {"id": chat, "is_bot": False, "first_name": "Bench", "language_code": "en"}}}  # fmt: skip
            sent_at[chat] = time.perf_counter()
            async with session.post(f"{bot_url}/telegram/webhook", json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:  # fmt: skip
                response.raise_for_status()

        start = time.perf_counter()
        tasks = []
        for n in range(count):
            await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(post(n)))
        await asyncio.gather(*tasks)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len([p for p in standin.sent() if int(p["chat_id"]) in sent_at]) < count:
        await asyncio.sleep(0.1)
    return [(standin.received_at[int(p["chat_id"])] - sent_at[int(p["chat_id"])]) * 1000 for p in standin.sent()
            if int(p["chat_id"]) in sent_at]  # fmt: skip


def main() -> int:
    import redis as redis_sync

    redis_url = load_config().redis_url.rsplit("/", 1)[0] + "/14"
    redis_sync.Redis.from_url(redis_url).flushdb()
    standin = TelegramStandIn()
    received: dict[int, float] = {}
    standin.received_at = received
    original = standin._handle

    async def timed(request: web.Request) -> web.Response:  # the moment each answer reaches the platform
        response = await original(request)
        if request.match_info["method"] == "sendMessage" and response.status == 200:
            received[json.loads(response.body)["result"]["chat"]["id"]] = time.perf_counter()
        return response

    standin._handle = timed
    standin.start()
    workdir = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["telegram"].update(enabled=True, base_url=standin.base_url,
                              webhook_url="https://bench.example/telegram/webhook")  # fmt: skip
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    env = {"TELEGRAM_TOKEN": "123456:BENCH-token", "TELEGRAM_WEBHOOK_SECRET": SECRET}

    starts = []
    for attempt in range(3):
        began = time.perf_counter()
        bot = BotProcess(redis_url, workdir / f"bot-{attempt}.log", workdir / "config.yml", env=env).start()
        starts.append(time.perf_counter() - began)
        if attempt < 2:
            bot.stop()
    try:
        asyncio.run(_post_updates(bot.url, standin, rate=20, seconds=2, first=1_000_000))  # warm-up
        latencies = asyncio.run(_post_updates(bot.url, standin, rate=100, seconds=20))
        rss = _rss_mib(bot.process.pid)
    finally:
        bot.stop()
    result = {
        "e2e_messages": len(latencies), "e2e_rate_per_s": 100,
        "e2e_p50_ms": round(_percentile(latencies, 0.5), 1), "e2e_p99_ms": round(_percentile(latencies, 0.99), 1),
        "e2e_max_ms": round(max(latencies), 1), "replica_rss_mib": round(rss),
        "cold_start_s": round(statistics.median(starts), 1), "cold_starts_s": [round(s, 1) for s in starts],
    }  # fmt: skip
    print(json.dumps(result, indent=2))
    out = ROOT / "bench-e2e.json"
    out.write_text(json.dumps(result, indent=2))
    ok = result["e2e_p99_ms"] <= TARGETS["e2e_p99_ms"] and result["cold_start_s"] <= TARGETS["cold_start_s"]
    print(f"targets (p99 <= {TARGETS['e2e_p99_ms']} ms, cold start <= {TARGETS['cold_start_s']} s): "
          f"{'met' if ok else 'MISSED'}", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
