"""The JSON errors of the bot's HTTP APIs (the agent API and the web chat's): one shape,
`{"error": <code>, "message": <a sentence for people>, ...}`, and the one way a JSON body is
parsed (`parse_json_body`)."""

from __future__ import annotations

import json

from aiohttp import web


def json_error(status: int, code: str, message: str, **extra: object) -> web.Response:
    """A clear JSON error: a machine-readable code and a sentence for people."""
    body = {"error": code, "message": message, **extra}
    return web.json_response(body, status=status)


class ApiError(Exception):
    """A refusal the agent API answers with `json_error`: raised wherever a handler finds it
    (a missing conversation, a bad body, the wrong role), answered by the API's middleware."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}  # e.g. Retry-After with a 429

    def response(self) -> web.Response:
        response = json_error(self.status, self.code, self.message)
        response.headers.update(self.headers)
        return response


def parse_json_body(raw: bytes) -> object:
    """`raw` as JSON, or an `ApiError` 400 `bad_json`: not UTF-8, not JSON, nested deeper than
    the parser recurses (`[` x 30,000 raises RecursionError, not a JSON error), or a number too
    long to convert (a ValueError of its own)."""
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ApiError(400, "bad_json", "the body is nested too deeply") from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, an integer of 4,300+ digits
        raise ApiError(400, "bad_json", "the body is not valid JSON") from None
