"""The agent API's view of a user's exchange account (issue 18): `GET
/api/conversations/{id}/account`, the account card of the console, read from the exchange's
back office each time it is asked (the console's Refresh asks again). An agent reads the card of
a conversation they own or owned last, a lead any; every read is in the audit trail, by the
route (`account_lookup`) and by the lookup itself (`account.lookup:card`, the agent's name)."""

from __future__ import annotations

from aiohttp import web

from bot.services.accounts import Accounts
from bot.stores.conversations import ConversationStore
from bot.web.agent_routes import is_conversation_id
from bot.web.api_requests import AGENT
from bot.web.audit_routes import audited
from bot.web.responses import ApiError


class AccountRoutes:
    """The account card route."""

    def __init__(self, conversations: ConversationStore, accounts: Accounts) -> None:
        self.conversations = conversations
        self.accounts = accounts

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/conversations/{id}/account", self.account)]

    @audited("account_lookup")
    async def account(self, request: web.Request) -> web.Response:
        """The user's account card: {"linked": false}, {"linked": true, "available": false}
        (the back office cannot be read now), or the card."""
        agent = request[AGENT]
        cid = request.match_info["id"]
        conv = await self.conversations.get(cid) if is_conversation_id(cid) else None
        if conv is None or (not agent.is_lead and agent.name not in (conv.agent, conv.last_agent)):
            raise ApiError(404, "not_found", "no such conversation among yours")
        return web.json_response(await self.accounts.card(conv.platform, conv.user_id, conv.id, agent.name))
