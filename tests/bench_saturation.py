"""The saturation curve of one replica (part of `make bench`, run by `tests/bench_e2e.py`;
alone: `python -m tests.bench_saturation [--rates 25,50 --seconds 5]`).

Through the real bot process, at rising steady rates, for each channel: Telegram (updates
posted to the webhook, answered when the stand-in receives the bot's `sendMessage`) and the web
chat (one message per issued session, answered inline). Each step records the latency (p50,
p99), the backlog (messages sent and not yet answered: when the sending ends, and its slope
while sending), the CPU the bot, Redis and the load generator spent, and the Redis commands
per message (`INFO commandstats` before and after the step). The rates rise until a step
clearly fails (p99 over CLEAR_FAILURE_MS, a growing backlog, or messages not answered).

The replica's capacity on a channel is the highest rate at which it *holds*: p99 under
P99_LIMIT_MS, no growing backlog, every message answered. The load generator
(`tests/bench_load.py`) is a process of its own: its CPU is reported beside each step, so that
a figure is the bot's and not the driver's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis as redis_sync
import yaml

from bot.config import ROOT
from tests.bench_load import WEBHOOK_SECRET
from tests.conftest import BotProcess, RedisServer, child_pids

RATES = (25, 50, 100, 150, 200, 250, 300, 400, 560, 800)  # 50 apart where capacities are, 300 the target
STEP_SECONDS = 10
P99_LIMIT_MS = 250
CLEAR_FAILURE_MS = 1000
DRAIN_SECONDS = 60  # after a step, how long its late answers are waited for
CHANNELS = ("telegram", "webchat")
# Telegram on, and the replica's workers sized to the machine, as shipped (the tests run one).
BOT_ENV = {"TELEGRAM_TOKEN": "123456:BENCH-token", "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
           "SUPPORTBOT_WORKERS": "0"}  # fmt: skip


class LoadProcess:
    """`python -m tests.bench_load`, driven one JSON line at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.bench_load"], cwd=ROOT, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
        self.telegram_base_url = self._answer()["telegram_base_url"]
        self.next_update = 0  # Telegram chats and update ids never repeat across steps

    def _answer(self) -> dict:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the load generator exited with {self.process.wait()}")
        return json.loads(line)

    def ask(self, **command: object) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._answer()

    def step(self, channel: str, bot_url: str, rate: float, seconds: float) -> dict:
        """One step (see `tests/bench_load.py`); the web chat's sessions must be issued first."""
        first, self.next_update = self.next_update, self.next_update + int(rate * seconds)
        return self.ask(cmd="step", channel=channel, bot_url=bot_url, rate=rate, seconds=seconds, first=first,
                        drain_seconds=DRAIN_SECONDS)  # fmt: skip

    def stop(self) -> None:
        try:
            self.ask(cmd="quit")
        except (OSError, ValueError, RuntimeError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def bot_config(workdir: Path, telegram_base_url: str) -> Path:
    """The shipped configuration with Telegram on in webhook mode against the stand-in, and the
    web chat's per-address limit lifted (every bench session comes from one address)."""
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["telegram"].update(enabled=True, base_url=telegram_base_url,
                              webhook_url="https://bench.example/telegram/webhook")  # fmt: skip
    config["web"]["rate_per_ip_minute"] = 1_000_000
    path = workdir / "config.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, all its threads, and of its live workers."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in child_pids(pid))


def machine_busy_seconds() -> float:
    """CPU time every core of the machine spent busy (not idle, not waiting for I/O): on a
    shared machine, what the bench's own processes did not use was other work's."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


class RedisCounters:
    """What a step cost Redis: commands by type (`INFO commandstats`) and CPU (`INFO cpu`)."""

    def __init__(self, url: str) -> None:
        self.client = redis_sync.Redis.from_url(url)

    def read(self) -> dict:
        stats = self.client.info("commandstats")
        calls = {name.removeprefix("cmdstat_"): counts["calls"] for name, counts in stats.items()}
        cpu = self.client.info("cpu")
        return {"calls": calls, "cpu_s": cpu["used_cpu_user"] + cpu["used_cpu_sys"]}

    @staticmethod
    def difference(before: dict, after: dict) -> dict[str, int]:
        calls = {name: count - before["calls"].get(name, 0) for name, count in after["calls"].items()}
        calls.pop("info", None)  # our own reads
        return {name: count for name, count in sorted(calls.items(), key=lambda kv: -kv[1]) if count}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def backlog_slope(samples: list[list[float]]) -> float:
    """Least-squares slope of the backlog (messages a second) after the step's first second."""
    points = [(t, n) for t, n in samples if t >= 1.0] or samples
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_n = sum(n for _, n in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (n - mean_n) for t, n in points) / spread if spread else 0.0


def summarize(raw: dict, redis_calls: dict[str, int], spent: dict[str, float]) -> dict:
    """One step's figures from what the load generator saw and what the bot, Redis and the
    machine spent (`spent`: CPU seconds of each, and the step's wall time, drain included)."""
    rate, sent, answered = raw["rate"], raw["sent"], raw["answered"]
    latencies = raw["latencies_ms"] + [float("inf")] * (sent - answered)  # unanswered: never
    p50, p99 = (percentile(latencies, q) if latencies else float("inf") for q in (0.5, 0.99))
    backlog_end = raw["backlog"][-1][1] if raw["backlog"] else 0
    slope = backlog_slope(raw["backlog"])
    # Growing: it gains over 5% of the offered rate a second, and holds more than what a p99 at
    # the limit would (rate x P99_LIMIT): a queue, not messages on their way.
    growing = slope > 0.05 * rate and backlog_end > rate * P99_LIMIT_MS / 1000
    commands = sum(redis_calls.values())
    top = list(redis_calls.items())[:6]
    step = {
        "rate": rate, "sent": sent, "answered": answered, "errors": raw["errors"],
        "p50_ms": round(p50, 1) if p50 != float("inf") else None,
        "p99_ms": round(p99, 1) if p99 != float("inf") else None,
        "max_ms": round(max(raw["latencies_ms"]), 1) if raw["latencies_ms"] else None,
        "backlog_end": backlog_end, "backlog_max": max((n for _, n in raw["backlog"]), default=0),
        "backlog_slope_per_s": round(slope, 1), "backlog_growing": growing,
        "achieved_rate": round(sent / raw["send_seconds"], 1) if raw["send_seconds"] else 0,
        "bot_cpu_s": round(spent["bot"], 2), "bot_cpu_ms_per_msg": round(1000 * spent["bot"] / max(1, answered), 2),
        "redis_cpu_s": round(spent["redis"], 2), "wall_s": round(spent["wall"], 2),
        # cores' worth of CPU used by everything else on the machine (other work on a shared host)
        "others_cpu_cores": round(max(0.0, spent["machine"] - spent["bot"] - spent["redis"]
                                      - raw["driver_cpu_total_s"]) / spent["wall"], 2),
        "driver_cpu_s": raw["driver_cpu_s"], "driver_cpu_share": round(raw["driver_cpu_s"] / raw["send_seconds"], 3),
        "redis_commands": commands, "redis_commands_per_msg": round(commands / max(1, answered), 1),
        "redis_top_commands": {name: round(count / max(1, answered), 2) for name, count in top},
        "send_seconds": raw["send_seconds"], "drain_seconds": raw["drain_seconds"],
    }  # fmt: skip
    if raw["ack_ms"]:
        step["webhook_ack_p99_ms"] = round(percentile(raw["ack_ms"], 0.99), 1)
    step["holds"] = (p99 < P99_LIMIT_MS and not growing and answered == sent and not raw["errors"])
    step["clearly_fails"] = p99 >= CLEAR_FAILURE_MS or growing or answered < sent
    return step


def run_step(channel: str, bot: BotProcess, load: LoadProcess, counters: RedisCounters, rate: float,
             seconds: float) -> dict:  # fmt: skip
    if channel == "webchat":  # issued before the step: the step measures messages
        load.ask(cmd="sessions", bot_url=bot.url, count=int(rate * seconds))
    began = time.perf_counter(), machine_busy_seconds(), cpu_seconds(bot.process.pid), counters.read()
    raw = load.step(channel, bot.url, rate, seconds)
    ended = time.perf_counter(), machine_busy_seconds(), cpu_seconds(bot.process.pid), counters.read()
    spent = {"wall": ended[0] - began[0], "machine": ended[1] - began[1], "bot": ended[2] - began[2],
             "redis": ended[3]["cpu_s"] - began[3]["cpu_s"]}  # fmt: skip
    return summarize(raw, RedisCounters.difference(began[3], ended[3]), spent)


def idle_commands_per_s(counters: RedisCounters, seconds: float = 5) -> float:
    """Commands the bot sends with nothing to do (its readers' blocking polls): counted in
    every step's commands too."""
    before = counters.read()
    time.sleep(seconds)
    return round(sum(RedisCounters.difference(before, counters.read()).values()) / seconds, 1)


def run_curve(channel: str, bot: BotProcess, load: LoadProcess, counters: RedisCounters,
              rates: tuple[float, ...] = RATES, seconds: float = STEP_SECONDS,
              say: Callable[[str], None] = print) -> dict:  # fmt: skip
    """The steps of one channel, rising until one clearly fails; its capacity."""
    if channel == "webchat":
        load.ask(cmd="sessions", bot_url=bot.url, count=40)
    load.step(channel, bot.url, 20, 2)  # warm-up, not reported: connections, first parses
    steps = []
    for rate in rates:
        step = run_step(channel, bot, load, counters, rate, seconds)
        steps.append(step)
        say(f"{channel} {rate:>5} msg/s: p50 {step['p50_ms']} ms, p99 {step['p99_ms']} ms, backlog "
            f"{step['backlog_end']} ({step['backlog_slope_per_s']:+}/s), {step['redis_commands_per_msg']} "
            f"Redis commands/msg, driver CPU {step['driver_cpu_share']:.0%}{'' if step['holds'] else '  FAILS'}")
        if step["clearly_fails"]:
            break
    holding = [step["rate"] for step in steps if step["holds"]]
    return {"steps": steps, "capacity_msg_per_s": max(holding, default=0)}


def measure(bot: BotProcess, load: LoadProcess, redis_url: str, rates: tuple[float, ...] = RATES,
            seconds: float = STEP_SECONDS, say: Callable[[str], None] = print) -> dict:  # fmt: skip
    """Both channels' curves on one running bot (started with `bot_config`)."""
    counters = RedisCounters(redis_url)
    result = {"step_seconds": seconds, "p99_limit_ms": P99_LIMIT_MS,
              "idle_redis_commands_per_s": idle_commands_per_s(counters)}  # fmt: skip
    for channel in CHANNELS:
        result[channel] = run_curve(channel, bot, load, counters, rates, seconds, say)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default=",".join(str(r) for r in RATES))
    parser.add_argument("--seconds", type=float, default=STEP_SECONDS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-saturation.json")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sb-saturation-"))
    redis = RedisServer(workdir, appendonly=True).start()  # like scripts/redis.conf: AOF, fsync each second
    load = LoadProcess()
    bot = BotProcess(redis.url, workdir / "bot.log", bot_config(workdir, load.telegram_base_url), env=BOT_ENV)
    try:
        bot.start()
        result = measure(bot, load, redis.url, tuple(float(r) for r in args.rates.split(",")), args.seconds)
    finally:
        bot.stop()
        load.stop()
        redis.stop()
    args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
