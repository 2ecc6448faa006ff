"""The building blocks of the OpenAPI document (`openapi.py`, `openapi_agents_day.py`): one
operation with its answers, and the parameters and schemas the paths share."""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}


def op(summary: str, responses: dict, body: dict | None = None, params: list | None = None,
       auth: bool = True) -> dict:  # fmt: skip
    """An operation: `responses` maps a status to (what it means, its JSON schema or None)."""
    operation: dict = {"summary": summary, "responses": {
        code: {"description": text, **({"content": {"application/json": {"schema": schema}}} if schema else {})}
        for code, (text, schema) in responses.items()
    }}  # fmt: skip
    if auth:
        operation["responses"]["401"] = {"description": "no valid token",
                                         "content": {"application/json": {"schema": ERROR}}}  # fmt: skip
        operation["responses"]["429"] = {"description": "too many refused tokens from this address (see Retry-After)",
                                         "content": {"application/json": {"schema": ERROR}}}  # fmt: skip
    else:
        operation["security"] = []
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        operation["parameters"] = params
    return operation


ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
NAME = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
TITLE = [{"name": "title", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 80}}]
CONV = {"$ref": "#/components/schemas/Conversation"}
OBJ = {"type": "object"}
