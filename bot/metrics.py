"""Prometheus metrics, served at /metrics in the text format (scrape it from inside your
network: it holds counts, never user text).

Counters and histograms are per replica: with several worker processes
(`bot/web/workers.py`) each writes its own and a scrape, whichever worker answers it, sums
them (prometheus_client's multiprocess mode). Queue depth is read from Redis at each scrape,
so every replica reports the same shared queue.
"""

from __future__ import annotations

import os

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from bot.stores.handoff_queue import LANES, HandoffQueue

REGISTRY = CollectorRegistry()
MESSAGES_IN = Counter("supportbot_messages_in", "Messages accepted from users", ["platform"], registry=REGISTRY)
MESSAGES_OUT = Counter("supportbot_messages_out", "Replies delivered to users", ["platform", "sender"],
                       registry=REGISTRY)  # fmt: skip
DUPLICATES = Counter("supportbot_duplicates", "Messages taken before (a platform's redelivery, a page's resend): "
                     "not handled again", ["platform"], registry=REGISTRY)
DECISIONS = Counter("supportbot_decisions", "What the bot did with a message", ["action"], registry=REGISTRY)
PIPELINE_SECONDS = Histogram("supportbot_pipeline_seconds", "Time from accepting a message to the decision",
                             buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
                             registry=REGISTRY)  # fmt: skip
WAIT_SECONDS = Histogram("supportbot_wait_seconds", "Time a conversation waited in the queue before a claim",
                         ["lane"], buckets=(5, 15, 30, 60, 120, 300, 600, 1200, 3600), registry=REGISTRY)  # fmt: skip
SLA_BREACHES = Counter("supportbot_sla_breaches", "Conversations that waited past their lane's target", ["lane"],
                       registry=REGISTRY)  # fmt: skip
ADAPTER_ERRORS = Counter("supportbot_adapter_errors", "Deliveries that failed (sent again later)", ["platform"],
                         registry=REGISTRY)  # fmt: skip
BACKOFFICE_FAILURES = Counter("supportbot_backoffice_failures",
                              "Calls to the exchange's back office that timed out, failed or answered outside the "
                              "contract (the user got the general answer)", ["call"], registry=REGISTRY)  # fmt: skip
REPLICA_WAIT_SECONDS = Histogram("supportbot_replica_wait_seconds",
                                 "Time an acknowledging write waited for its replicas (Redis WAIT)",
                                 buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
                                 registry=REGISTRY)  # fmt: skip
REPLICA_WAIT_TIMEOUTS = Counter("supportbot_replica_wait_timeouts",
                                "Acknowledging writes that fewer replicas than redis.wait_replicas had in time",
                                registry=REGISTRY)  # fmt: skip
QUEUE_DEPTH = Gauge("supportbot_queue_depth", "Conversations waiting, per lane", ["lane"], registry=REGISTRY,
                    multiprocess_mode="mostrecent")  # fmt: skip


def _scraped() -> CollectorRegistry:
    """What a scrape reports: this process's metrics, or all the workers' summed."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def metrics_route(queue: HandoffQueue) -> web.RouteDef:
    async def metrics(request: web.Request) -> web.Response:
        waiting = await queue.waiting()
        for lane in LANES:
            QUEUE_DEPTH.labels(lane).set(sum(1 for entry in waiting if entry.lane == lane))
        response = web.Response(body=generate_latest(_scraped()))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    return web.get("/metrics", metrics)
