"""The JSON errors of the bot's HTTP APIs (the agent API and the web chat's): one shape,
`{"error": <code>, "message": <a sentence for people>, ...}`."""

from __future__ import annotations

from aiohttp import web


def json_error(status: int, code: str, message: str, **extra: object) -> web.Response:
    """A clear JSON error: a machine-readable code and a sentence for people."""
    body = {"error": code, "message": message, **extra}
    return web.json_response(body, status=status)


class ApiError(Exception):
    """A refusal the agent API answers with `json_error`: raised wherever a handler finds it
    (a missing conversation, a bad body, the wrong role), answered by the API's middleware."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        return json_error(self.status, self.code, self.message)
