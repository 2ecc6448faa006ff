"""The saturation bench's machinery, one short step a channel, end to end through the real bot
process (`make bench` runs the real curve; no speed is asserted here): every message sent is
answered and counted, and what a step cost Redis is read from the server."""

from __future__ import annotations

import importlib.util

import pytest

from tests.bench_saturation import BOT_ENV, CHANNELS, LoadProcess, RedisCounters, bot_config, run_curve
from tests.conftest import ROOT, BotProcess


def _bench_readme():
    spec = importlib.util.spec_from_file_location("bench_readme", ROOT / "scripts" / "bench_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def load_and_bot(redis_server, model_path, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("saturation")
    load = LoadProcess()
    bot = BotProcess(redis_server.url, workdir / "bot.log", bot_config(workdir, load.telegram_base_url), env=BOT_ENV)
    try:
        yield load, bot.start()
    finally:
        bot.stop()
        load.stop()


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_short_step_is_answered_and_costed(load_and_bot, redis_server, channel):
    load, bot = load_and_bot
    curve = run_curve(channel, bot, load, RedisCounters(redis_server.url), rates=(5,), seconds=1, say=lambda _: None)
    (step,) = curve["steps"]
    assert step["sent"] == step["answered"] == 5 and not step["errors"]
    assert step["p99_ms"] is not None and step["backlog_end"] <= 5
    assert step["redis_commands"] >= 5 and step["redis_top_commands"]
    assert 0 <= step["driver_cpu_share"] and step["bot_cpu_s"] > 0
    saturation = {"step_seconds": 1, "p99_limit_ms": 250, "idle_redis_commands_per_s": 0,
                  **{name: curve for name in CHANNELS}}  # fmt: skip
    readme = _bench_readme()
    assert f"| {channel} | 5/s |" in readme.curve_table(saturation)
    assert f"{channel} **{step['redis_commands_per_msg']:g}** at 5 msg/s" in readme.commands_text(saturation)
