"""The OpenAPI document of the agent API and the web chat API, served at /api/openapi.json."""

from __future__ import annotations

_ERROR = {"$ref": "#/components/schemas/Error"}


def _op(summary: str, responses: dict, body: dict | None = None, params: list | None = None,
        auth: bool = True) -> dict:  # fmt: skip
    op: dict = {"summary": summary, "responses": {
        code: {"description": text, **({"content": {"application/json": {"schema": schema}}} if schema else {})}
        for code, (text, schema) in responses.items()
    }}  # fmt: skip
    if auth:
        op["responses"]["401"] = {"description": "no valid token", "content": {"application/json": {"schema": _ERROR}}}
        op["responses"]["429"] = {"description": "too many refused tokens from this address (see Retry-After)",
                                  "content": {"application/json": {"schema": _ERROR}}}  # fmt: skip
    else:
        op["security"] = []
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
_NAME = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
_TITLE = [{"name": "title", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 80}}]
_CONV = {"$ref": "#/components/schemas/Conversation"}
_OBJ = {"type": "object"}

# A web chat session id: issued by POST /api/webchat/sessions; any other is answered 404.
_SESSION = {"name": "session", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}  # fmt: skip
_UNKNOWN = ("not a session this server issued", _ERROR)
_NOT_JSON = ("the body is not declared application/json", _ERROR)
_USER = [{"name": "platform", "in": "path", "required": True, "schema": {"type": "string", "example": "webchat"}},
         {"name": "user_id", "in": "path", "required": True, "schema": {"type": "string"}}]  # fmt: skip
_AUDIT_QUERY = [{"name": name, "in": "query", "schema": {"type": "string"}}
                for name in ("actor", "action", "object", "user", "since", "until")]  # fmt: skip
OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "supportbot agent API", "version": "0.1.0"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
            },
            "Conversation": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "platform": {"type": "string"},
                    "language": {"type": "string"},
                    "state": {"type": "string", "enum": ["bot", "queued", "assigned", "resolved"]},
                    "ticket": {"type": "string", "nullable": True},
                    "agent": {"type": "string", "nullable": True},
                    "transcript": {"type": "array", "items": _OBJ},
                },
            },
        },
    },  # fmt: skip
    "security": [{"bearer": []}],
    "paths": {
        "/api/me": {"get": _op("the signed-in agent", {"200": ("the agent", _OBJ)})},
        "/api/queue": {"get": _op("waiting conversations, most urgent first", {"200": ("the queue", _OBJ)})},
        "/api/queue/claim": {
            "post": _op(
                "claim the next conversation, or the one named by `conversation`",
                {"200": ("the claimed conversation", _CONV), "204": ("nothing waits", None),
                 "404": ("no such conversation waiting in your languages", _ERROR),
                 "409": ("someone else claimed it first", _ERROR)},
                body={"type": "object", "properties": {"languages": {"type": "array", "items": {"type": "string"}},
                                                       "conversation": {"type": "string"}}},
            )
        },
        "/api/conversations/{id}": {
            "get": _op(
                "a conversation with its transcript",
                {"200": ("the conversation", _CONV), "404": ("not yours", _ERROR)},
                params=_ID,
            )
        },
        "/api/conversations/{id}/account": {
            "get": _op(
                "the user's exchange account card (read from the back office; recorded in the audit trail)",
                {"200": ("{linked: false}, {linked: true, available: false}, or the card", _OBJ),
                 "404": ("not yours", _ERROR)},
                params=_ID,
            )
        },
        "/api/conversations/{id}/account/freeze": {
            "post": _op(
                "freeze the user's account at the exchange (recorded in the audit trail and the transcript)",
                {"200": ("{frozen: true, already}", _OBJ), "404": ("not yours", _ERROR),
                 "409": ("no linked account", _ERROR), "503": ("the back office cannot do it now", _ERROR)},
                body={"type": "object", "properties": {"reason": {"type": "string"}}},
                params=_ID,
            )
        },
        "/api/conversations/{id}/reply": {
            "post": _op(
                "reply to the user",
                {
                    "202": ("queued for delivery", _OBJ),
                    "404": ("not yours", _ERROR),
                    "409": ("not assigned to you", _ERROR),
                },
                body={"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
                params=_ID,
            )
        },
        "/api/conversations/{id}/notes": {
            "post": _op(
                "an internal note for agents, never sent to the user; `@name` mentions an agent, who may then read "
                "the conversation",
                {"201": ("the note as stored (secrets redacted) and whom it mentioned", _OBJ),
                 "400": ("no text, or hidden control characters", _ERROR), "404": ("not yours", _ERROR),
                 "413": ("longer than 4000 characters", _ERROR)},
                body={"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
                params=_ID,
            )
        },
        "/api/conversations/{id}/resolve": {
            "post": _op("resolve", {"200": ("resolved", _CONV), "409": ("state", _ERROR)}, params=_ID)
        },
        "/api/conversations/{id}/release": {
            "post": _op("hand back to the bot", {"200": ("released", _CONV)}, params=_ID)
        },
        "/api/conversations/{id}/transfer": {
            "post": _op(
                "transfer to an agent or back to the queue",
                {"200": ("transferred", _CONV), "409": ("state", _ERROR)},
                body={"type": "object", "properties": {"agent": {"type": "string"}, "queue": {"type": "boolean"}}},
                params=_ID,
            )
        },
        "/api/events": {"get": _op("server-sent events", {"200": ("text/event-stream", None)})},
        "/api/canned": {
            "get": _op(
                "the team's canned answers in a language, and the agent's own private ones in `mine`",
                {"200": ("canned answers", _OBJ), "400": ("unknown language", _ERROR)},
                params=[{"name": "language", "in": "query", "schema": {"type": "string"}}],
            )
        },
        "/api/canned/mine": {
            "get": _op("the agent's private canned answers (no one else sees them)", {"200": ("{mine}", _OBJ)})
        },
        "/api/canned/mine/{title}": {
            "put": _op(
                "add one of the agent's private canned answers, or change its text (at most 100)",
                {"200": ("{title, text}", _OBJ), "400": ("bad title or text, or 100 already", _ERROR)},
                body={"type": "object", "required": ["text"], "properties": {
                    "text": {"type": "string", "maxLength": 2000}}},
                params=_TITLE,
            ),
            "delete": _op(
                "delete one of the agent's private canned answers",
                {"200": ("deleted", _OBJ), "404": ("none by that title", _ERROR)},
                params=_TITLE,
            ),
        },
        "/api/agents": {
            "get": _op("agents and their load (leads)", {"200": ("agents", _OBJ), "403": ("not a lead", _ERROR)})
        },
        "/api/agents/{name}/revoke": {
            "post": _op("stop an agent's token from working (leads)",
                        {"200": ("revoked", _OBJ), "403": ("not a lead", _ERROR),
                         "404": ("no such agent holding a token", _ERROR)}, params=_NAME)  # fmt: skip
        },
        "/api/agents/{name}/rotate": {
            "post": _op(
                "a new token for an agent, shown only in this answer; the old one stops working (leads)",
                {"200": ("the new token and when it expires", _OBJ), "400": ("bad expiry", _ERROR),
                 "403": ("not a lead", _ERROR), "404": ("no such agent", _ERROR)},
                body={"type": "object", "properties": {
                    "expires_in_days": {"type": "number", "minimum": 0, "maximum": 3650}}},
                params=_NAME,
            )
        },
        "/api/incidents": {
            "get": _op("active incidents and suggested ones", {"200": ("incidents", _OBJ)}),
            "post": _op(
                "declare an incident (leads)",
                {"201": ("the incident", _OBJ), "400": ("bad input", _ERROR), "403": ("not a lead", _ERROR)},
                body={"type": "object", "required": ["intents", "status"], "properties": {
                    "intents": {"type": "array", "items": {"type": "string"}},
                    "status": {"type": "object", "additionalProperties": {"type": "string"}},
                    "expires_in_minutes": {"type": "number"}}},
            ),
        },
        "/api/incidents/{id}": {
            "delete": _op(
                "resolve an incident; the grouped users hear the final message (leads)",
                {"200": ("resolved", _OBJ), "403": ("not a lead", _ERROR), "404": ("no such incident", _ERROR)},
                body={"type": "object", "properties": {
                    "final": {"type": "object", "additionalProperties": {"type": "string"}}}},
                params=_ID,
            )
        },
        "/api/reports": {
            "get": _op(
                "deflection, hand-offs, response times, SLA, CSAT, top intents by language and platform (leads)",
                {"200": ("the report", _OBJ), "400": ("bad period", _ERROR), "403": ("not a lead", _ERROR)},
                params=[{"name": "since", "in": "query", "schema": {"type": "string", "example": "7d"}}],
            )
        },
        "/api/feedback-items": {
            "get": _op("suggestions and bug reports users filed (leads)",
                       {"200": ("items, newest first", _OBJ), "403": ("not a lead", _ERROR)})
        },
        "/api/impostors": {
            "get": _op("new members whose names imitate staff (leads)",
                       {"200": ("reports, newest first", _OBJ), "403": ("not a lead", _ERROR)})
        },
        "/api/phishing-reports": {
            "get": _op("reported scam links and handles (leads)",
                       {"200": ("reports, newest first", _OBJ), "403": ("not a lead", _ERROR)})
        },
        "/api/audit": {
            "get": _op(
                "the audit trail, newest first, a page; next_cursor continues it (leads)",
                {"200": ("entries and next_cursor", _OBJ), "400": ("bad filter", _ERROR),
                 "403": ("not a lead", _ERROR)},
                params=_AUDIT_QUERY + [{"name": "limit", "in": "query", "schema": {"type": "integer"}},
                                       {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
            )
        },
        "/api/audit/export": {
            "get": _op(
                "the audit trail, oldest first, as JSON lines (leads)",
                {"200": ("application/x-ndjson", None), "400": ("bad filter", _ERROR), "403": ("not a lead", _ERROR)},
                params=_AUDIT_QUERY,
            )
        },
        "/api/users/{platform}/{user_id}/export": {
            "get": _op(
                "everything kept about a platform user, as one document (leads)",
                {"200": ("the user's data", _OBJ), "400": ("bad user", _ERROR), "403": ("not a lead", _ERROR)},
                params=_USER,
            )
        },
        "/api/users/{platform}/{user_id}/erase": {
            "post": _op(
                "erase a platform user's data everywhere; reports keep anonymous counts (leads)",
                {"200": ("what was erased", _OBJ), "400": ("not confirmed", _ERROR), "403": ("not a lead", _ERROR)},
                body={"type": "object", "required": ["confirm"], "properties": {
                    "confirm": {"type": "string", "description": "<platform>:<user_id> again"}}},
                params=_USER,
            )
        },
        "/api/webchat/sessions": {
            "post": _op("a new web chat session", {"201": ("{session}", _OBJ), "415": _NOT_JSON},
                        body=_OBJ, auth=False)  # fmt: skip
        },
        "/api/webchat/{session}/messages": {
            "post": _op(
                "a web chat user's message",
                {"200": ("the bot's replies", _OBJ), "400": ("bad input", _ERROR), "404": _UNKNOWN,
                 "415": _NOT_JSON},  # fmt: skip
                body={"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
                params=[_SESSION],
                auth=False,
            ),
            "get": _op(
                "what came later (an agent's reply); with wait, a long poll",
                {"200": ("messages after the cursor", _OBJ), "404": _UNKNOWN,
                 "409": ("a newer poll of the session replaced this one", _ERROR),
                 "429": ("the address holds too many open polls", _ERROR)},  # fmt: skip
                params=[
                    _SESSION,
                    {"name": "after", "in": "query", "schema": {"type": "string"}},
                    {"name": "wait", "in": "query", "schema": {"type": "number", "maximum": 25}},
                ],
                auth=False,
            ),
        },
        "/api/webchat/{session}/press": {
            "post": _op(
                "a web chat user pressed a button under a reply",
                {"202": ("recorded; what follows comes by GET", _OBJ), "400": ("bad action", _ERROR),
                 "404": _UNKNOWN, "415": _NOT_JSON},  # fmt: skip
                body={"type": "object", "required": ["action"], "properties": {"action": {"type": "string"}}},
                params=[_SESSION],
                auth=False,
            )
        },
    },
}
