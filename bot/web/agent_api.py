"""The agents' and leads' HTTP API (JSON, `Authorization: Bearer <token>`), put together: the
routes every agent may call (`agent_routes.py`, with canned answers in `canned_routes.py`,
internal notes in `note_routes.py`, the account card in `account_routes.py` and users' files in
`file_routes.py`), the leads'
(`lead_routes.py`; the audit trail's and data requests' in `audit_routes.py` and
`privacy_routes.py`), the OpenAPI document that describes them (`openapi.py`), behind one
middleware (`api_requests.py`: the token, the role, the JSON errors)."""

from __future__ import annotations

from aiohttp import web

from bot.config import Config
from bot.services.inbox import Inbox
from bot.services.notes import Notes
from bot.stores.agents import AgentStore
from bot.stores.assignment import Assignment
from bot.stores.conversations import ConversationStore
from bot.stores.handoff_queue import HandoffQueue
from bot.web.account_routes import AccountRoutes
from bot.web.agent_routes import AgentRoutes
from bot.web.api_requests import OPEN_DOCUMENT, api_middleware
from bot.web.audit_routes import AuditRoutes
from bot.web.canned_routes import CannedRoutes
from bot.web.event_stream import EventStream
from bot.web.file_routes import FileRoutes
from bot.web.lead_routes import LeadRoutes
from bot.web.note_routes import NoteRoutes
from bot.web.openapi import OPENAPI
from bot.web.privacy_routes import PrivacyRoutes
from bot.web.shift_routes import ShiftRoutes


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI document of the agent API and the web chat API (no token needed)."""
    return web.json_response(OPENAPI)


class AgentApi:
    """The agent API: `routes()` for the app, `middleware` among its middlewares."""

    def __init__(self, config: Config, agents: AgentStore, conversations: ConversationStore, queue: HandoffQueue,
                 inbox: Inbox, assignment: Assignment | None = None) -> None:  # fmt: skip
        self.agent_routes = AgentRoutes(config, agents, conversations, queue, inbox, assignment)
        self.shift_routes = ShiftRoutes(config, agents, conversations, queue, assignment)
        self.event_stream = EventStream(queue.redis if queue else None)
        self.lead_routes = LeadRoutes(config, agents, queue, inbox)
        # The audit trail and data requests (leads): their stores are the app's (server.py).
        self.record_routes = [AuditRoutes(config), PrivacyRoutes(config)]
        self.account_routes = AccountRoutes(conversations, inbox.accounts)
        # Canned answers (each agent's private ones in the app's store, server.py) and notes.
        self.canned_routes = CannedRoutes(config)
        self.note_routes = NoteRoutes(config, conversations, Notes(conversations, agents, queue))
        # Users' files (their store is the app's, server.py), for whoever may read the conversation.
        self.file_routes = FileRoutes(config, conversations)
        self.middleware = api_middleware(agents, config.web.trust_forwarded_for)

    def routes(self) -> list[web.RouteDef]:
        return [web.get(OPEN_DOCUMENT, openapi), *self.agent_routes.routes(), *self.account_routes.routes(),
                *self.event_stream.routes(), *self.shift_routes.routes(), *self.canned_routes.routes(),
                *self.note_routes.routes(), *self.file_routes.routes(), *self.lead_routes.routes(),
                *(route for routes in self.record_routes for route in routes.routes())]  # fmt: skip
