"""Canned answers over the agent API: the team's shared ones per language (`data/canned/`) and
each agent's private ones (`bot/stores/canned_answers.py`), which only that agent sees.

    GET    /api/canned?language=        the shared ones in a language, and "mine"
    GET    /api/canned/mine             the agent's private ones
    PUT    /api/canned/mine/{title}     {"text": ...}: add one, or change its text
    DELETE /api/canned/mine/{title}

The private store is the application's (`request.app[PRIVATE_CANNED]`, set by
`bot/web/server.py`), like the audit trail.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from aiohttp import web

from bot.config import ROOT, Config
from bot.stores.canned_answers import PrivateCanned, TooManyAnswers
from bot.web.api_requests import AGENT, json_object
from bot.web.audit_routes import audited
from bot.web.responses import ApiError

CANNED_DIR = ROOT / "data" / "canned"
PRIVATE_CANNED = web.AppKey("private_canned", PrivateCanned)


def load_canned(languages: tuple[str, ...], directory: Path = CANNED_DIR) -> dict[str, dict[str, str]]:
    """Canned answers per language (`data/canned/<lang>.yml`), placeholders {ticket}, {name}."""
    return {lang: yaml.safe_load((directory / f"{lang}.yml").read_text(encoding="utf-8")) for lang in languages}


class CannedRoutes:
    """The shared canned answers, and the calling agent's private ones."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.shared = load_canned(config.languages)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/canned", self.canned_answers),
            web.get("/api/canned/mine", self.mine),
            web.put("/api/canned/mine/{title}", self.save),
            web.delete("/api/canned/mine/{title}", self.delete),
        ]

    async def canned_answers(self, request: web.Request) -> web.Response:
        """The shared canned answers in `?language=` (the default language without it), and
        the agent's own in "mine"."""
        language = request.query.get("language", self.config.default_language)
        if language not in self.shared:
            raise ApiError(400, "bad_request", f"language must be one of {', '.join(self.shared)}")
        mine = await request.app[PRIVATE_CANNED].of(request[AGENT].name)
        return web.json_response({"language": language, "canned": self.shared[language], "mine": mine})

    async def mine(self, request: web.Request) -> web.Response:
        """The agent's private canned answers, by title."""
        return web.json_response({"mine": await request.app[PRIVATE_CANNED].of(request[AGENT].name)})

    @audited("canned_save")
    async def save(self, request: web.Request) -> web.Response:
        """{"text": ...} under the title in the URL; 400 for a bad title or text, or a 101st answer."""
        text = (await json_object(request)).get("text")
        if not isinstance(text, str):
            raise ApiError(400, "bad_request", '"text" must be a string')
        try:
            title = await request.app[PRIVATE_CANNED].save(request[AGENT].name, request.match_info["title"], text)
        except TooManyAnswers as error:
            raise ApiError(400, "too_many", str(error)) from None
        except ValueError as error:
            raise ApiError(400, "bad_request", str(error)) from None
        return web.json_response({"title": title, "text": text})

    @audited("canned_delete")
    async def delete(self, request: web.Request) -> web.Response:
        """Remove one of the agent's private canned answers; 404 when there is none by that title."""
        if not await request.app[PRIVATE_CANNED].delete(request[AGENT].name, request.match_info["title"]):
            raise ApiError(404, "not_found", "you have no canned answer by that title")
        return web.json_response({"deleted": True})
