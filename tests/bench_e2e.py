"""`python -m tests.bench_e2e` (part of `make bench`): the real bot process, end to end.

- Cold start: from launching `python -m bot run` to `/healthz` answering, with the model
  already cached (the way a container or a restart starts), three times.
- The saturation curve (`tests/bench_saturation.py`) on the last of them: Telegram updates to
  the webhook (a Telegram stand-in receives the bot's `sendMessage` calls) and web chat
  messages, at rising steady rates, from a load generator process of its own; each step's
  latency, backlog, CPU and Redis commands per message, and the replica's capacity.
- Memory: the bot process's resident memory after the curve (and its peak).

The bot's Redis is its own `redis-server` (AOF, fsync each second, as `scripts/redis.conf`),
so that `INFO commandstats` counts the bot's commands only. It lives with the tests because it
drives the tests' stand-in server.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.config import ROOT
from tests.bench_saturation import BOT_ENV, LoadProcess, bot_config, measure
from tests.conftest import BotProcess, RedisServer

TARGETS = {"cold_start_s": 15}


def _memory_mib(pid: int) -> dict[str, float]:
    """Resident memory now (VmRSS) and at its peak (VmHWM)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {name: int(fields[key].split()[0]) / 1024 for name, key in (("rss", "VmRSS"), ("peak", "VmHWM"))}


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    redis = RedisServer(workdir, appendonly=True).start()
    load = LoadProcess()
    config = bot_config(workdir, load.telegram_base_url)
    starts, bot = [], None
    try:
        for attempt in range(3):
            began = time.perf_counter()
            bot = BotProcess(redis.url, workdir / f"bot-{attempt}.log", config, env=BOT_ENV).start()
            starts.append(time.perf_counter() - began)
            if attempt < 2:
                bot.stop()
        saturation = measure(bot, load, redis.url, say=lambda line: print(line, file=sys.stderr, flush=True))
        memory = _memory_mib(bot.process.pid)
    finally:
        if bot is not None:
            bot.stop()
        load.stop()
        redis.stop()
    result = {
        "replica_rss_mib": round(memory["rss"]), "replica_peak_rss_mib": round(memory["peak"]),
        "cold_start_s": round(statistics.median(starts), 1), "cold_starts_s": [round(s, 1) for s in starts],
        "saturation": saturation,
    }  # fmt: skip
    (ROOT / "bench-e2e.json").write_text(json.dumps(result, indent=2))
    summary = {key: value for key, value in result.items() if key != "saturation"}
    summary["capacity_msg_per_s"] = {channel: saturation[channel]["capacity_msg_per_s"]
                                     for channel in ("telegram", "webchat")}  # fmt: skip
    print(json.dumps(summary, indent=2))
    ok = result["cold_start_s"] <= TARGETS["cold_start_s"]
    print(f"targets (cold start <= {TARGETS['cold_start_s']} s): {'met' if ok else 'MISSED'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
