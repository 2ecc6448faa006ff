"""schemathesis against the OpenAPI document the bot serves: every operation, with bodies and
parameters generated from the schema (and beyond it), answers without a server error. A bot
and Redis database of its own: the fuzzing declares incidents, claims and resolves."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import redis as redis_sync
import schemathesis
from hypothesis import HealthCheck, settings

from bot.web.openapi import OPENAPI
from tests.conftest import BotProcess
from tests.helpers import add_agent

# The event stream never ends: it is tested where it is used (the console, the drills).
schema = schemathesis.openapi.from_dict(OPENAPI).exclude(path="/api/events")


@pytest.fixture(scope="module")
def api(tmp_path_factory, redis_server, model_path):
    url = redis_server.url.rsplit("/", 1)[0] + "/13"
    redis_sync.Redis.from_url(url).flushdb()
    bot = BotProcess(url, tmp_path_factory.mktemp("schema") / "bot.log").start()
    lead = add_agent(SimpleNamespace(url=url), "schema-lead", "en,zh,es", role="lead")
    yield SimpleNamespace(bot=bot, lead=lead)
    bot.stop()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error(case, api):
    response = case.call(base_url=api.bot.url, headers={"Authorization": f"Bearer {api.lead}"}, timeout=30)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
    assert api.bot.process.poll() is None
