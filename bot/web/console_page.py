"""The agents' web console at /console: plain HTML, CSS and JS from `console_static/`, no build
step. It talks only to the agent API; the token stays in the browser tab's sessionStorage.

A strict Content-Security-Policy: scripts and styles from this origin only (no inline code),
no framing, and connections only back to this origin."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).with_name("console_static")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


async def console_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers=HEADERS)


def routes() -> list[web.AbstractRouteDef]:
    return [web.get("/console", console_page), web.static("/console/static", STATIC)]
