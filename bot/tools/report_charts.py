"""The report's PNG charts for the weekly review (`python -m bot report --out DIR`), and
`report.json` with the numbers behind them. matplotlib is imported only here, when charts are
asked for."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any


def write_charts(report: dict, out: Path) -> list[Path]:
    """PNG charts for the review, and `report.json` with the numbers behind them."""
    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    from matplotlib import pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        written.append(out / name)

    days = list(report["messages_per_day"])
    platforms = sorted({p for counts in report["messages_per_day"].values() for p in counts})
    fig, ax = plt.subplots(figsize=(8, 4))
    bottom = [0] * len(days)
    for platform in platforms:
        values = [report["messages_per_day"][d].get(platform, 0) for d in days]
        ax.bar(days, values, bottom=bottom, label=platform)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title("Messages per day by platform")
    ax.legend() if platforms else None
    save(fig, "messages_per_day.png")

    languages = list(report["by_language"])
    fig, ax = plt.subplots(figsize=(8, 4))
    deflection = [(report["by_language"][lang]["deflection"] or 0) * 100 for lang in languages]
    handoff = [(report["by_language"][lang]["handoff_rate"] or 0) * 100 for lang in languages]
    positions = range(len(languages))
    ax.bar([p - 0.2 for p in positions], deflection, width=0.4, label="answered by the bot (%)")
    ax.bar([p + 0.2 for p in positions], handoff, width=0.4, label="handed to a person (%)")
    ax.set_xticks(list(positions), languages)
    ax.set_ylim(0, 100)
    ax.set_title("Deflection and hand-off rate by language")
    ax.legend()
    save(fig, "outcomes_by_language.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    names = [name for name, _ in report["top_intents"]][::-1]
    ax.barh(names, [count for _, count in report["top_intents"]][::-1])
    ax.set_title("Top intents")
    save(fig, "top_intents.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar([str(n) for n in range(1, 6)], [report["ratings"].get(n, report["ratings"].get(str(n), 0))
                                          for n in range(1, 6)])  # fmt: skip
    ax.set_title(f"Ratings after resolved tickets (CSAT {report['overall']['csat'] or '-'})")
    save(fig, "csat.png")
    save(_agents_chart(plt, report.get("agents") or {}), "agents.png")

    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    return written


def _agents_chart(plt: Any, agents: dict[str, dict]) -> Any:
    """First response (median) and CSAT per agent, side by side; no bar where there is no figure."""
    names = sorted(agents, reverse=True)  # barh draws bottom up: A at the top
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 1.5 + 0.4 * max(1, len(names))), sharey=True)
    left.barh(names, [(agents[n]["first_response_median_s"] or 0) / 60 for n in names])
    left.set_title("First response, median (min)")
    right.barh(names, [agents[n]["csat"] or 0 for n in names], color="#e09400")
    right.set_xlim(0, 5)
    right.set_title("CSAT (1-5)")
    return fig
