"""The demo back office as an integrator meets it: `python -m demo_backoffice` started as a real
process on a free loopback port with its own SQLite file, and a small aiohttp receiver standing
in for the bot's events endpoint (it checks every signature with its own HMAC code).

Every response the tests get is checked against docs/backoffice-api.yaml: its status must be
one the contract lists for that operation, and a JSON body must follow the schema (jsonschema,
with the OpenAPI 3.0 `nullable` turned into a JSON Schema null type). No Redis and no bot.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
import requests
import yaml
from aiohttp import web

from demo_backoffice import seed

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = yaml.safe_load((ROOT / "docs" / "backoffice-api.yaml").read_text(encoding="utf-8"))
UIDS = (seed.ALICE_UID, seed.BOB_UID, seed.CAROL_UID, seed.DAVE_UID, seed.ERIN_UID)
# Distinctive, so that the log check can look for it.
WRONG_PASSWORD = "not-the-password-" + secrets.token_hex(4)
WARNING = (
    "Only continue if this is your own chat. The support bot will never ask you for your password, a code or a key."
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def json_schema(node):
    """An OpenAPI 3.0 schema as JSON Schema: `nullable: true` becomes a null type (and a None in
    an enum); `discriminator` and `example` are dropped (not JSON Schema)."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: json_schema(v) for k, v in node.items() if k not in ("nullable", "discriminator", "example")}
    if node.get("nullable"):
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


class Contract:
    """docs/backoffice-api.yaml, as the tests use it."""

    def __init__(self, doc: dict) -> None:
        self.doc = doc
        self.components = json_schema(doc["components"])
        self.templates = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in doc["paths"]]

    def follow(self, node: dict) -> dict:
        """`node` with its `$ref` (if any) followed."""
        while "$ref" in node:
            target = self.doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def validator(self, schema: dict) -> jsonschema.Draft4Validator:
        return jsonschema.Draft4Validator({**json_schema(schema), "components": self.components})

    def schema(self, name: str) -> dict:
        return {"$ref": f"#/components/schemas/{name}"}

    def conforms(self, schema: dict, text: str) -> bool:
        try:
            return self.validator(schema).is_valid(json.loads(text))
        except ValueError:
            return False

    def check(self, method: str, path: str, response: requests.Response):
        """The response's body (JSON, HTML text or None) after checking it against the contract."""
        template = next((t for rx, t in self.templates if rx.match(path)), None)
        assert template, f"{path} is not in the contract"
        op = self.doc["paths"][template][method.lower()]
        spec = op["responses"].get(str(response.status_code))
        assert spec, f"{method} {template} answered {response.status_code}, which the contract does not list"
        content = self.follow(spec).get("content")
        if not content:
            assert response.content == b""
            return None
        kind = response.headers["Content-Type"].split(";")[0]
        assert kind in content, f"{method} {template} {response.status_code}: {kind}, contract says {list(content)}"
        if kind != "application/json":
            return response.text
        body = response.json()
        self.validator(content[kind]["schema"]).validate(body)
        return body


class Receiver:
    """The bot's events endpoint, in a thread with its own event loop. `status` and `delay_s`
    say how it answers; a bad signature is answered 401, as the contract asks of the bot."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.port = free_port()
        self.events: list[dict] = []
        self.seen: set[str] = set()
        self.status, self.delay_s = 200, 0.0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(10)
        return self

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_post("/backoffice/v1/events", self._event)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def _event(self, request: web.Request) -> web.Response:
        raw = await request.read()
        header = request.headers.get("X-Backoffice-Signature", "")
        verdict = self.verify(header, raw)
        self.events.append({"raw": raw, "header": header, "body": json.loads(raw), "verdict": verdict})
        await asyncio.sleep(self.delay_s)
        return web.Response(status=self.status if verdict == "ok" else 401)

    def verify(self, header: str, raw: bytes, now: float | None = None) -> str:
        """Why the event is refused, or "ok": the receiver's own reading of the signature rules."""
        fields = dict(part.strip().partition("=")[::2] for part in header.split(","))
        if not fields.get("t", "").isdigit():
            return "malformed"
        t = int(fields["t"])
        if abs((time.time() if now is None else now) - t) > 300:
            return "stale"
        expected = hmac.new(self.secret, f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields.get("v1", "")):
            return "wrong signature"
        event_id = json.loads(raw)["event_id"]
        if event_id in self.seen:
            return "replayed"
        self.seen.add(event_id)
        return "ok"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Backoffice:
    """`python -m demo_backoffice` on a free port, its output in a log file."""

    def __init__(self, workdir: Path, bot_url: str, token: str, signing_secret: str) -> None:
        self.port = free_port()
        self.db = workdir / "backoffice.sqlite3"
        self.log_path = workdir / "backoffice.log"
        self.bot_url = bot_url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")}
        self.env.update(BACKOFFICE_TOKEN=token, BACKOFFICE_SIGNING_SECRET=signing_secret)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15) -> Backoffice:
        self.log = open(self.log_path, "wb")
        args = ["--port", str(self.port), "--db", str(self.db), "--bot-url", self.bot_url]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "demo_backoffice", *args], cwd=ROOT, env=self.env, stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the back office exited with {self.process.returncode}:\n{self.logs()}")
            try:
                if requests.get(self.url + "/v1/health", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        pytest.fail(f"the back office did not answer within {timeout} s:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class Client:
    """HTTP calls to the back office; every answer is checked against the contract and kept (for
    the test that no body carries a full UID)."""

    def __init__(self, base: str, token: str, contract: Contract) -> None:
        self.base, self.token, self.contract = base, token, contract
        self.bodies: list[str] = []
        self.last: requests.Response | None = None

    def call(self, method: str, path: str, expect: int, *, auth: bool = True, headers: dict | None = None,
             check: bool = True, **kwargs):  # fmt: skip
        if headers is None:
            headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        response = requests.request(
            method, self.base + path, headers=headers, timeout=10, allow_redirects=False, **kwargs
        )
        self.bodies.append(response.text)
        self.last = response
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text[:600]}"
        return self.contract.check(method, path, response) if check else response


@pytest.fixture(scope="module")
def bo(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("backoffice")
    token, signing_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    receiver = Receiver(signing_secret.encode()).start()
    server = Backoffice(workdir, receiver.url, token, signing_secret).start()
    contract = Contract(CONTRACT)
    yield SimpleNamespace(
        server=server, receiver=receiver, api=Client(server.url, token, contract), contract=contract, token=token,
        signing_secret=signing_secret, refs={}, capabilities=[],
    )  # fmt: skip
    server.stop()
    receiver.stop()


def create_request(bo, **fields) -> dict:
    body = {"platform": "telegram", "platform_user_id": str(secrets.randbelow(10**10)), "display_name": "Test user",
            "expires_in_s": 600, **fields}  # fmt: skip
    created = bo.api.call("POST", "/v1/link-requests", 201, json=body)
    assert created["url"] == f"{bo.server.url}/link/{created['request_id']}"
    bo.capabilities.append(created["request_id"])
    return created


def sign_in(bo, request_id: str, username: str, password: str, expect: int) -> str:
    return bo.api.call("POST", f"/link/{request_id}", expect, data={"username": username, "password": password})


def link(bo, username: str, **fields) -> str:
    """Link a new chat to `username`'s account through the page; the new account_ref."""
    request_id = create_request(bo, **fields)["request_id"]
    before = len(bo.receiver.events)
    assert "Linked. Go back to the chat." in sign_in(bo, request_id, username, seed.DEMO_PASSWORD, 200)
    assert len(bo.receiver.events) == before + 1
    event = bo.receiver.events[-1]
    assert event["verdict"] == "ok" and event["body"]["event"] == "link.confirmed"
    bo.capabilities.append(event["body"]["account_ref"])
    return event["body"]["account_ref"]


def ref_of(bo, username: str) -> str:
    """A link to `username`'s account kept for the read-only tests (made once)."""
    if username not in bo.refs:
        bo.refs[username] = link(bo, username)
    return bo.refs[username]


def get(bo, ref: str, what: str, expect: int = 200, **params):
    return bo.api.call("GET", f"/v1/links/{ref}/{what}", expect, params=params)


def read_db(bo, query: str, *params) -> list[tuple]:
    with sqlite3.connect(f"file:{bo.server.db}?mode=ro", uri=True) as conn:
        return conn.execute(query, params).fetchall()


def test_health_answers_without_a_token(bo):
    assert bo.api.call("GET", "/v1/health", 200, auth=False) == {"status": "ok", "version": "1.0.0"}


def test_every_other_route_needs_the_right_bearer_token(bo):
    ref, request_id = "A" * 32, "A" * 43
    routes = [("POST", "/v1/link-requests"), ("GET", f"/v1/link-requests/{request_id}"),
              ("GET", f"/v1/links/{ref}/account"), ("GET", f"/v1/links/{ref}/deposits"),
              ("GET", f"/v1/links/{ref}/withdrawals"), ("POST", f"/v1/links/{ref}/actions/freeze"),
              ("DELETE", f"/v1/links/{ref}"), ("POST", "/demo/faults"), ("POST", "/demo/clock")]  # fmt: skip
    refused = [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {bo.token}x"},
               {"Authorization": f"Basic {bo.token}"}, {"Authorization": bo.token},
               {"Authorization": "Bearer "}]  # fmt: skip
    for method, path in routes:
        for headers in refused:
            body = bo.api.call(method, path, 401, headers=headers, json={})
            assert body["error"]["code"] == "unauthorized"
            assert bo.api.last.headers["WWW-Authenticate"] == "Bearer"


def test_link_request_bodies_are_checked(bo):
    good = {"platform": "discord", "platform_user_id": "1234567", "display_name": "x" * 64, "expires_in_s": 60}
    bad = [{"platform": "icq"}, {"platform": ["x"]}, {"platform_user_id": ""}, {"platform_user_id": "9" * 129},
           {"platform_user_id": 1234567}, {"display_name": "x" * 65}, {"display_name": ""}, {"display_name": "   "},
           {"display_name": "two\nlines"}, {"display_name": "a\u2028b"}, {"display_name": "\u3000"},
           {"expires_in_s": 59}, {"expires_in_s": 3601}, {"expires_in_s": True},
           {"expires_in_s": "600"}, {"expires_in_s": 600.5}]  # fmt: skip
    for change in bad:
        body = bo.api.call("POST", "/v1/link-requests", 400, json={**good, **change})
        assert body["error"]["code"] == "bad_request", change
    for raw in (b"not json", b"[]", b'"text"'):
        assert bo.api.call("POST", "/v1/link-requests", 400, data=raw)["error"]["code"] == "bad_request"
    missing = {k: v for k, v in good.items() if k != "expires_in_s"}
    assert bo.api.call("POST", "/v1/link-requests", 400, json=missing)["error"]["code"] == "bad_request"
    for platform in ("telegram", "discord", "x", "webchat"):
        create_request(bo, platform=platform, expires_in_s=3600)
    create_request(bo, **good)


def test_a_chat_user_links_their_account_once(bo):
    name = "<script>alert(1)</script> Ann"
    created = create_request(bo, platform="telegram", platform_user_id="5550009876", display_name=name)
    request_id = created["request_id"]
    assert bo.api.call("GET", f"/v1/link-requests/{request_id}", 200) == {
        "state": "pending", "account_ref": None, "platform": "telegram", "platform_user_id": "5550009876"}  # fmt: skip

    page = bo.api.call("GET", f"/link/{request_id}", 200, auth=False)
    assert "Telegram user &lt;script&gt;alert(1)&lt;/script&gt; Ann, id ending …9876" in page
    assert "<script>" not in page and WARNING in page and "Demo back office" in page
    headers = bo.api.last.headers
    assert headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
    assert (headers["X-Frame-Options"], headers["Referrer-Policy"], headers["Cache-Control"]) == (
        "DENY", "no-referrer", "no-store")  # fmt: skip

    assert "wrong user name or password" in sign_in(bo, request_id, "alice", WRONG_PASSWORD, 401)
    assert "wrong user name or password" in sign_in(bo, request_id, "mallory", seed.DEMO_PASSWORD, 401)
    assert "Linked. Go back to the chat." in sign_in(bo, request_id, "alice", seed.DEMO_PASSWORD, 200)

    event = bo.receiver.events[-1]
    assert event["verdict"] == "ok"
    bo.contract.validator(bo.contract.schema("LinkConfirmedEvent")).validate(event["body"])
    ref = event["body"]["account_ref"]
    bo.capabilities.append(ref)
    assert {k: event["body"][k] for k in ("event", "request_id", "platform", "platform_user_id")} == {
        "event": "link.confirmed", "request_id": request_id, "platform": "telegram",
        "platform_user_id": "5550009876"}  # fmt: skip
    assert re.fullmatch(r"t=\d+, v1=[0-9a-f]{64}", event["header"])
    # The signature covers the body and the time, and an event_id counts once.
    assert bo.receiver.verify(event["header"], event["raw"].replace(b"5550009876", b"5550009877")) == "wrong signature"
    assert bo.receiver.verify(event["header"], event["raw"]) == "replayed"
    t = int(event["header"].split(",")[0].removeprefix("t="))
    assert bo.receiver.verify(event["header"], event["raw"], now=t + 301) == "stale"

    assert bo.api.call("GET", f"/v1/link-requests/{request_id}", 200) == {
        "state": "confirmed", "account_ref": ref, "platform": "telegram", "platform_user_id": "5550009876"}  # fmt: skip
    events = len(bo.receiver.events)
    assert "already used" in sign_in(bo, request_id, "alice", seed.DEMO_PASSWORD, 410)
    assert "already used" in sign_in(bo, request_id, "bob", seed.DEMO_PASSWORD, 410)
    bo.api.call("GET", f"/link/{request_id}", 410, auth=False)
    assert len(bo.receiver.events) == events
    assert get(bo, ref, "account")["uid_masked"] == "10****89"


def test_five_wrong_passwords_close_the_request(bo):
    request_id = create_request(bo)["request_id"]
    for _ in range(4):
        sign_in(bo, request_id, "alice", WRONG_PASSWORD, 401)
    assert "Too many wrong passwords" in sign_in(bo, request_id, "alice", WRONG_PASSWORD, 429)
    sign_in(bo, request_id, "alice", seed.DEMO_PASSWORD, 429)
    bo.api.call("GET", f"/link/{request_id}", 429, auth=False)
    assert bo.api.call("GET", f"/v1/link-requests/{request_id}", 200)["state"] == "expired"


def test_an_expired_request_is_refused(bo):
    request_id = create_request(bo, platform_user_id="5550004321", expires_in_s=60)["request_id"]
    bo.api.call("GET", f"/link/{request_id}", 200, auth=False)
    for body in ({"advance_s": -5}, {"advance_s": "61"}, {}, {"advance_s": 61, "more": 1}):
        assert bo.api.call("POST", "/demo/clock", 400, json=body)["error"]["code"] == "bad_request"
    assert bo.api.call("POST", "/demo/clock", 200, json={"advance_s": 61})["offset_s"] >= 61
    events = len(bo.receiver.events)
    assert "expired" in bo.api.call("GET", f"/link/{request_id}", 410, auth=False)
    assert "expired" in sign_in(bo, request_id, "alice", seed.DEMO_PASSWORD, 410)
    assert bo.api.call("GET", f"/v1/link-requests/{request_id}", 200) == {
        "state": "expired", "account_ref": None, "platform": "telegram", "platform_user_id": "5550004321"}  # fmt: skip
    assert len(bo.receiver.events) == events


def test_an_unknown_request_is_not_found(bo):
    for request_id in (secrets.token_urlsafe(32), "short", "A" * 44):
        bo.api.call("GET", f"/link/{request_id}", 404, auth=False)
        sign_in(bo, request_id, "alice", seed.DEMO_PASSWORD, 404)
        assert bo.api.call("GET", f"/v1/link-requests/{request_id}", 404)["error"]["code"] == "not_found"


def test_a_bot_that_fails_or_does_not_answer_leaves_nothing_linked(bo):
    request_id = create_request(bo, platform="webchat")["request_id"]
    for status, delay_s in ((500, 0.0), (200, 2.5)):
        bo.receiver.status, bo.receiver.delay_s = status, delay_s
        started = time.monotonic()
        try:
            page = sign_in(bo, request_id, "carol", seed.DEMO_PASSWORD, 502)
        finally:
            bo.receiver.status, bo.receiver.delay_s = 200, 0.0
        assert "could not be completed" in page and "ask the bot for a new link" in page
        assert time.monotonic() - started < 2.0 + 1.5  # the 2 s timeout, and the password check
        event = bo.receiver.events[-1]
        assert event["verdict"] == "ok" and event["body"]["request_id"] == request_id
        ref = event["body"]["account_ref"]
        bo.capabilities.append(ref)
        assert get(bo, ref, "account", 410)["error"]["code"] == "link_revoked"
        assert bo.api.call("GET", f"/v1/link-requests/{request_id}", 200)["state"] == "pending"
        assert bo.api.call("GET", f"/v1/link-requests/{request_id}", 200)["account_ref"] is None
    # The request stayed pending: once the bot answers, the same page links.
    assert "Linked." in sign_in(bo, request_id, "carol", seed.DEMO_PASSWORD, 200)
    bo.capabilities.append(bo.receiver.events[-1]["body"]["account_ref"])


def test_alice_account_is_masked(bo):
    assert get(bo, ref_of(bo, "alice"), "account") == {
        "uid_masked": "10****89", "kyc": {"level": 2, "status": "verified", "last_rejection_reason": None},
        "vip_tier": 0, "locked": False, "restrictions": []}  # fmt: skip


def test_alice_deposits_latest_and_by_txid(bo):
    ref = ref_of(bo, "alice")
    deposits = get(bo, ref, "deposits")["deposits"]
    assert [d["id"] for d in deposits] == [seed.ALICE_USDT_DEPOSIT_ID, seed.ALICE_XRP_DEPOSIT_ID,
                                           seed.ALICE_BEP20_DEPOSIT_ID, seed.ALICE_BTC_DEPOSIT_ID]  # fmt: skip
    usdt, xrp, bep20, btc = deposits
    assert {k: v for k, v in usdt.items() if k != "created_at"} == {
        "id": seed.ALICE_USDT_DEPOSIT_ID, "coin": "USDT", "network": "TRC20", "amount": "500.00",
        "txid": seed.ALICE_USDT_TXID, "confirmations": 12, "required_confirmations": 20, "status": "confirming",
        "credited": False, "reason": None, "estimated_seconds_left": 240}  # fmt: skip
    assert (xrp["status"], xrp["credited"], xrp["reason"]) == ("on_hold", False, seed.XRP_REASON)
    assert (xrp["coin"], xrp["network"], xrp["amount"]) == ("XRP", "XRP Ledger", "120.00")
    assert (bep20["status"], bep20["credited"], bep20["network"]) == ("failed", False, "BEP20")
    assert "BEP20" in bep20["reason"] and "ERC20" in bep20["reason"]
    assert (btc["status"], btc["credited"], btc["reason"]) == ("credited", True, None)
    assert btc["estimated_seconds_left"] is None
    assert (btc["coin"], btc["amount"]) == ("BTC", "0.05")

    assert get(bo, ref, "deposits", txid=seed.ALICE_USDT_TXID)["deposits"] == [usdt]
    assert get(bo, ref, "deposits", txid=seed.ALICE_USDT_TXID.upper())["deposits"] == [usdt]
    assert get(bo, ref, "deposits", txid=seed.ALICE_XRP_TXID.lower())["deposits"] == [xrp]
    assert get(bo, ref, "deposits", txid="ab" * 32)["deposits"] == []
    assert get(bo, ref, "deposits", txid=seed.CAROL_ETH_TXID)["deposits"] == []  # another account's
    assert get(bo, ref, "deposits", limit=2)["deposits"] == [usdt, xrp]
    for limit in ("0", "11", "x", "", "-1"):
        assert get(bo, ref, "deposits", 400, limit=limit)["error"]["code"] == "bad_request"


def test_alice_withdrawals(bo):
    ref = ref_of(bo, "alice")
    withdrawals = get(bo, ref, "withdrawals")["withdrawals"]
    assert [(w["id"], w["status"]) for w in withdrawals] == [
        (seed.ALICE_USDT_WITHDRAWAL_ID, "under_review"), (seed.ALICE_ETH_WITHDRAWAL_ID, "sent"),
        (seed.ALICE_SOL_WITHDRAWAL_ID, "rejected")]  # fmt: skip
    review, sent, rejected = withdrawals
    assert (review["amount"], review["coin"], review["network"]) == ("1000.00", "USDT", "TRC20")
    assert (review["review_reason"], review["txid"]) == (seed.UNDER_REVIEW_REASON, None)
    assert (sent["coin"], sent["amount"], sent["txid"], sent["review_reason"]) == (
        "ETH", "0.20", seed.ALICE_ETH_WITHDRAWAL_TXID, None)  # fmt: skip
    assert (rejected["coin"], rejected["amount"], rejected["txid"]) == ("SOL", "50.00", None)
    assert rejected["review_reason"] == seed.SOL_REJECTED_REASON
    assert get(bo, ref, "withdrawals", id=seed.ALICE_ETH_WITHDRAWAL_ID)["withdrawals"] == [sent]
    assert get(bo, ref, "withdrawals", id=seed.CAROL_USDT_WITHDRAWAL_ID)["withdrawals"] == []
    assert get(bo, ref, "withdrawals", limit=1)["withdrawals"] == [review]


def test_bob_is_locked_with_reasons(bo):
    ref = ref_of(bo, "bob")
    account = get(bo, ref, "account")
    assert (account["uid_masked"], account["locked"], account["kyc"]["level"]) == ("20****13", True, 1)
    assert {(r["code"], r["reason"]) for r in account["restrictions"]} == {
        ("security_lock", seed.SECURITY_LOCK_REASON),
        ("withdrawals_paused", seed.WITHDRAWALS_PAUSED_REASON)}  # fmt: skip
    (cancelled,) = get(bo, ref, "withdrawals")["withdrawals"]
    assert (cancelled["id"], cancelled["status"], cancelled["review_reason"]) == (
        seed.BOB_USDT_WITHDRAWAL_ID, "cancelled", seed.BOB_CANCELLED_REASON)  # fmt: skip
    assert get(bo, ref, "deposits")["deposits"] == []


def test_carol_dave_and_erin(bo):
    carol = ref_of(bo, "carol")
    account = get(bo, carol, "account")
    assert (account["kyc"], account["vip_tier"], account["locked"]) == (
        {"level": 3, "status": "verified", "last_rejection_reason": None}, 4, False)  # fmt: skip
    (deposit,) = get(bo, carol, "deposits")["deposits"]
    assert (deposit["id"], deposit["status"], deposit["credited"], deposit["txid"]) == (
        seed.CAROL_ETH_DEPOSIT_ID, "credited", True, seed.CAROL_ETH_TXID)  # fmt: skip
    (withdrawal,) = get(bo, carol, "withdrawals")["withdrawals"]
    assert (withdrawal["id"], withdrawal["status"], withdrawal["txid"]) == (
        seed.CAROL_USDT_WITHDRAWAL_ID, "processing", None)  # fmt: skip

    dave = get(bo, ref_of(bo, "dave"), "account")
    assert dave["kyc"] == {"level": 0, "status": "rejected", "last_rejection_reason": seed.DAVE_REJECTION_REASON}
    assert [(r["code"], r["reason"]) for r in dave["restrictions"]] == [("kyc_required", seed.KYC_REQUIRED_REASON)]
    assert dave["locked"] is False

    erin = ref_of(bo, "erin")
    assert get(bo, erin, "account") == {
        "uid_masked": "51****78", "kyc": {"level": 1, "status": "pending", "last_rejection_reason": None},
        "vip_tier": 0, "locked": False, "restrictions": []}  # fmt: skip
    assert get(bo, erin, "deposits") == {"deposits": []}
    assert get(bo, erin, "withdrawals") == {"withdrawals": []}


def test_freeze_is_idempotent_and_recorded(bo):
    ref = link(bo, "erin")
    path = f"/v1/links/{ref}/actions/freeze"
    asked = {"conversation_id": "telegram:5550001111", "requested_by": "user", "reason": "my phone was stolen"}
    for change in ({"requested_by": "admin"}, {"requested_by": "agent:"}, {"reason": ""}, {"conversation_id": 7}):
        assert bo.api.call("POST", path, 400, json={**asked, **change})["error"]["code"] == "bad_request"
    bo.api.call("POST", path, 400, json={k: v for k, v in asked.items() if k != "reason"})
    bo.api.call("POST", path, 400, data=b"{")
    assert get(bo, ref, "account")["locked"] is False

    first = bo.api.call("POST", path, 200, json=asked)
    assert (first["status"], first["already"]) == ("frozen", False)
    account = get(bo, ref, "account")
    assert account["locked"] is True
    assert [(r["code"], r["since"]) for r in account["restrictions"]] == [("frozen_by_user", first["frozen_at"])]
    again = bo.api.call("POST", path, 200, json={**asked, "requested_by": "agent:maria", "reason": "asked again"})
    assert again == {"status": "frozen", "frozen_at": first["frozen_at"], "already": True}
    assert len(get(bo, ref, "account")["restrictions"]) == 1

    rows = read_db(bo, "SELECT requested_by, conversation_id, reason, outcome, at FROM actions"
                       " WHERE account_ref = ? AND action = 'freeze' ORDER BY id", ref)  # fmt: skip
    assert [row[:4] for row in rows] == [
        ("user", "telegram:5550001111", "my phone was stolen", "frozen"),
        ("agent:maria", "telegram:5550001111", "asked again", "already frozen")]  # fmt: skip
    assert all(isinstance(row[4], int) for row in rows)


def test_unlinking_revokes_the_ref_forever(bo):
    ref = link(bo, "carol")
    events = len(bo.receiver.events)
    bo.api.call("DELETE", f"/v1/links/{ref}", 204)
    for what in ("account", "deposits", "withdrawals"):
        assert get(bo, ref, what, 410)["error"]["code"] == "link_revoked"
    freeze = {"conversation_id": "c", "requested_by": "user", "reason": "r"}
    assert bo.api.call("POST", f"/v1/links/{ref}/actions/freeze", 410, json=freeze)["error"]["code"] == "link_revoked"
    assert bo.api.call("DELETE", f"/v1/links/{ref}", 410)["error"]["code"] == "link_revoked"
    assert len(bo.receiver.events) == events  # the bot asked: nothing to tell it
    unlinks = read_db(bo, "SELECT requested_by FROM actions WHERE account_ref = ? AND action = 'unlink'", ref)
    assert unlinks == [("bot",)]
    for unknown in (secrets.token_urlsafe(24), "nope"):
        assert bo.api.call("DELETE", f"/v1/links/{unknown}", 404)["error"]["code"] == "not_found"
        assert get(bo, unknown, "account", 404)["error"]["code"] == "not_found"
    assert get(bo, ref_of(bo, "carol"), "account")["vip_tier"] == 4  # carol's other link is untouched


def test_the_exchange_removes_a_link_on_the_links_page(bo):
    ref = link(bo, "dave", platform="discord", platform_user_id="998877665544", display_name="Dave D")
    assert 'name="password"' in bo.api.call("GET", "/links", 200, auth=False)
    form = {"username": "dave", "password": seed.DEMO_PASSWORD}
    assert "wrong user name or password" in bo.api.call(
        "POST", "/links", 401, auth=False, data={**form, "password": WRONG_PASSWORD})  # fmt: skip
    listing = bo.api.call("POST", "/links", 200, auth=False, data=form)
    assert "Discord user Dave D, id ending …5544" in listing and f'value="{ref}"' in listing
    assert bo.api.last.headers["X-Frame-Options"] == "DENY"

    alice = ref_of(bo, "alice")
    bo.api.call("POST", "/links", 404, auth=False, data={**form, "account_ref": alice})  # not dave's
    assert get(bo, alice, "account")["uid_masked"] == "10****89"
    bo.api.call("POST", "/links", 401, auth=False, data={**form, "password": WRONG_PASSWORD, "account_ref": ref})
    get(bo, ref, "account")

    page = bo.api.call("POST", "/links", 200, auth=False, data={**form, "account_ref": ref})
    assert "Removed." in page and f'value="{ref}"' not in page
    event = bo.receiver.events[-1]
    assert event["verdict"] == "ok" and event["body"]["event"] == "link.revoked" and event["body"]["account_ref"] == ref
    bo.contract.validator(bo.contract.schema("LinkRevokedEvent")).validate(event["body"])
    assert get(bo, ref, "account", 410)["error"]["code"] == "link_revoked"
    bo.api.call("POST", "/links", 404, auth=False, data={**form, "account_ref": ref})
    assert get(bo, ref_of(bo, "dave"), "account")["kyc"]["status"] == "rejected"  # the other link stays
    no_boundary = {"Content-Type": "multipart/form-data"}
    assert "could not be read" in bo.api.call("POST", "/links", 400, headers=no_boundary, data=b"x")


def test_demo_faults_slow_error_nonsense(bo):
    ref = ref_of(bo, "alice")
    account = bo.contract.follow(bo.contract.schema("Account"))
    try:
        assert bo.api.call("POST", "/demo/faults", 200, json={"mode": "slow", "delay_s": 0.6}) == {
            "mode": "slow", "delay_s": 0.6}  # fmt: skip
        started = time.monotonic()
        get(bo, ref, "account")
        assert time.monotonic() - started >= 0.6
        started = time.monotonic()
        bo.api.call("GET", "/v1/health", 200)
        assert time.monotonic() - started < 0.5  # only /v1/links/... is slowed

        bo.api.call("POST", "/demo/faults", 200, json={"mode": "error"})
        assert bo.api.call("GET", f"/v1/links/{ref}/deposits", 500, check=False).text
        create_request(bo)  # link requests are not affected
        bo.api.call("GET", f"/v1/links/{ref}/account", 401, headers={})  # the token is still checked

        bo.api.call("POST", "/demo/faults", 200, json={"mode": "nonsense"})
        for _ in range(2):
            answer = bo.api.call("GET", f"/v1/links/{ref}/account", 200, check=False)
            assert answer.headers["Content-Type"].startswith("application/json")
            assert not bo.contract.conforms(account, answer.text)

        for body in ({"mode": "broken"}, {"mode": "slow", "delay_s": -1}, {"mode": "slow", "delay_s": 31}, {}):
            assert bo.api.call("POST", "/demo/faults", 400, json=body)["error"]["code"] == "bad_request"
    finally:
        requests.post(bo.server.url + "/demo/faults", json={"mode": "none"}, timeout=5,
                      headers={"Authorization": f"Bearer {bo.token}"})  # fmt: skip
    assert get(bo, ref, "account")["uid_masked"] == "10****89"


def test_missing_secrets_stop_the_server_with_exit_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")}
    token, signing_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    cases = [({"BACKOFFICE_SIGNING_SECRET": signing_secret}, ["BACKOFFICE_TOKEN"]),
             ({"BACKOFFICE_TOKEN": token, "BACKOFFICE_SIGNING_SECRET": ""}, ["BACKOFFICE_SIGNING_SECRET"]),
             ({}, ["BACKOFFICE_TOKEN", "BACKOFFICE_SIGNING_SECRET"])]  # fmt: skip
    for given, missing in cases:
        run = subprocess.run(
            [sys.executable, "-m", "demo_backoffice", "--port", str(free_port()), "--db", str(tmp_path / "x.db")],
            cwd=ROOT, env={**env, **given}, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert run.returncode == 2, run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and run.stdout == "", run.stderr
        assert all(name in lines[0] for name in missing) and "environment" in lines[0]
        assert token not in run.stderr and signing_secret not in run.stderr


def test_the_signature_format():
    from demo_backoffice.events import sign

    body = b'{"event":"link.revoked","account_ref":"x"}'
    mac = hmac.new(b"key", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign(b"key", body, 1700000000) == f"t=1700000000, v1={mac}"
    header = CONTRACT["paths"]["/v1/link-requests"]["post"]["callbacks"]["linkEvents"]
    (callback,) = header.values()
    pattern = callback["post"]["parameters"][0]["schema"]["pattern"]
    assert re.match(pattern, sign(b"key", body, 1700000000))


def test_the_contract_and_its_examples(bo):
    assert (CONTRACT["openapi"], CONTRACT["info"]["version"]) == ("3.0.3", "1.0.0")
    api_paths = [p for p in CONTRACT["paths"] if p.startswith("/v1")]
    assert len(api_paths) == 8
    assert all(CONTRACT["paths"][p].get("x-demo-only") for p in CONTRACT["paths"] if p.startswith("/demo"))
    checked = 0

    def walk(node):
        nonlocal checked
        if isinstance(node, dict):
            if "schema" in node and "example" in node and isinstance(node["schema"], dict):
                bo.contract.validator(node["schema"]).validate(node["example"])
                checked += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(CONTRACT["paths"])
    for name, schema in CONTRACT["components"]["schemas"].items():
        if "example" in schema:
            bo.contract.validator(bo.contract.schema(name)).validate(schema["example"])
            checked += 1
    assert checked >= 12


# The last two look back over everything the tests above did.


def test_no_answer_carries_a_full_uid_or_an_email(bo):
    said = bo.api.bodies + [event["raw"].decode() for event in bo.receiver.events]
    assert len(said) > 100
    for text in said:
        assert not any(uid in text for uid in UIDS), text[:300]
        assert "@example.com" not in text


def test_the_log_holds_no_secret_and_no_query_string(bo):
    log = bo.server.logs()
    assert bo.token not in log and bo.signing_secret not in log
    assert WRONG_PASSWORD not in log and "password" not in log.lower()
    # Link request ids and account_refs are capabilities: the log names routes, not them.
    assert not [c for c in bo.capabilities if c in log]
    assert seed.ALICE_USDT_TXID not in log and "?" not in log
    requests_logged = [line for line in log.splitlines() if re.search(r" (GET|POST|DELETE|HEAD) ", line)]
    assert len(requests_logged) > 100
    for line in requests_logged:
        assert re.search(r"INFO demo_backoffice: (GET|POST|DELETE) (/\S*|\(no route\)) \d{3} [0-9.]+ms$", line), line
    assert "POST /link/{request_id} 502" in log and "link.confirmed to the bot: NOT delivered" in log
