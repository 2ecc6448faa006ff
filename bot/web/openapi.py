"""The OpenAPI document of the agent API and the web chat API, served at /api/openapi.json
(the agents' day, issue 19: `openapi_agents_day.py`; users' files, issue 20: `openapi_files.py`)."""

from __future__ import annotations

from bot.web.openapi_agents_day import AGENTS_DAY_PATHS
from bot.web.openapi_files import FILE_PATHS
from bot.web.openapi_parts import CONV, ERROR, ID, NAME, OBJ, op

# A web chat session id: issued by POST /api/webchat/sessions; any other is answered 404.
_SESSION = {"name": "session", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}  # fmt: skip
_UNKNOWN = ("not a session this server issued", ERROR)
_NOT_JSON = ("the body is not declared application/json", ERROR)
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
                    "transcript": {"type": "array", "items": OBJ},
                    "files": {"type": "array", "items": OBJ,
                              "description": "the conversation's files (users' and agents'): id, name, media_type"},
                },
            },
        },
    },  # fmt: skip
    "security": [{"bearer": []}],
    "paths": {
        "/api/me": {"get": op("the signed-in agent", {"200": ("the agent", OBJ)})},
        "/api/queue": {"get": op("waiting conversations, most urgent first", {"200": ("the queue", OBJ)})},
        "/api/queue/claim": {
            "post": op(
                "claim the next conversation, or the one named by `conversation`",
                {"200": ("the claimed conversation", CONV), "204": ("nothing waits", None),
                 "404": ("no such conversation waiting in your languages", ERROR),
                 "409": ("someone else claimed it first, or you are at your maximum (at_capacity)", ERROR)},
                body={"type": "object", "properties": {"languages": {"type": "array", "items": {"type": "string"}},
                                                       "conversation": {"type": "string"}}},
            )
        },
        "/api/conversations/{id}": {
            "get": op(
                "a conversation with its transcript",
                {"200": ("the conversation", CONV), "404": ("not yours", ERROR)},
                params=ID,
            )
        },
        "/api/conversations/{id}/account": {
            "get": op(
                "the user's exchange account card (read from the back office; recorded in the audit trail)",
                {"200": ("{linked: false}, {linked: true, available: false}, or the card", OBJ),
                 "404": ("not yours", ERROR)},
                params=ID,
            )
        },
        "/api/conversations/{id}/account/freeze": {
            "post": op(
                "freeze the user's account at the exchange (recorded in the audit trail and the transcript)",
                {"200": ("{frozen: true, already}", OBJ), "404": ("not yours", ERROR),
                 "409": ("no linked account", ERROR), "503": ("the back office cannot do it now", ERROR)},
                body={"type": "object", "properties": {"reason": {"type": "string"}}},
                params=ID,
            )
        },
        "/api/conversations/{id}/reply": {
            "post": op(
                "reply to the user",
                {
                    "202": ("queued for delivery", OBJ),
                    "400": ("no text and no files, or a file not uploaded to this conversation", ERROR),
                    "404": ("not yours", ERROR),
                    "409": ("not assigned to you", ERROR),
                },
                body={"type": "object", "required": ["text"], "properties": {
                    "text": {"type": "string", "description": "may be empty when files are attached"},
                    "files": {"type": "array", "maxItems": 5, "items": {"type": "string"},
                              "description": "ids from POST /api/conversations/{id}/files"}}},
                params=ID,
            )
        },
        **AGENTS_DAY_PATHS,
        **FILE_PATHS,
        "/api/conversations/{id}/resolve": {
            "post": op("resolve", {"200": ("resolved", CONV), "409": ("state", ERROR)}, params=ID)
        },
        "/api/conversations/{id}/release": {
            "post": op("hand back to the bot", {"200": ("released", CONV)}, params=ID)
        },
        "/api/conversations/{id}/transfer": {
            "post": op(
                "transfer to an agent or back to the queue",
                {"200": ("transferred", CONV), "409": ("state", ERROR)},
                body={"type": "object", "properties": {"agent": {"type": "string"}, "queue": {"type": "boolean"}}},
                params=ID,
            )
        },
        "/api/events": {"get": op("server-sent events", {"200": ("text/event-stream", None)})},
        "/api/agents": {
            "get": op("agents and their load (leads)", {"200": ("agents", OBJ), "403": ("not a lead", ERROR)})
        },
        "/api/agents/{name}/revoke": {
            "post": op("stop an agent's token from working (leads)",
                        {"200": ("revoked", OBJ), "403": ("not a lead", ERROR),
                         "404": ("no such agent holding a token", ERROR)}, params=NAME)  # fmt: skip
        },
        "/api/agents/{name}/rotate": {
            "post": op(
                "a new token for an agent, shown only in this answer; the old one stops working (leads)",
                {"200": ("the new token and when it expires", OBJ), "400": ("bad expiry", ERROR),
                 "403": ("not a lead", ERROR), "404": ("no such agent", ERROR)},
                body={"type": "object", "properties": {
                    "expires_in_days": {"type": "number", "minimum": 0, "maximum": 3650}}},
                params=NAME,
            )
        },
        "/api/incidents": {
            "get": op("active incidents and suggested ones", {"200": ("incidents", OBJ)}),
            "post": op(
                "declare an incident (leads)",
                {"201": ("the incident", OBJ), "400": ("bad input", ERROR), "403": ("not a lead", ERROR)},
                body={"type": "object", "required": ["intents", "status"], "properties": {
                    "intents": {"type": "array", "items": {"type": "string"}},
                    "status": {"type": "object", "additionalProperties": {"type": "string"}},
                    "expires_in_minutes": {"type": "number"}}},
            ),
        },
        "/api/incidents/{id}": {
            "delete": op(
                "resolve an incident; the grouped users hear the final message (leads)",
                {"200": ("resolved", OBJ), "403": ("not a lead", ERROR), "404": ("no such incident", ERROR)},
                body={"type": "object", "properties": {
                    "final": {"type": "object", "additionalProperties": {"type": "string"}}}},
                params=ID,
            )
        },
        "/api/reports": {
            "get": op(
                "deflection, hand-offs, response times, SLA, CSAT, top intents by language and platform (leads)",
                {"200": ("the report", OBJ), "400": ("bad period", ERROR), "403": ("not a lead", ERROR)},
                params=[{"name": "since", "in": "query", "schema": {"type": "string", "example": "7d"}}],
            )
        },
        "/api/feedback-items": {
            "get": op("suggestions and bug reports users filed (leads)",
                       {"200": ("items, newest first", OBJ), "403": ("not a lead", ERROR)})
        },
        "/api/impostors": {
            "get": op("new members whose names imitate staff (leads)",
                       {"200": ("reports, newest first", OBJ), "403": ("not a lead", ERROR)})
        },
        "/api/phishing-reports": {
            "get": op("reported scam links and handles (leads)",
                       {"200": ("reports, newest first", OBJ), "403": ("not a lead", ERROR)})
        },
        "/api/audit": {
            "get": op(
                "the audit trail, newest first, a page; next_cursor continues it (leads)",
                {"200": ("entries and next_cursor", OBJ), "400": ("bad filter", ERROR),
                 "403": ("not a lead", ERROR)},
                params=_AUDIT_QUERY + [{"name": "limit", "in": "query", "schema": {"type": "integer"}},
                                       {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
            )
        },
        "/api/audit/export": {
            "get": op(
                "the audit trail, oldest first, as JSON lines (leads)",
                {"200": ("application/x-ndjson", None), "400": ("bad filter", ERROR), "403": ("not a lead", ERROR)},
                params=_AUDIT_QUERY,
            )
        },
        "/api/users/{platform}/{user_id}/export": {
            "get": op(
                "everything kept about a platform user, as one document (leads)",
                {"200": ("the user's data", OBJ), "400": ("bad user", ERROR), "403": ("not a lead", ERROR)},
                params=_USER,
            )
        },
        "/api/users/{platform}/{user_id}/erase": {
            "post": op(
                "erase a platform user's data everywhere; reports keep anonymous counts (leads)",
                {"200": ("what was erased", OBJ), "400": ("not confirmed", ERROR), "403": ("not a lead", ERROR)},
                body={"type": "object", "required": ["confirm"], "properties": {
                    "confirm": {"type": "string", "description": "<platform>:<user_id> again"}}},
                params=_USER,
            )
        },
        "/api/webchat/sessions": {
            "post": op("a new web chat session", {"201": ("{session}", OBJ), "415": _NOT_JSON},
                        body=OBJ, auth=False)  # fmt: skip
        },
        "/api/webchat/{session}/messages": {
            "post": op(
                "a web chat user's message",
                {"200": ("the bot's replies", OBJ), "400": ("bad input", ERROR), "404": _UNKNOWN,
                 "415": _NOT_JSON},  # fmt: skip
                body={"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
                params=[_SESSION],
                auth=False,
            ),
            "get": op(
                "what came later (an agent's reply); with wait, a long poll",
                {"200": ("messages after the cursor", OBJ), "404": _UNKNOWN,
                 "409": ("a newer poll of the session replaced this one", ERROR),
                 "429": ("the address holds too many open polls", ERROR)},  # fmt: skip
                params=[
                    _SESSION,
                    {"name": "after", "in": "query", "schema": {"type": "string"}},
                    {"name": "wait", "in": "query", "schema": {"type": "number", "maximum": 25}},
                ],
                auth=False,
            ),
        },
        "/api/webchat/{session}/press": {
            "post": op(
                "a web chat user pressed a button under a reply",
                {"202": ("recorded; what follows comes by GET", OBJ), "400": ("bad action", ERROR),
                 "404": _UNKNOWN, "415": _NOT_JSON},  # fmt: skip
                body={"type": "object", "required": ["action"], "properties": {"action": {"type": "string"}}},
                params=[_SESSION],
                auth=False,
            )
        },
    },
}
