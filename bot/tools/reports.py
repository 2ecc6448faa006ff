"""Weekly-review numbers from what the bot keeps in Redis: conversations and their transcripts,
tickets, and ratings. `python -m bot report --since 7d [--out DIR]` prints a summary and writes
PNG charts plus `report.json` (the numbers behind every chart, `report_charts.py`); leads get
the same data as JSON at /api/reports.

- deflection: conversations of the period that needed no person; hand-off rate: the others;
- first response: a ticket's opening to its first agent reply; resolution: to resolved; SLA
  kept: claimed within the lane's pickup target;
- CSAT: the 1-5 ratings after resolved tickets (satisfied = 4 or 5), and "Was this helpful?";
- top intents and unanswered questions (those the bot asked to rephrase), redacted as stored.
Every figure is given overall, by language and by platform; per agent and per team from the
tickets (`agent_figures.py`).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.config import Config
from bot.stores import keys
from bot.tools.agent_figures import agent_and_team_figures, median_or_none, share

_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str) -> float:
    """"7d", "24h", "30m", "2w" -> that many seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r}: expected a number and a unit (m, h, d, w), e.g. 7d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_moment(text: str | None, now: float | None = None) -> float | None:
    """A moment as people give it: epoch seconds, or a duration ago ("7d"); None for none."""
    if not text:
        return None
    now = time.time() if now is None else now
    try:
        moment = float(text)
    except ValueError:
        return now - parse_since(text)
    if not 0 <= moment <= 2 * now:  # also refuses nan and inf
        raise ValueError(f"{text!r}: epoch seconds between 0 and a while from now")
    return moment


@dataclass
class _Group:
    """Counts for one slice (all, one language, one platform)."""

    conversations: int = 0
    handed_off: int = 0
    messages: int = 0
    first_response: list = None
    resolution: list = None
    sla_kept: int = 0
    sla_counted: int = 0
    ratings: list = None
    helpful_yes: int = 0
    helpful_no: int = 0

    def __post_init__(self) -> None:
        self.first_response, self.resolution, self.ratings = [], [], []

    def summary(self) -> dict:
        deflected = self.conversations - self.handed_off
        return {
            "conversations": self.conversations, "messages": self.messages,
            "deflection": share(deflected, self.conversations),
            "handoff_rate": share(self.handed_off, self.conversations),
            "first_response_median_s": median_or_none(self.first_response),
            "resolution_median_s": median_or_none(self.resolution),
            "sla_kept": share(self.sla_kept, self.sla_counted), "tickets": self.sla_counted,
            "csat": round(sum(self.ratings) / len(self.ratings), 2) if self.ratings else None,
            "csat_satisfied": share(sum(1 for r in self.ratings if r >= 4), len(self.ratings)),
            "ratings": len(self.ratings), "helpful": share(self.helpful_yes, self.helpful_yes + self.helpful_no),
        }  # fmt: skip


async def build_report(redis: Redis, config: Config, since_seconds: float, now: float | None = None,
                       targets: dict[str, int] | None = None) -> dict:  # fmt: skip
    """Every figure of the report for the last `since_seconds` (teams against `targets`, seconds)."""
    now = now or time.time()
    start = now - since_seconds
    groups: dict[str, _Group] = defaultdict(_Group)
    intents: dict[str, Counter] = defaultdict(Counter)  # slice -> intent -> messages
    unanswered, answers = Counter(), Counter()  # (clarified) texts; answer ids
    named: dict[str, Counter] = defaultdict(Counter)  # entity kind -> value -> messages
    per_day: dict[str, Counter] = defaultdict(Counter)
    platform_of: dict[str, tuple[str, str]] = {}
    tickets = [t for t in await _tickets(redis) if float(t.get("opened_at") or 0) >= start]
    handed_off = {t.get("conversation") for t in tickets}

    async for key in redis.scan_iter(match=f"{keys.CONVERSATION_PREFIX}*", count=500):
        if key.endswith(b":log"):
            continue
        conv = {k.decode(): v.decode() for k, v in (await redis.hgetall(key)).items()}
        lines = [json.loads(x) for x in await redis.lrange(key + b":log", 0, -1)]
        said = [line for line in lines if line.get("from") == "user" and line.get("at", 0) >= start]
        platform = conv.get("platform", "?")
        language = conv.get("language") or config.default_language
        platform_of[conv.get("id", "")] = (platform, language)
        if not said:
            continue
        slices = ("all", f"language:{language}", f"platform:{platform}")
        for name in slices:
            group = groups[name]
            group.conversations += 1
            group.messages += len(said)
            group.handed_off += conv.get("id") in handed_off
        for line in said:
            day = time.strftime("%Y-%m-%d", time.gmtime(line["at"]))
            per_day[day][platform] += 1
            if line.get("intent") and line.get("action") != "clarify":
                for name in slices:
                    intents[name][line["intent"]] += 1
                answers[line.get("answer_id") or line["intent"]] += 1
            _count_entities(named, line.get("entities") or {})
            if line.get("action") == "clarify" and line.get("text"):  # an erased user's lines have none
                unanswered[line["text"]] += 1

    _count_tickets(groups, tickets, platform_of, config)
    _count_feedback(groups, [json.loads(raw) for raw in await redis.lrange(keys.FEEDBACK, 0, -1)], start)
    targets = config.routing.team_targets if targets is None else targets
    return {
        "since": start, "until": now, "overall": groups["all"].summary(),
        "by_language": _sliced(groups, "language:"), "by_platform": _sliced(groups, "platform:"),
        "top_intents": intents["all"].most_common(10),
        "top_intents_by_language": {n.split(":", 1)[1]: c.most_common(5) for n, c in intents.items() if ":" in n
                                    and n.startswith("language:")},
        "top_answers": answers.most_common(10),
        "entities": {kind: counts.most_common(10) for kind, counts in sorted(named.items())},
        "unanswered": unanswered.most_common(10),
        "messages_per_day": {day: dict(counts) for day, counts in sorted(per_day.items())},
        "ratings": dict(sorted(Counter(groups["all"].ratings).items())),
        **agent_and_team_figures(tickets, targets, config.routing.fallback_team),
    }  # fmt: skip


def _sliced(groups: dict[str, _Group], prefix: str) -> dict:
    """The summaries of one kind of slice ("language:", "platform:") by their value."""
    return {name.split(":", 1)[1]: groups[name].summary() for name in sorted(groups) if name.startswith(prefix)}


def _count_tickets(groups: dict[str, _Group], tickets: list[dict], platform_of: dict[str, tuple[str, str]],
                   config: Config) -> None:  # fmt: skip
    """First response, resolution and SLA kept, per slice, from the tickets opened."""
    for ticket in tickets:
        platform, language = platform_of.get(ticket.get("conversation", ""), ("?", config.default_language))
        opened = float(ticket["opened_at"])
        for name in ("all", f"language:{language}", f"platform:{platform}"):
            group = groups[name]
            if ticket.get("first_reply_at"):
                group.first_response.append(float(ticket["first_reply_at"]) - opened)
            if ticket.get("resolved_at"):
                group.resolution.append(float(ticket["resolved_at"]) - opened)
            lane = ticket.get("lane") or "normal"
            group.sla_counted += 1
            claimed = float(ticket.get("claimed_at") or 0)
            group.sla_kept += bool(claimed) and claimed - opened <= config.handoff.sla_seconds(lane)


def _count_feedback(groups: dict[str, _Group], items: list[dict], start: float) -> None:
    """Ratings and "was this helpful?" answers since `start`, per slice."""
    for item in items:
        if item.get("at", 0) < start:
            continue
        for name in ("all", f"language:{item.get('language')}", f"platform:{item.get('platform')}"):
            group = groups[name]
            if "rating" in item:
                group.ratings.append(int(item["rating"]))
            elif item.get("value") in ("yes", "no"):
                group.helpful_yes += item["value"] == "yes"
                group.helpful_no += item["value"] == "no"


def _count_entities(named: dict[str, Counter], entities: dict) -> None:
    """Coins and networks by value; the ids (TXIDs, orders, tickets) only by how many messages
    named one: their values say nothing across users."""
    for kind, values in entities.items():
        if not isinstance(values, list):
            continue
        if kind in ("coin", "network"):
            named[kind].update(str(v) for v in values)
        elif values:
            named["named"][kind] += 1


async def _tickets(redis: Redis) -> list[dict]:
    found = []
    async for key in redis.scan_iter(match=f"{keys.TICKET_PREFIX}T-*", count=500):
        found.append({k.decode(): v.decode() for k, v in (await redis.hgetall(key)).items()})
    return found


def summary_text(report: dict) -> str:
    """The report as a few lines a lead reads in the weekly review."""
    o, pct, secs = report["overall"], _pct, _secs
    lines = [
        f"Support report {time.strftime('%Y-%m-%d %H:%M', time.gmtime(report['since']))} to "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(report['until']))} UTC",
        f"Conversations {o['conversations']}, messages {o['messages']}: deflection {pct(o['deflection'])}, "
        f"hand-off rate {pct(o['handoff_rate'])}",
        f"Tickets {o['tickets']}: first response {secs(o['first_response_median_s'])} (median), resolution "
        f"{secs(o['resolution_median_s'])}, SLA kept {pct(o['sla_kept'])}",
        f"CSAT {o['csat'] if o['csat'] is not None else '-'} / 5 from {o['ratings']} ratings "
        f"({pct(o['csat_satisfied'])} satisfied); answers helpful {pct(o['helpful'])}",
        "", f"{'':13} {'conv':>6} {'deflect':>8} {'handoff':>8} {'1st resp':>9} {'SLA':>7} {'CSAT':>5}",
    ]
    for title, rows in (("language", report["by_language"]), ("platform", report["by_platform"])):
        for name, row in rows.items():
            lines.append(f"{title[:4]}:{name:<8} {row['conversations']:>6} {pct(row['deflection']):>8} "
                         f"{pct(row['handoff_rate']):>8} {secs(row['first_response_median_s']):>9} "
                         f"{pct(row['sla_kept']):>7} {row['csat'] if row['csat'] is not None else '-':>5}")  # fmt: skip
    lines += ["", "Top intents: " + ", ".join(f"{i} {n}" for i, n in report["top_intents"])]
    lines += ["Top questions: " + ", ".join(f"{a} {n}" for a, n in report.get("top_answers", []))]
    for kind, counts in report.get("entities", {}).items():
        lines.append(f"Named ({kind}): " + ", ".join(f"{v} {n}" for v, n in counts))
    if report["unanswered"]:
        lines += ["Unanswered (the bot asked to rephrase):"] + [f"  {n}x {t[:80]}" for t, n in report["unanswered"]]
    return "\n".join(lines + _people_lines(report))


def _people_lines(report: dict) -> list[str]:
    """The per-agent and per-team tables of the summary."""
    lines = ["", "agent            handled resolved  1st resp   1st p90    handle  CSAT"]
    for name, row in report.get("agents", {}).items():
        lines.append(f"{name[:16]:<16} {row['handled']:>7} {_pct(row['resolution_rate']):>8} "
                     f"{_secs(row['first_response_median_s']):>9} {_secs(row['first_response_p90_s']):>9} "
                     f"{_secs(row['handle_median_s']):>9} {_num(row['csat']):>5}")  # fmt: skip
    lines += ["", "team             handled  waiting  1st resp    target in target  CSAT"]
    for name, row in report.get("teams", {}).items():
        lines.append(f"{name[:16]:<16} {row['handled']:>7} {row['waiting']:>8} "
                     f"{_secs(row['first_response_median_s']):>9} {_secs(row['first_response_target_s']):>9} "
                     f"{_pct(row['within_target']):>9} {_num(row['csat']):>5}")  # fmt: skip
    return lines


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _secs(value: float | None) -> str:
    return "-" if value is None else (f"{value / 60:.1f} min" if value >= 60 else f"{value:.0f} s")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
