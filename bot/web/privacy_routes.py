"""Data requests over the agent API, for leads: everything kept about a platform user, and its
erasure (`bot/services/privacy.py` does both; each call is in the audit trail).

    GET  /api/users/{platform}/{user_id}/export                                  one JSON document
    POST /api/users/{platform}/{user_id}/erase  {"confirm": "<platform>:<user_id>"}   what was erased
"""

from __future__ import annotations

import re

from aiohttp import web

from bot.services.privacy import DataRequests
from bot.web.api_requests import json_object, lead_only
from bot.web.audit_routes import audited
from bot.web.responses import ApiError

DATA_REQUESTS = web.AppKey("data_requests", DataRequests)
PLATFORM = re.compile(r"^[a-z]{1,20}$")
MAX_USER_ID = 200


def _user(request: web.Request) -> tuple[str, str]:
    platform, user_id = request.match_info["platform"], request.match_info["user_id"]
    if not PLATFORM.match(platform) or not user_id or len(user_id) > MAX_USER_ID:
        raise ApiError(400, "bad_request", "a user is a platform (webchat, telegram, ...) and its user id")
    return platform, user_id


class PrivacyRoutes:
    """Export and erasure of one user's data (leads only)."""

    def __init__(self, config: object) -> None:
        self.config = config

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/users/{platform}/{user_id}/export", self.export),
                web.post("/api/users/{platform}/{user_id}/erase", self.erase)]  # fmt: skip

    @audited("user_export")
    @lead_only("only leads export a user's data")
    async def export(self, request: web.Request) -> web.Response:
        """Everything kept about the user: conversations and transcripts, tickets, ratings and
        feedback, filed reports, pending messages and replies, channel state."""
        platform, user_id = _user(request)
        return web.json_response(await request.app[DATA_REQUESTS].export(platform, user_id))

    @audited("user_erase")
    @lead_only("only leads erase a user's data")
    async def erase(self, request: web.Request) -> web.Response:
        """Erase the user's data everywhere; the reports keep anonymous counts. The body must
        repeat the user, `{"confirm": "<platform>:<user_id>"}`, so a wrong URL erases nothing."""
        platform, user_id = _user(request)
        if (await json_object(request)).get("confirm") != f"{platform}:{user_id}":
            raise ApiError(400, "not_confirmed", f'confirm with {{"confirm": "{platform}:<user_id>"}} naming the user')
        return web.json_response({"erased": await request.app[DATA_REQUESTS].erase(platform, user_id)})
