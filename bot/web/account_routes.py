"""The agent API's view of a user's exchange account (issue 18): `GET
/api/conversations/{id}/account`, the account card of the console, read from the exchange's
back office each time it is asked (the console's Refresh asks again), and `POST
.../account/freeze`, which freezes it there (a security agent's first move on a break-in). An
agent acts on a conversation they own or owned last, a lead on any; everything is in the audit
trail, by the route (`account_lookup`, `account_freeze`) and by what it did (the agent's name)."""

from __future__ import annotations

from aiohttp import web

from bot.services.accounts import Accounts
from bot.stores.conversations import ConversationStore
from bot.web.agent_routes import owned_conversation
from bot.web.api_requests import AGENT, json_object
from bot.web.audit_routes import audited
from bot.web.responses import ApiError


class AccountRoutes:
    """The account card route."""

    def __init__(self, conversations: ConversationStore, accounts: Accounts) -> None:
        self.conversations = conversations
        self.accounts = accounts

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/conversations/{id}/account", self.account),
                web.post("/api/conversations/{id}/account/freeze", self.freeze)]

    @audited("account_lookup")
    async def account(self, request: web.Request) -> web.Response:
        """The user's account card: {"linked": false}, {"linked": true, "available": false}
        (the back office cannot be read now), or the card."""
        conv = await owned_conversation(self.conversations, request)
        return web.json_response(await self.accounts.card(conv.platform, conv.user_id, conv.id,
                                                          request[AGENT].name))  # fmt: skip

    @audited("account_freeze")
    async def freeze(self, request: web.Request) -> web.Response:
        """Freeze the user's account at the exchange, with the agent's `reason`: {"frozen":
        true, "already": bool}; 409 when the user has no linked account, 503 when the back
        office cannot do it now."""
        conv = await owned_conversation(self.conversations, request)
        body = await json_object(request, required=False)
        reason = body.get("reason") if isinstance(body.get("reason"), str) else ""
        outcome = await self.accounts.freeze_for_agent(conv.platform, conv.user_id, conv.id, request[AGENT].name,
                                                       reason.strip()[:200] or "frozen by an agent")  # fmt: skip
        if outcome == "not_linked":
            raise ApiError(409, "not_linked", "the user has not linked an exchange account")
        if outcome == "failed":
            raise ApiError(503, "backoffice_unavailable", "the exchange's back office cannot freeze it now")
        return web.json_response({"frozen": True, "already": outcome == "already"})
