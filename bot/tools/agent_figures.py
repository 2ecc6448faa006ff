"""Per-agent and per-team figures of the weekly report: what leads judge agents and teams on
(conversations handled, resolution rate, first response, handle time, CSAT), from the tickets.

A ticket counts for the agent who holds or held it (`agent`) and for the team it was routed to
(`team`; tickets from before teams existed count under the fallback team). Handled means claimed by an
agent: a ticket released back to the queue counts again only once someone claims it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from statistics import median


@dataclass
class _Row:
    """What one agent's or one team's tickets add up to."""

    handled: int = 0
    resolved: int = 0
    waiting: int = 0
    first_response: list[float] = field(default_factory=list)
    handle: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)

    def add(self, ticket: dict) -> None:
        """A claimed ticket: its first response, and its handle time once resolved."""
        self.handled += 1
        opened = float(ticket.get("opened_at") or 0)
        if ticket.get("first_reply_at"):
            self.first_response.append(float(ticket["first_reply_at"]) - opened)
        if ticket.get("status") == "resolved":
            self.resolved += 1
            if ticket.get("resolved_at"):
                self.handle.append(float(ticket["resolved_at"]) - float(ticket["claimed_at"]))
        if (ticket.get("rating") or "").isdigit():
            self.ratings.append(int(ticket["rating"]))

    def figures(self) -> dict:
        ratings = self.ratings
        return {
            "handled": self.handled, "resolved": self.resolved,
            "resolution_rate": share(self.resolved, self.handled),
            "first_response_median_s": median_or_none(self.first_response),
            "first_response_p90_s": _p90(self.first_response),
            "handle_median_s": median_or_none(self.handle),
            "csat": round(sum(ratings) / len(ratings), 2) if ratings else None, "ratings": len(ratings),
            "csat_satisfied": share(sum(1 for r in ratings if r >= 4), len(ratings)),
        }  # fmt: skip

    def team_figures(self, target: int | None) -> dict:
        """The row, with the team's first-response target and the share of first replies within it."""
        within = None if target is None else share(sum(1 for s in self.first_response if s <= target),
                                                    len(self.first_response))  # fmt: skip
        return {**self.figures(), "first_response_target_s": target, "within_target": within, "waiting": self.waiting}


def agent_and_team_figures(tickets: list[dict], targets: dict[str, int], fallback_team: str) -> dict:
    """`{"agents": {name: row}, "teams": {team: row}}` from the `sb:ticket:<id>` hashes (fields
    as strings), names in order; a figure with nothing to measure is None. `waiting` counts the
    given tickets still queued (the report gives those opened in its period). Tickets opened
    before there were teams count for `fallback_team`, where their queues moved."""
    agents: dict[str, _Row] = defaultdict(_Row)
    teams: dict[str, _Row] = defaultdict(_Row)
    for ticket in tickets:
        team = teams[ticket.get("team") or fallback_team]
        if ticket.get("status") == "queued":
            team.waiting += 1
        elif ticket.get("claimed_at") and ticket.get("agent"):
            agents[ticket["agent"]].add(ticket)
            team.add(ticket)
    return {
        "agents": {name: agents[name].figures() for name in sorted(agents)},
        "teams": {name: teams[name].team_figures(targets.get(name)) for name in sorted(teams)},
    }


def share(part: int, whole: int) -> float | None:
    """part / whole to 4 places; None of nothing (the reports' shares)."""
    return round(part / whole, 4) if whole else None


def median_or_none(values: list[float]) -> float | None:
    """The median to a tenth; None of nothing (the reports' medians)."""
    return round(median(values), 1) if values else None


def _p90(values: list[float]) -> float | None:
    """The 90th percentile by nearest rank: a time one of the tickets really took."""
    if not values:
        return None
    return round(sorted(values)[math.ceil(0.9 * len(values)) - 1], 1)
