"""The agent API's paths for the agents' day (issue 19) in the OpenAPI document: internal notes,
presence, accepting offers, the teams, an agent's teams (leads), canned answers (the team's and
the agent's own)."""

from __future__ import annotations

from bot.web.openapi_parts import ERROR, ID, NAME, OBJ, TITLE, op

AGENTS_DAY_PATHS = {
        "/api/conversations/{id}/notes": {
            "post": op(
                "an internal note for agents, never sent to the user; `@name` mentions an agent, who may then read "
                "the conversation",
                {"201": ("the note as stored (secrets redacted) and whom it mentioned", OBJ),
                 "400": ("no text, or hidden control characters", ERROR), "404": ("not yours", ERROR),
                 "413": ("longer than 4000 characters", ERROR)},
                body={"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
                params=ID,
            )
        },
        "/api/me/presence": {"post": op(
            "set your presence: away and offline agents are offered no new work",
            {"200": ("the presence", OBJ), "400": ("not online, away or offline", ERROR)},
            body={"type": "object", "required": ["presence"],
                  "properties": {"presence": {"type": "string", "enum": ["online", "away", "offline"]}}})},
        "/api/conversations/{id}/accept": {"post": op(
            "accept a conversation auto-assignment offered you",
            {"200": ("accepted", OBJ), "404": ("not yours", ERROR), "409": ("no offer of yours", ERROR)},
            params=ID)},
        "/api/teams": {"get": op("the teams: open or when, waiting, available agents", {"200": ("teams", OBJ)})},
        "/api/agents/{name}/routing": {"post": op(
            "set an agent's teams and maximum of open conversations (leads)",
            {"200": ("set", OBJ), "400": ("unknown team", ERROR), "403": ("not a lead", ERROR),
             "404": ("no such agent", ERROR)},
            body={"type": "object", "properties": {"teams": {"type": "array", "items": {"type": "string"}},
                                                   "max_open": {"type": "integer", "nullable": True}}},
            params=NAME)},
        "/api/canned": {
            "get": op(
                "the team's canned answers in a language, and the agent's own private ones in `mine`",
                {"200": ("canned answers", OBJ), "400": ("unknown language", ERROR)},
                params=[{"name": "language", "in": "query", "schema": {"type": "string"}}],
            )
        },
        "/api/canned/mine": {
            "get": op("the agent's private canned answers (no one else sees them)", {"200": ("{mine}", OBJ)})
        },
        "/api/canned/mine/{title}": {
            "put": op(
                "add one of the agent's private canned answers, or change its text (at most 100)",
                {"200": ("{title, text}", OBJ), "400": ("bad title or text, or 100 already", ERROR)},
                body={"type": "object", "required": ["text"], "properties": {
                    "text": {"type": "string", "maxLength": 2000}}},
                params=TITLE,
            ),
            "delete": op(
                "delete one of the agent's private canned answers",
                {"200": ("deleted", OBJ), "404": ("none by that title", ERROR)},
                params=TITLE,
            ),
        },
}
