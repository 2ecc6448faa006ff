"""Headers every response carries, set just before it is sent (`on_response_prepare`, which
also reaches streamed responses such as the event stream and aiohttp's own 404s).

- `Server: supportbot`: aiohttp would name itself and its version, a gift to whoever looks for
  servers with a known hole.
- On /api/: `X-Content-Type-Options: nosniff` (a browser must not read JSON as a page or a
  script) and `Cache-Control: no-store` (transcripts and tokens are kept by no cache); a route
  may set a stricter one that still says no-store (a user's file: `private, no-store`).
"""

from __future__ import annotations

from aiohttp import web, web_response

SERVER_NAME = "supportbot"
API_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


async def set_response_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The app's `on_response_prepare` signal handler."""
    response.headers["Server"] = SERVER_NAME
    if request.path.startswith("/api/"):
        kept = response.headers.get("Cache-Control", "")
        response.headers.update(API_HEADERS)
        if "no-store" in kept:
            response.headers["Cache-Control"] = kept


def install_response_headers(app: web.Application) -> None:
    """Every response of `app` gets the headers above."""
    app.on_response_prepare.append(set_response_headers)
    # aiohttp answers a request it cannot parse (400) without routing it, so without the signal;
    # that answer's Server header is this module-level default (checked by tests/test_api_hardening.py).
    web_response.SERVER_SOFTWARE = SERVER_NAME
