"""How a support organisation is modelled: its teams (what each takes, who speaks what, when it
is open), which team a hand-off goes to, and the rules of the agents' day (how many open
conversations an agent holds, how long an offered conversation waits to be accepted, when a
returning user goes back to the agent who helped them).

`config.yml`'s `routing:` section is read here (`parse_routing`); the atomic steps that apply
these rules in Redis are `bot/stores/handoff_queue.py`'s and `bot/stores/assignment.py`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LANES = ("urgent", "vip", "high", "normal")  # taken strictly in this order
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TEAM_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class RoutingError(ValueError):
    """A bad `routing:` section: the message names the key."""


@dataclass(frozen=True)
class Hours:
    """When a team answers: on `days`, from `opens` to `closes` (HH:MM, local to `timezone`;
    "24:00" is the end of the day). The default is always open."""

    timezone: str = "UTC"
    days: tuple[str, ...] = WEEKDAYS
    opens: str = "00:00"
    closes: str = "24:00"

    @property
    def always(self) -> bool:
        return self.days == WEEKDAYS and self.opens == "00:00" and self.closes == "24:00"

    def _minutes(self, clock: str) -> int:
        hours, minutes = clock.split(":")
        return int(hours) * 60 + int(minutes)

    def is_open(self, now: float) -> bool:
        if self.always:
            return True
        local = datetime.fromtimestamp(now, ZoneInfo(self.timezone))
        minute = local.hour * 60 + local.minute
        return WEEKDAYS[local.weekday()] in self.days and self._minutes(self.opens) <= minute < self._minutes(
            self.closes
        )

    def next_opening(self, now: float) -> datetime:
        """When the team next opens (now, if open), in its own time zone."""
        zone = ZoneInfo(self.timezone)
        local = datetime.fromtimestamp(now, zone)
        if self.is_open(now):
            return local
        opens = self._minutes(self.opens)
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).replace(hour=0, minute=0, second=0, microsecond=0)
            start = day + timedelta(minutes=opens)
            if WEEKDAYS[day.weekday()] in self.days and start > local:
                return start
        return local  # no open day at all: parse_routing refuses that


@dataclass(frozen=True)
class Team:
    """A team: the hand-offs it takes (by intent or lane), the languages its agents speak
    (none named: every language), whether conversations are offered to its agents
    (`auto_assign`) or only pulled, its first-response target and its hours."""

    name: str
    intents: tuple[str, ...] = ()
    lanes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    auto_assign: bool = False
    first_response_seconds: int = 0
    hours: Hours = field(default_factory=Hours)

    def takes(self, intent: str, lane: str, language: str) -> bool:
        matches = intent in self.intents or lane in self.lanes
        return matches and (not self.languages or language in self.languages)


@dataclass(frozen=True)
class RoutingSettings:
    teams: tuple[Team, ...] = (Team("general"),)
    # Takes what no team takes, and what waits too long in a team with no one available.
    fallback_team: str = "general"
    overflow_seconds: int = 120
    # Open conversations an agent holds at most (`agents add --max-open` sets one agent's).
    max_open_per_agent: int = 8
    # A user handed off again within this many minutes of their last ticket's close goes back
    # to the agent who closed it, when that agent is online with room; 0: never.
    return_to_last_agent_minutes: int = 60
    # An offered (auto-assigned) conversation not accepted in this time goes to the next agent.
    accept_seconds: int = 60
    # The console marks an agent away after this many minutes with no activity.
    away_after_minutes: int = 10

    def team(self, name: str) -> Team:
        return next((t for t in self.teams if t.name == name), self.fallback)

    @property
    def fallback(self) -> Team:
        return next(t for t in self.teams if t.name == self.fallback_team)

    @property
    def team_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.teams)

    @property
    def team_targets(self) -> dict[str, int]:
        """First-response targets in seconds, per team that has one (for the reports)."""
        return {t.name: t.first_response_seconds for t in self.teams if t.first_response_seconds}

    def team_for(self, intent: str, lane: str, language: str) -> Team:
        """The first team (in the order of config.yml) that takes the hand-off; else the fallback."""
        return next((t for t in self.teams if t.takes(intent, lane, language)), self.fallback)


def parse_routing(raw: Any, languages: tuple[str, ...]) -> RoutingSettings:
    """The `routing:` section (None: one team, "general", that takes everything)."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise RoutingError("routing: expected a mapping")
    numbers = {k: raw[k] for k in ("overflow_seconds", "max_open_per_agent", "return_to_last_agent_minutes",
                                   "accept_seconds", "away_after_minutes") if k in raw}  # fmt: skip
    unknown = set(raw) - {"teams", "fallback_team", *RoutingSettings.__dataclass_fields__}
    if unknown:
        raise RoutingError(f"routing.{sorted(unknown)[0]}: unknown key")
    for key, value in numbers.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise RoutingError(f"routing.{key}: expected a whole number >= 0, got {value!r}")
    if numbers.get("max_open_per_agent", 1) < 1:
        raise RoutingError("routing.max_open_per_agent: at least 1")
    teams = tuple(_team(item, n, languages) for n, item in enumerate(raw.get("teams") or [{"name": "general"}]))
    names = [t.name for t in teams]
    if len(set(names)) != len(names):
        raise RoutingError("routing.teams: two teams share a name")
    fallback = raw.get("fallback_team", "general" if "general" in names else names[-1])
    if fallback not in names:
        raise RoutingError(f"routing.fallback_team: {fallback!r} is not one of the teams {names}")
    return RoutingSettings(teams=teams, fallback_team=fallback, **numbers)


def _team(raw: Any, n: int, languages: tuple[str, ...]) -> Team:
    from intents import INTENT_NAMES  # the registry of intents, read once at start

    where = f"routing.teams[{n}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not TEAM_NAME.match(raw["name"]):
        raise RoutingError(f"{where}: a mapping with a name (lowercase letters, digits, '-', '_')")
    unknown = set(raw) - {"name", "intents", "lanes", "languages", "auto_assign", "first_response_seconds", "hours"}
    if unknown:
        raise RoutingError(f"{where}.{sorted(unknown)[0]}: unknown key")
    lists = {}
    for key, allowed in (("intents", INTENT_NAMES), ("lanes", LANES), ("languages", languages)):
        values = raw.get(key) or []
        if not isinstance(values, list) or any(v not in allowed for v in values):
            raise RoutingError(f"{where}.{key}: a list of {', '.join(allowed)}")
        lists[key] = tuple(values)
    if not isinstance(raw.get("auto_assign", False), bool):
        raise RoutingError(f"{where}.auto_assign: true or false")
    target = raw.get("first_response_seconds", 0)
    if not isinstance(target, int) or isinstance(target, bool) or target < 0:
        raise RoutingError(f"{where}.first_response_seconds: a whole number of seconds")
    return Team(raw["name"], auto_assign=raw.get("auto_assign", False), first_response_seconds=target,
                hours=_hours(raw.get("hours"), where), **lists)  # fmt: skip


def _hours(raw: Any, where: str) -> Hours:
    if raw is None or raw == "always":
        return Hours()
    if not isinstance(raw, dict) or set(raw) - {"timezone", "days", "from", "to"}:
        raise RoutingError(f"{where}.hours: \"always\", or timezone, days, from and to")
    opens, closes = (_clock(raw.get(key, default)) for key, default in (("from", "00:00"), ("to", "24:00")))
    hours = Hours(raw.get("timezone", "UTC"), tuple(raw.get("days") or WEEKDAYS), opens, closes)
    try:
        ZoneInfo(hours.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise RoutingError(f"{where}.hours.timezone: {hours.timezone!r} is no time zone (like Europe/Malta)") from None
    if not hours.days or any(d not in WEEKDAYS for d in hours.days):
        raise RoutingError(f"{where}.hours.days: a list of {', '.join(WEEKDAYS)}")
    for key, clock in (("from", hours.opens), ("to", hours.closes)):
        if not isinstance(clock, str) or not _CLOCK.match(clock) or (clock.startswith("24") and clock != "24:00"):
            raise RoutingError(f"{where}.hours.{key}: HH:MM, like 09:00")
    if hours._minutes(hours.opens) >= hours._minutes(hours.closes):
        raise RoutingError(f"{where}.hours: 'from' must come before 'to'")
    return hours


def _clock(value: Any) -> Any:
    """HH:MM as written; YAML 1.1 reads an unquoted 09:00 as 540 (base 60): taken back."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 24 * 60:
        return f"{value // 60:02d}:{value % 60:02d}"
    return value
