"""The agents' web console at /console: plain HTML, CSS and JS modules from `console_static/`,
no build step. It talks only to the agent API; the token stays in the browser tab's sessionStorage.

A strict Content-Security-Policy: scripts and styles from this origin only (no inline code),
no framing, and connections only back to this origin; images also from `blob:` (users' files,
fetched with the token, are shown through object URLs). The scripts are ES modules, which a
browser runs only when they come with a JavaScript content type: each asset's type is set
here from its suffix, not left to the host's MIME table."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).with_name("console_static")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# The files served under /console/static/, by name: a request names one of these or gets a 404
# (no listing, no subfolders, no way out of the folder). Read once, at start.
ASSETS = {path.name: path for path in STATIC.iterdir() if path.suffix in CONTENT_TYPES}


async def console_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers=HEADERS)


async def console_asset(request: web.Request) -> web.FileResponse:
    """One script module or stylesheet; revalidated on each load, so a page never mixes old
    and new modules after an upgrade."""
    path = ASSETS.get(request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound()
    headers = {"Content-Type": CONTENT_TYPES[path.suffix], "X-Content-Type-Options": "nosniff",
               "Cache-Control": "no-cache"}  # fmt: skip
    return web.FileResponse(path, headers=headers)


def routes() -> list[web.AbstractRouteDef]:
    return [web.get("/console", console_page), web.get("/console/static/{name}", console_asset)]
