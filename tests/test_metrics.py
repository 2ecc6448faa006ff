"""/metrics from the real bot process, read with prometheus_client's own parser."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import add_agent, call, say


def scrape(bot) -> dict[str, list]:
    with urllib.request.urlopen(bot.url + "/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def value(samples: list, name: str, **labels: str) -> float:
    return sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())


def test_metrics_count_messages_decisions_queue_and_waits(bot, redis_server):
    before = scrape(bot)
    say(bot, "metrics-user-0001", "what are the trading fees?")
    say(bot, "metrics-user-0002", "I want to talk to a human")
    after = scrape(bot)
    assert value(after["supportbot_messages_in"], "supportbot_messages_in_total", platform="webchat") == value(
        before["supportbot_messages_in"], "supportbot_messages_in_total", platform="webchat") + 2
    assert value(after["supportbot_decisions"], "supportbot_decisions_total", action="handoff") >= 1
    assert value(after["supportbot_pipeline_seconds"], "supportbot_pipeline_seconds_count") >= 2
    assert value(after["supportbot_queue_depth"], "supportbot_queue_depth", lane="normal") >= 1
    assert {s.labels["lane"] for s in after["supportbot_queue_depth"]} == {"urgent", "vip", "high", "normal"}

    token = add_agent(redis_server, "metra", "en")
    while call(bot, "POST", "/api/queue/claim", {"languages": ["en"]}, token=token)[0] == 200:
        pass
    claimed = scrape(bot)
    assert value(claimed["supportbot_wait_seconds"], "supportbot_wait_seconds_count") >= 1
    assert value(claimed["supportbot_queue_depth"], "supportbot_queue_depth", lane="normal") < value(
        after["supportbot_queue_depth"], "supportbot_queue_depth", lane="normal")
