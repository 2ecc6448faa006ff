"""The agent API's route table in-process, without the model (and Redis only for counting
refused tokens): what it serves is what the OpenAPI document describes, and every lead route
refuses an agent before it reads anything."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.stores.agents import Agent, SignInFailures
from bot.web.agent_api import AgentApi
from bot.web.lead_routes import LeadRoutes
from bot.web.openapi import OPENAPI

TOKENS = {"agent-token": Agent("ana", ("en",), "agent"), "lead-token": Agent("lea", ("en",), "lead")}


class TokenAgents:
    """An agent store that knows two tokens and nothing else (refused ones counted in `redis`)."""

    def __init__(self, redis=None) -> None:
        self.failures = SignInFailures(redis)

    async def authenticate(self, token: str) -> Agent | None:
        return TOKENS.get(token)

    async def seen(self, name: str) -> None:
        pass


def _api(config, redis=None) -> AgentApi:
    inbox = SimpleNamespace(pipeline=SimpleNamespace(texts=None), replies=None, accounts=None)
    return AgentApi(config, TokenAgents(redis), None, None, inbox)


def _operations(routes: list[web.RouteDef]) -> set[tuple[str, str]]:
    return {(route.method.lower(), route.path) for route in routes}


def test_the_agent_api_serves_what_the_openapi_document_describes(config):
    described = {(method, path) for path, operations in OPENAPI["paths"].items() for method in operations
                 if not path.startswith("/api/webchat/")}  # fmt: skip  # the web chat's routes are its adapter's
    served = _operations(_api(config).routes()) - {("get", "/api/openapi.json")}
    assert served == described


def test_agent_and_lead_routes_do_not_overlap(config):
    api = _api(config)
    agents, leads = _operations(api.agent_routes.routes()), _operations(api.lead_routes.routes())
    assert agents and leads and not agents & leads


@pytest.fixture
async def client(config, redis):
    # Only the guard may answer: the stores are missing, and a handler that ran would fail.
    api = _api(config, redis)
    api.lead_routes = LeadRoutes(config, None, None, None)
    app = web.Application(middlewares=[api.middleware])
    app.add_routes(api.routes())
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_every_lead_route_refuses_an_agent_with_403(client, config):
    for route in LeadRoutes(config, None, None, None).routes():
        path = route.path.replace("{id}", "I-1")
        response = await client.request(route.method, path, headers={"Authorization": "Bearer agent-token"},
                                         data=b"{not json")  # fmt: skip
        body = await response.json()
        assert (response.status, body["error"]) == (403, "forbidden"), f"{route.method} {route.path}"
        assert body["message"].startswith("only leads")


async def test_a_lead_passes_the_guard_and_no_token_gets_401(client):
    response = await client.post("/api/incidents", headers={"Authorization": "Bearer lead-token"}, data=b"{")
    assert (response.status, (await response.json())["error"]) == (400, "bad_json")
    response = await client.get("/api/agents")
    assert (response.status, (await response.json())["error"]) == (401, "unauthorized")
