"""Internal notes over the agent API: `POST /api/conversations/{id}/notes {"text": ...}`, by the
agent who owns the conversation or owned it last, or a lead (`owned_conversation`). A note is
for agents only: it is written to the transcript and sent nowhere (`bot/services/notes.py`).
An agent it mentions may then read the conversation; adding notes stays its owner's.
"""

from __future__ import annotations

from aiohttp import web

from bot.config import Config
from bot.services.notes import MAX_NOTE_CHARS, Notes
from bot.stores.conversations import ConversationStore
from bot.web.agent_routes import owned_conversation
from bot.web.api_requests import AGENT, json_object
from bot.web.audit_routes import audited
from bot.web.responses import ApiError


class NoteRoutes:
    """The internal notes route."""

    def __init__(self, config: Config, conversations: ConversationStore, notes: Notes) -> None:
        self.config = config
        self.conversations = conversations
        self.notes = notes

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/api/conversations/{id}/notes", self.add)]

    @audited("note")
    async def add(self, request: web.Request) -> web.Response:
        """{"text": ...}: a note on the conversation, for agents only; 201 with the note as
        stored (secrets redacted) and whom it mentioned."""
        conv = await owned_conversation(self.conversations, request)
        text = (await json_object(request)).get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "bad_request", '"text" must be a non-empty string')
        if len(text) > MAX_NOTE_CHARS:
            raise ApiError(413, "too_long", f"a note is at most {MAX_NOTE_CHARS} characters")
        try:
            note = await self.notes.add(conv, request[AGENT].name, text)
        except ValueError as error:
            raise ApiError(400, "bad_request", str(error)) from None
        return web.json_response({"text": note.text, "redacted": note.redacted, "mentioned": list(note.mentioned)},
                                 status=201)  # fmt: skip
