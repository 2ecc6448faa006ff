"""Writes the README's benchmark table from `make bench`'s results (bench-results.json from
`python -m bot bench`, bench-e2e.json from `python -m tests.bench_e2e`), between the
`<!-- bench:begin -->` and `<!-- bench:end -->` markers."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def table(pipeline: dict, e2e: dict) -> str:
    ours, server, queue = pipeline["in_process"], pipeline["rasa_server"], pipeline["handoff_queue"]
    redis = queue.get("redis_benchmark", {})
    rows = [
        ("pipeline, Rasa in-process, one core (held-out messages, one in flight)",
         f"**{ours['msg_per_s']:,.0f} msg/s**, p50 {ours['p50_ms']} ms, p99 **{ours['p99_ms']} ms**",
         ">= 300 msg/s, p99 < 20 ms"),
        ("the same with its NLU sent to `rasa run --enable-api` (own core)",
         f"{server['msg_per_s']:,.0f} msg/s, p50 {server['p50_ms']} ms, p99 {server['p99_ms']} ms", ""),
        ("speed-up over the Rasa-server set-up", f"**{pipeline['speedup']}x**", ">= 1.5x"),
        ("claim latency, 50 agents claiming at once",
         f"p50 {queue['claim_p50_ms']:.2f} ms, p99 **{queue['claim_p99_ms']:.2f} ms**", "p99 < 5 ms"),
        ("`redis-benchmark`, same server, 50 clients",
         f"SET {redis.get('set_per_s', 0):,.0f}/s, GET {redis.get('get_per_s', 0):,.0f}/s", ""),
        ("hand-offs per second (conversation + ticket + queue)", f"{queue['handoffs_per_s']:,.0f}", ""),
        (f"end to end: Telegram update -> the bot's send, {e2e['e2e_rate_per_s']} msg/s",
         f"p50 **{e2e['e2e_p50_ms']} ms**, p99 **{e2e['e2e_p99_ms']} ms**", "p99 <= 100 ms"),
        ("memory per replica (RSS)", f"{e2e['replica_rss_mib']} MiB (pipeline bench: {ours['rss_mib']:.0f} MiB)",
         "< 1 GiB"),
        ("cold start with a cached model (launch -> `/healthz`)", f"**{e2e['cold_start_s']} s**", "< 15 s"),
    ]  # fmt: skip
    lines = [f"Measured by `make bench` on {time.strftime('%Y-%m-%d')}.", "",
             "| benchmark | figure | target |", "| --- | --- | --- |"]  # fmt: skip
    lines += [f"| {name} | {figure} | {target} |" for name, figure, target in rows]
    return "\n".join(lines)


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
