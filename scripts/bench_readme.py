"""Writes the README's benchmark tables from `make bench`'s results (bench-results.json from
`python -m bot bench`, bench-e2e.json from `python -m tests.bench_e2e`), between the
`<!-- bench:begin -->` and `<!-- bench:end -->` markers: the summary, then the saturation
curve of one replica per channel and the Redis commands a message costs."""

from __future__ import annotations

import json
import os
import platform
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = {"telegram": "Telegram (webhook -> `sendMessage`)", "webchat": "web chat (POST -> its answer)"}


def _ms(value: float | None) -> str:
    if value is None:
        return "never"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms" if value >= 100 else f"{value} ms"


def _at_rate(curve: dict, rate: float) -> dict | None:
    return next((step for step in curve["steps"] if step["rate"] == rate), None)


def capacity_rows(pipeline_rate: float, saturation: dict) -> list[tuple[str, str, str]]:
    """A row per channel: the replica's capacity, and the pipeline's own speed over it."""
    rows = []
    for channel, name in CHANNELS.items():
        capacity = saturation[channel]["capacity_msg_per_s"]
        overhead = f", {pipeline_rate / capacity:.1f}x" if capacity else ""
        figure = f"**{capacity:g} msg/s** (the pipeline alone: {pipeline_rate:,.0f} msg/s{overhead})"
        rows.append((f"one replica's capacity, {name}: p99 < {saturation['p99_limit_ms']} ms, no growing backlog",
                     figure, ""))  # fmt: skip
    return rows


def cpu_row(pipeline_rate: float, saturation: dict) -> tuple[str, str, str]:
    """The bot's CPU per message end to end (at each channel's last step that held) beside the
    pipeline's own: the overhead without the shared machine's noise in it."""
    figures = []
    for channel in CHANNELS:
        held = [step for step in saturation[channel]["steps"] if step["holds"]] or saturation[channel]["steps"][:1]
        cpu_ms = held[-1]["bot_cpu_ms_per_msg"]
        figures.append(f"{channel} **{cpu_ms:.1f} ms** (a core's worth: {1000 / cpu_ms:.0f} msg/s)")
    return ("the bot's CPU per message, end to end (at the highest rate that held)",
            ", ".join(figures) + f"; the pipeline alone {1000 / pipeline_rate:.1f} ms", "")


def _at_100(saturation: dict) -> str:
    step = _at_rate(saturation["telegram"], 100)
    if step is None:
        failed = next((s["rate"] for s in saturation["telegram"]["steps"] if not s["holds"]), None)
        return f"not run: the curve failed at {failed:g} msg/s" if failed else "not run"
    return f"p50 **{_ms(step['p50_ms'])}**, p99 **{_ms(step['p99_ms'])}**"


def routing_rows(routing: dict | None) -> list[tuple[str, str, str]]:
    """Auto-assignment and claims at 200 agents in 5 teams, each with a maximum (issue 19)."""
    if not routing:
        return []
    return [
        (f"auto-assignment: the next conversation offered, {routing['agents']} agents on shift in "
         f"{routing['teams']} teams", f"p50 {routing['offer_p50_ms']:.2f} ms, p99 **{routing['offer_p99_ms']:.2f} ms**",
         "p99 < 5 ms"),
        (f"claims by {routing['agents']} agents at once (5 teams, a maximum of 5 each)",
         f"p50 {routing['claim_p50_ms']:.2f} ms, p99 {routing['claim_p99_ms']:.2f} ms", ""),
    ]  # fmt: skip


def table(pipeline: dict, e2e: dict) -> str:
    ours, server, queue = pipeline["in_process"], pipeline["rasa_server"], pipeline["handoff_queue"]
    redis = queue.get("redis_benchmark", {})
    runs = queue.get("claim_p99_runs_ms", [queue["claim_p99_ms"]])
    saturation = e2e["saturation"]
    rows = [
        ("pipeline, Rasa in-process, one core (held-out messages, one in flight)",
         f"**{ours['msg_per_s']:,.0f} msg/s**, p50 {ours['p50_ms']} ms, p99 **{ours['p99_ms']} ms**",
         ">= 300 msg/s, p99 < 20 ms"),
        ("the same with its NLU sent to `rasa run --enable-api` (own core)",
         f"{server['msg_per_s']:,.0f} msg/s, p50 {server['p50_ms']} ms, p99 {server['p99_ms']} ms", ""),
        ("speed-up over the Rasa-server set-up", f"**{pipeline['speedup']}x**", ">= 1.5x"),
        ("claim latency, 50 agents claiming at once",
         f"p50 {queue['claim_p50_ms']:.2f} ms, p99 **{queue['claim_p99_ms']:.2f} ms** (the worst of "
         f"{len(runs)} runs: {', '.join(f'{r:.2f}' for r in runs)} ms)", "p99 < 5 ms in every run"),
        *routing_rows(queue.get("routing")),
        ("`redis-benchmark`, same server, 50 clients",
         f"SET {redis.get('set_per_s', 0):,.0f}/s, GET {redis.get('get_per_s', 0):,.0f}/s", ""),
        ("hand-offs per second (conversation + ticket + queue)", f"{queue['handoffs_per_s']:,.0f}", ""),
        *lookup_rows(pipeline.get("account_lookup")),
        *capacity_rows(ours["msg_per_s"], saturation),
        cpu_row(ours["msg_per_s"], saturation),
        ("end to end: Telegram update -> the bot's send, 100 msg/s", _at_100(saturation), "p99 <= 100 ms"),
        (f"memory per replica ({e2e.get('replica_processes', 1)} processes: their PSS after the curve; "
         "the sum of their peaks)",
         f"{e2e['replica_rss_mib']} MiB; {e2e['replica_peak_rss_mib']} MiB (pipeline bench: {ours['rss_mib']:.0f} MiB)",
         "< 1 GiB"),
        *flood_rows(e2e.get("flood")),
        ("cold start with a cached model (launch -> `/healthz`)", f"**{e2e['cold_start_s']} s**", "< 10 s"),
    ]  # fmt: skip
    lines = [f"Measured by `make bench` on {time.strftime('%Y-%m-%d')}, {_machine()}.", "",
             "| benchmark | figure | target |", "| --- | --- | --- |"]  # fmt: skip
    lines += [f"| {name} | {figure} | {target} |" for name, figure, target in rows]
    return "\n".join(lines + ["", curve_table(saturation), "", commands_text(saturation)])


def lookup_rows(lookup: dict | None) -> list[tuple[str, str, str]]:
    """What reading the user's account (the demo back office) adds to an answer."""
    if not lookup:
        return []
    return [("an answer from the user's own account: what the lookup adds (demo back office, audit entry included)",
             f"p50 {lookup['p50_ms']} ms, p99 **{lookup['p99_ms']} ms** ({lookup['lookups']} lookups)", "p99 < 20 ms")]


def flood_rows(flood: dict | None) -> list[tuple[str, str, str]]:
    """The incident flood drill: answered once, latency, the longest backlog."""
    if not flood:
        return []
    parts = []
    for channel in CHANNELS:
        f = flood[channel]
        once = "all once" if (f["missing"], f["repeated"]) == (0, 0) else \
            f"**{f['missing']} missing, {f['repeated']} repeated**"  # fmt: skip
        parts.append(f"{channel} {f['answered']:,}/{f['sent']:,} answered, {once}, p50 {_ms(f['p50_ms'])}, "
                     f"p99 **{_ms(f['p99_ms'])}**")
    workers = "+".join(str(n) for n in flood["workers_per_replica"])
    return [(f"incident flood: {flood['messages']:,} messages in {flood['seconds']:g} s from {flood['users']:,} users, "
             f"2 replicas ({workers} workers) on one Redis",
             "; ".join(parts) + f"; longest backlog **{flood['max_backlog']:,}**, drained "
             f"{flood['drain_seconds']:g} s after the last message", "every message answered once")]


def _machine() -> str:
    return f"{os.cpu_count()} cores (shared), {platform.system()} {platform.machine()}"


def curve_table(saturation: dict) -> str:
    """Every step of both curves: the figures behind the capacity."""
    lines = [f"Saturation curve of one replica: steady rates, {saturation['step_seconds']:g} s a step, from a "
             "load generator process of its own; backlog = sent, not yet answered, when the step's sending "
             "ends (its slope while sending); CPU in % of one core over the step and its drain (the load "
             "generator's: while sending); other work: what the rest of the shared machine used, in cores.", "",
             "| channel | rate | p50 | p99 | backlog (slope) | holds | bot CPU | bot CPU / msg | Redis CPU "
             "| Redis cmds / msg | load generator CPU | other work (cores) |",
             "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for channel in CHANNELS:
        for step in saturation[channel]["steps"]:
            wall = step["wall_s"]
            holds = "yes" if step["holds"] else "**no**"
            lines.append(
                f"| {channel} | {step['rate']:g}/s | {_ms(step['p50_ms'])} | {_ms(step['p99_ms'])} "
                f"| {step['backlog_end']} ({step['backlog_slope_per_s']:+g}/s) | {holds} "
                f"| {step['bot_cpu_s'] / wall:.0%} | {step['bot_cpu_ms_per_msg']} ms "
                f"| {step['redis_cpu_s'] / wall:.0%} | {step['redis_commands_per_msg']} "
                f"| {step['driver_cpu_share']:.0%} | {step['others_cpu_cores']:.1f} |"
            )  # fmt: skip
    return "\n".join(lines)


def commands_text(saturation: dict) -> str:
    """The commands a message costs, by type, at each channel's first step."""
    parts = []
    for channel in CHANNELS:
        step = saturation[channel]["steps"][0]
        top = ", ".join(f"{name.upper()} {count:g}" for name, count in step["redis_top_commands"].items())
        parts.append(f"{channel} **{step['redis_commands_per_msg']:g}** at {step['rate']:g} msg/s ({top}, ...)")
    return ("Redis commands per handled message (`INFO commandstats` before and after a step; MULTI and EXEC "
            f"count as commands; the bot's idle polling, {saturation['idle_redis_commands_per_s']:g} commands/s, "
            "included): " + "; ".join(parts) + ".")


def main() -> int:
    pipeline = json.loads((ROOT / "bench-results.json").read_text())
    e2e = json.loads((ROOT / "bench-e2e.json").read_text())
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    block = f"<!-- bench:begin -->\n{table(pipeline, e2e)}\n<!-- bench:end -->"
    updated, found = re.subn(r"<!-- bench:begin -->.*?<!-- bench:end -->", lambda _: block, text, flags=re.S)
    if not found:
        raise SystemExit("README.md has no <!-- bench:begin --> ... <!-- bench:end --> block")
    readme.write_text(updated, encoding="utf-8")
    print("README.md: benchmark table updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
