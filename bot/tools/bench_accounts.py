"""`make bench`: what an answer from the user's own account adds (issue 18). The demo back office
runs as a process; a web chat user is linked through its real link flow (its signed event goes to
a receiver in this process); then `Accounts.personalize`, the step that reads the account and
writes the audit entry, is timed on answers about deposits (the latest, and one by txid),
withdrawals, a lock and verification: the time each answer gains, one at a time, p50 and p99."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
import urllib.request

from aiohttp import web
from redis.asyncio import Redis

from bot.config import ROOT, Config
from bot.domain.messages import Action, Decision, InboundMessage
from bot.services.accounts import Accounts
from bot.services.backoffice_client import BackOfficeClient
from bot.services.replies import Replies, answering
from bot.stores.holder import Stores
from demo_backoffice.seed import ALICE_USDT_TXID
from demo_backoffice.sign_in import sign_in_on_link_page

ASKED = (("deposit_missing", "where is my deposit?"), ("deposit_missing", "txid {txid} not credited"),
         ("withdrawal_pending", "my withdrawal is pending"), ("account_locked", "is my account locked?"),
         ("kyc_verification", "is my kyc done?"))  # fmt: skip


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _linked_ref(office_url: str, token: str, events_port: int) -> str:
    """Link a user to the demo's alice through the sign-in page; the account_ref confirmed."""
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()

    async def events(request: web.Request) -> web.Response:
        body = await request.json()
        if not confirmed.done():
            confirmed.set_result(body["account_ref"])
        return web.json_response({"ok": True})

    app = web.Application()
    app.add_routes([web.post("/backoffice/v1/events", events)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", events_port).start()
    try:
        client = BackOfficeClient(office_url, token)
        made = await client.link_request("webchat", "bench-user", "bench", 600)
        await client.close()
        await asyncio.to_thread(sign_in_on_link_page, made["url"], "alice")
        return await asyncio.wait_for(confirmed, 10)
    finally:
        await runner.cleanup()


async def _timed(config: Config, texts: object, redis_url: str, office_url: str, token: str, ref: str,
                 count: int) -> list[float]:  # fmt: skip
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    stores = await Stores.open(redis, config.languages)
    await stores.links.requested("bench", "webchat", "bench-user", "bench-user", "c-bench", 600)
    await stores.links.confirm("bench", "webchat", "bench-user", ref, secrets.token_hex(8), 3600)
    client = BackOfficeClient(office_url, token, config.backoffice.timeout_seconds)
    accounts = Accounts(config, texts, stores, Replies(texts, stores.outbox, stores.conversations), client)
    took = []
    try:
        for n in range(count + 20):
            intent, text = ASKED[n % len(ASKED)]
            message = InboundMessage("webchat", "bench-user", "private", "bench-user",
                                     text.format(txid=ALICE_USDT_TXID))
            decision = Decision("en", "en", intent, 0.95, Action.ANSWER, None, answering(message, "The guidance."), "")
            began = time.perf_counter()
            answered = await accounts.personalize(message, "c-bench", decision)
            if n >= 20:  # the first few open the connection
                took.append((time.perf_counter() - began) * 1000)
            assert answered.reply.text != decision.reply.text, "the account's lines were added"
    finally:
        await client.close()
        await redis.flushdb()
        await redis.close()
    return took


def lookup_bench(config: Config, texts: object, redis_url: str, count: int = 500) -> dict:
    """p50/p99 of what reading the account adds to an answer, against the demo back office."""
    token, port, events_port = secrets.token_urlsafe(24), _port(), _port()
    env = {**os.environ, "BACKOFFICE_TOKEN": token, "BACKOFFICE_SIGNING_SECRET": secrets.token_urlsafe(24)}
    office = subprocess.Popen([sys.executable, "-m", "demo_backoffice", "--port", str(port), "--bot-url",
                               f"http://127.0.0.1:{events_port}"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/v1/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        ref = asyncio.run(_linked_ref(url, token, events_port))
        took = sorted(asyncio.run(_timed(config, texts, redis_url, url, token, ref, count)))
    finally:
        office.terminate()
        office.wait(timeout=10)
    return {"lookups": len(took), "p50_ms": round(took[len(took) // 2], 2),
            "p99_ms": round(took[int(len(took) * 0.99) - 1], 2)}  # fmt: skip
