"""The demo back office's process: arguments, secrets, logging, middlewares and the app.

    BACKOFFICE_TOKEN=... BACKOFFICE_SIGNING_SECRET=... \\
        python -m demo_backoffice --port 8090 --db PATH --bot-url http://127.0.0.1:8080

Secrets come only from the environment, never from arguments (which `ps` shows to everyone),
and are never logged. One log line per request: method, route template, status, time. The
template (`/link/{request_id}`) rather than the path, because a link request id is a
capability (whoever holds it gets the sign-in page) and an account_ref names a user's link;
no query string either, since a txid in it says which deposit a user asked about.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Mapping

import aiohttp
from aiohttp import web

from demo_backoffice import api, db, demo, pages, seed
from demo_backoffice.common import STATE, Clock, Handler, State, api_error

log = logging.getLogger("demo_backoffice")

SECRETS = {
    "BACKOFFICE_TOKEN": "the bearer token the bot sends",
    "BACKOFFICE_SIGNING_SECRET": "the HMAC key that signs callbacks to the bot",
}
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # aiohttp would name itself and its version.
    "Server": "demo-backoffice",
}
_CODES = {401: "unauthorized", 404: "not_found", 410: "link_revoked"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (no secrets on it: those are read from the environment)."""
    parser = argparse.ArgumentParser(prog="python -m demo_backoffice", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--db", default=":memory:", help="SQLite file (seeded with the demo accounts when empty)")
    parser.add_argument("--bot-url", default="http://127.0.0.1:8080", help="where the bot takes events")
    parser.add_argument("--public-url", help="base of the link page URLs (default http://127.0.0.1:<port>)")
    return parser.parse_args(argv)


def read_secrets(environ: Mapping[str, str]) -> tuple[bytes, bytes] | str:
    """(token, signing secret) from the environment, or the one-line error naming what is missing."""
    missing = [name for name in SECRETS if not environ.get(name)]
    if missing:
        wanted = "; ".join(f"{name} ({SECRETS[name]})" for name in missing)
        return f"demo_backoffice: not started: set {wanted} in the environment"
    return environ["BACKOFFICE_TOKEN"].encode(), environ["BACKOFFICE_SIGNING_SECRET"].encode()


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One line per request: method, route template, status, milliseconds."""
    started, status = time.monotonic(), 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        log.info("%s %s %d %.1fms", request.method, _route(request), status, (time.monotonic() - started) * 1000)


def _is_api(path: str) -> bool:
    return path.startswith(("/v1/", "/demo/"))


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """On /v1 and /demo, aiohttp's own errors (no route, wrong method, body too large) in the
    contract's JSON form too."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if not _is_api(request.path) or exc.content_type == "application/json" or exc.status < 400:
            raise
        body = {"error": {"code": _CODES.get(exc.status, "bad_request"), "message": exc.reason.lower()}}
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return web.json_response(body, status=exc.status, headers=headers)


@web.middleware
async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    """/v1 (except /v1/health) and /demo need `Authorization: Bearer <BACKOFFICE_TOKEN>`."""
    if _is_api(request.path) and request.path != "/v1/health":
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        # compare_digest: the time taken does not tell how much of a guess was right.
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), request.app[STATE].token):
            raise api_error(401, "unauthorized", "a valid bearer token is required")
    return await handler(request)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(PAGE_HEADERS)


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    # One client session for the callbacks, made inside the running loop as aiohttp requires.
    state = app[STATE]
    state.http = aiohttp.ClientSession()
    yield
    await state.http.close()


def build_app(state: State) -> web.Application:
    """The aiohttp application: /v1 API, the pages, the demo switches."""
    app = web.Application(
        middlewares=[access_log, json_errors, require_token, demo.faults_middleware], client_max_size=64 * 1024
    )
    app[STATE] = state
    api.add_routes(app)
    pages.add_routes(app)
    demo.add_routes(app)
    app.on_response_prepare.append(_security_headers)
    app.cleanup_ctx.append(_http_client)
    return app


def main(argv: list[str] | None = None) -> int:
    """Start the server; 2 when a secret is missing from the environment."""
    args = parse_args(argv)
    found = read_secrets(os.environ)
    if isinstance(found, str):
        print(found, file=sys.stderr)
        return 2
    token, signing_secret = found
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    conn = db.connect(args.db)
    clock = Clock()
    seeded = db.is_empty(conn)
    if seeded:
        seed.seed(conn, clock.now())
    state = State(
        db=conn,
        token=token,
        signing_secret=signing_secret,
        public_url=(args.public_url or f"http://127.0.0.1:{args.port}").rstrip("/"),
        bot_url=args.bot_url.rstrip("/"),
        clock=clock,
    )
    log.info(
        "demo back office on http://%s:%d, database %s (%s), events to %s%s",
        args.host, args.port, args.db, "seeded with the demo accounts" if seeded else "as found",
        state.bot_url, "/backoffice/v1/events",
    )  # fmt: skip
    web.run_app(build_app(state), host=args.host, port=args.port, access_log=None, print=None)
    return 0
