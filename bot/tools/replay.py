"""`python -m bot replay`: JSON lines in, one decision per line out, same order.

No Redis, network or platform token is needed and nothing is enqueued; tests and benchmarks
drive the pipeline through this. A bad line gets an output line with "error" and the run
goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO, TextIO

from bot.domain.buttons import offered_answers
from bot.domain.messages import InboundMessage
from bot.domain.pipeline import BadMessage, Pipeline

# A line longer than this is refused before it is parsed (the text limit is far smaller).
MAX_LINE_BYTES = 4 * 1024 * 1024


def _inbound(record: dict) -> InboundMessage:
    chat_type = record.get("chat_type", "private")
    if chat_type not in ("private", "group"):
        raise BadMessage("bad_field", "error_unreadable", "chat_type must be 'private' or 'group'")
    hint = record.get("language_hint")
    return InboundMessage(
        platform=str(record.get("platform") or "replay"),
        chat_id=str(record.get("chat_id") or ""),
        chat_kind=chat_type,
        user_id=str(record.get("user_id") or ""),
        text=record.get("text"),  # checked by the pipeline
        addressed=bool(record.get("addressed", chat_type == "private")),
        language_hint=hint if isinstance(hint, str) else None,
    )


def _records(stream: BinaryIO) -> Iterator[tuple[object, dict | None, str | None]]:
    """(id, record, error) per input line."""
    for raw in stream:
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE_BYTES:
            yield None, None, f"line_too_long: {len(raw)} bytes, the limit is {MAX_LINE_BYTES}"
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            yield None, None, "not_utf8: the line is not UTF-8 text"
            continue
        except json.JSONDecodeError as exc:
            yield None, None, f"not_json: {exc.msg} at column {exc.colno}"
            continue
        if not isinstance(record, dict):
            yield None, None, "not_object: each line must be a JSON object"
            continue
        if "text" not in record:
            yield record.get("id"), None, "missing_text: the object has no 'text'"
            continue
        yield record.get("id"), record, None


async def replay(pipeline: Pipeline, stream: BinaryIO, out: TextIO) -> int:
    """Process every line of `stream`; returns how many lines got an error."""
    last_language: dict[str, str] = {}
    errors = 0
    for ident, record, error in _records(stream):
        line: dict
        if record is not None:
            try:
                message = _inbound(record)
                decision = await pipeline.process(message, last_language.get(message.conversation_key))
                if decision.priority:  # nothing is enqueued here: the notice without a ticket
                    notice = pipeline.texts.reply("handoff", decision.language)
                    decision = pipeline.with_handoff_notice(decision, notice)
                last_language[message.conversation_key] = decision.language
                line = {
                    "id": ident,
                    "language": decision.language,
                    "intent": decision.intent,
                    "confidence": round(decision.confidence, 4),
                    "action": decision.action.value,
                    "priority": decision.priority.value if decision.priority else None,
                    "reply": decision.reply_text,
                    "answer_id": decision.answer_id,
                    "entities": decision.entities,
                    "suggested": offered_answers(decision.reply.buttons) if decision.reply else [],
                }
            except BadMessage as exc:
                error = f"{exc.code}: {exc}"
                line = {"id": ident, "error": error, "reply": pipeline.error_reply(exc)}
        else:
            line = {"id": ident, "error": error}
        errors += "error" in line
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.flush()
    return errors
