"""The audit trail: what agents and leads do through the real API, and the tokens operators
issue, is recorded with who did it (never their token), on what, from where and how it ended;
leads alone read and export it, page by page; no route edits it; old entries go. The real bot
process, with a Redis of this module's own and a retention of 30 days."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
import redis as redis_sync
import yaml

from bot.stores import keys
from bot.stores.audit import AuditEntry, AuditTrail
from tests.conftest import ROOT, BotProcess, RedisServer
from tests.helpers import add_agent, call, session_of

RETENTION_DAYS = 30


def audit_page(site, query: str = "", token: str | None = None) -> tuple[int, dict]:
    return call(site.bot, "GET", f"/api/audit{query}", token=token or site.lead)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audit")
    server = RedisServer(folder).start()
    # An entry from before the retention: the first action through the API drops it.
    redis_sync.Redis.from_url(server.url).xadd(keys.AUDIT, {"actor": "old", "action": "claim"},
                                               id=f"{int((time.time() - 40 * 86400) * 1000)}-0")  # fmt: skip
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["web"]["rate_per_ip_minute"] = 1_000_000
    config["audit"]["retention_days"] = RETENTION_DAYS
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    bot = BotProcess(server.url, folder / "bot.log", config=folder / "config.yml").start()
    tokens = {name: add_agent(server, name, "en", role) for name, role in
              (("ana", "agent"), ("bo", "agent"), ("lea", "lead"))}  # fmt: skip
    yield SimpleNamespace(bot=bot, url=server.url, tokens=tokens, lead=tokens["lea"])
    bot.stop()
    server.stop()


def test_agent_and_lead_actions_are_recorded_with_actor_and_object(site):
    ana, bo, lea = site.tokens["ana"], site.tokens["bo"], site.lead
    said = {"text": "I want to talk to a human"}
    assert call(site.bot, "POST", f"/api/webchat/{session_of(site.bot, 'audit-user')}/messages", said)[0] == 200
    status, conv = call(site.bot, "POST", "/api/queue/claim", {}, token=ana)
    cid = conv["id"]
    assert status == 200
    assert call(site.bot, "GET", f"/api/conversations/{cid}", token=ana)[0] == 200
    assert call(site.bot, "POST", f"/api/conversations/{cid}/reply", {"text": "Hi, Ana here."}, token=ana)[0] == 202
    assert call(site.bot, "POST", f"/api/conversations/{cid}/transfer", {"agent": "bo"}, token=ana)[0] == 200
    assert call(site.bot, "POST", f"/api/conversations/{cid}/reply", {"text": "late"}, token=ana)[0] == 404, "bo's now"
    assert call(site.bot, "POST", f"/api/conversations/{cid}/resolve", token=bo)[0] == 200
    status, incident = call(site.bot, "POST", "/api/incidents", {"intents": ["deposit_missing"],
                                                                  "status": {"en": "Deposits are slow."}}, token=lea)
    assert status == 201
    assert call(site.bot, "DELETE", f"/api/incidents/{incident['id']}", {}, token=lea)[0] == 200
    assert call(site.bot, "GET", "/api/reports?since=1d", token=lea)[0] == 200

    status, page = audit_page(site, "?limit=1000")
    assert status == 200
    recorded = [(e["actor"], e["role"], e["action"], e["object"], e["outcome"]) for e in page["entries"]][::-1]
    expected = [("ana", "agent", "claim", cid, "ok"), ("ana", "agent", "transcript_read", cid, "ok"),
                ("ana", "agent", "reply", cid, "ok"), ("ana", "agent", "transfer", cid, "ok"),
                ("ana", "agent", "reply", cid, "not_found"), ("bo", "agent", "resolve", cid, "ok"),
                ("lea", "lead", "incident_declare", incident["id"], "ok"),
                ("lea", "lead", "incident_end", incident["id"], "ok"), ("lea", "lead", "report_read", "", "ok")]
    assert [r for r in recorded if r[2] not in ("token_issued",)] == expected
    assert {e["client"] for e in page["entries"] if e["actor"] in ("ana", "bo", "lea")} == {"127.0.0.1"}
    assert page["entries"][0]["at"] == pytest.approx(time.time(), abs=60)


def test_issued_tokens_are_recorded_and_no_token_is_in_the_trail(site):
    status, page = audit_page(site, "?action=token_issued")
    assert status == 200
    assert sorted((e["actor"], e["role"], e["object"]) for e in page["entries"]) == [
        (f"cli:{getpass.getuser()}", "operator", f"agent:{name}") for name in ("ana", "bo", "lea")]
    trail = json.dumps(audit_page(site, "?limit=1000")[1])
    assert not any(token in trail for token in site.tokens.values())


def test_an_agent_cannot_read_or_export_the_trail_and_the_attempt_is_recorded(site):
    status, body = audit_page(site, token=site.tokens["ana"])
    assert (status, body["error"]) == (403, "forbidden")
    assert call(site.bot, "GET", "/api/audit/export", token=site.tokens["ana"])[0] == 403
    assert call(site.bot, "GET", "/api/audit")[0] == 401
    refused = audit_page(site, "?actor=ana&limit=2")[1]["entries"]
    assert [(e["action"], e["outcome"]) for e in refused] == [("audit_export", "forbidden"),
                                                              ("audit_read", "forbidden")]  # fmt: skip


def test_no_route_edits_the_trail(site):
    before = redis_sync.Redis.from_url(site.url).xlen(keys.AUDIT)
    for method in ("DELETE", "PUT", "PATCH", "POST"):
        for path in ("/api/audit", "/api/audit/export"):
            request = urllib.request.Request(f"{site.bot.url}{path}", data=b'{"entries": []}', method=method,
                                             headers={"Authorization": f"Bearer {site.lead}"})  # fmt: skip
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=30)
            assert refused.value.code == 405, f"{method} {path}"
    assert redis_sync.Redis.from_url(site.url).xlen(keys.AUDIT) == before


def test_pages_follow_the_cursor_newest_first_without_gaps(site):
    everything = audit_page(site, "?limit=1000")[1]["entries"]
    seen, cursor = [], ""
    while True:
        status, page = audit_page(site, f"?limit=3{'&cursor=' + cursor if cursor else ''}")
        assert status == 200 and len(page["entries"]) <= 3
        seen += page["entries"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    # Each page's own reading is recorded too, newer than the first listing: left out.
    listed = {e["id"] for e in everything}
    assert [e["id"] for e in seen if _order(e["id"]) <= _order(everything[0]["id"])] == [e["id"] for e in everything]
    assert len(listed) == len(everything) > 10
    for bad in ("cursor=not-a-cursor", f"cursor={'9' * 20}-0", "since=yesterday", "until=inf", "limit=many"):
        assert audit_page(site, f"?{bad}")[0] == 400, bad


def _order(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


def test_the_export_is_json_lines_oldest_first_over_the_api_and_the_command_line(site):
    request = urllib.request.Request(f"{site.bot.url}/api/audit/export?since=1h&action=reply",
                                     headers={"Authorization": f"Bearer {site.lead}"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in response.read().splitlines()]
    assert [(e["actor"], e["outcome"]) for e in lines] == [("ana", "ok"), ("ana", "not_found")]
    done = subprocess.run([sys.executable, "-m", "bot", "audit", "export", "--since", "1h", "--action", "resolve"],
                          cwd=ROOT, env={**os.environ, "REDIS_URL": site.url}, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [(e["actor"], e["action"]) for e in map(json.loads, done.stdout.splitlines())] == [("bo", "resolve")]


def test_entries_older_than_the_retention_are_dropped(site):
    ids = [e["id"] for e in audit_page(site, "?limit=1000")[1]["entries"]]
    oldest = min(int(entry_id.split("-")[0]) for entry_id in ids) / 1000
    assert oldest > time.time() - RETENTION_DAYS * 86400, "the 40-day-old entry was dropped"
    assert "old" not in {e["actor"] for e in audit_page(site, "?limit=1000")[1]["entries"]}


async def test_each_write_drops_exactly_what_aged_out(redis):
    trail = AuditTrail(redis, retention_days=365)
    now = time.time()
    for days_ago in (400, 366, 364):
        await trail.record(AuditEntry("lea", "lead", "report_read"), at=now - days_ago * 86400)
    await trail.record(AuditEntry("lea", "lead", "report_read"))
    kept = [e.at for e in [entry async for entry in trail.between()]]
    assert [round((now - at) / 86400) for at in kept] == [364, 0]
