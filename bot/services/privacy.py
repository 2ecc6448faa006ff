"""Data requests about one platform user (`platform` + `user_id`): everything the bot keeps
about them exported as one JSON document, or erased everywhere. Leads ask through
`/api/users/<platform>/<user_id>/export` and `.../erase` (`bot/web/privacy_routes.py`) or
`python -m bot users export|erase`; both are recorded in the audit trail.

Where a user's data can be, key by key. Every key of `bot/stores/keys.py` is in this list with
what an erasure does to it: a new key is added here (`tests/test_privacy.py` checks), and to
`bot/stores/personal_data.py` when it can hold a user's data.

Exported and erased:
- `keys.conversation` (one per user per chat, and its transcript beside it): replaced by an
  anonymous stub under a new random id, so the reports still count it: platform, language,
  lane, intent, ticket and times; the transcript keeps only the user's lines' time, intent,
  action, language and answer (no text; coins and networks named, other entities as
  "(erased)"). It leaves the queue (`keys.queue`), the offers of auto-assignment
  (`keys.OFFERS`), the agents' sets (`keys.agent_conversations`) and its incident's group
  (`keys.incident_grouped`). Agents' internal notes on it (lines from `NOTE`) are about the
  user: exported, each marked `"internal": true` (the lead who answers the request decides what
  of them to hand over), and erased with the rest; which agents they mentioned
  (`keys.conversation_mentions`: names of agents only) is deleted.
- The conversation's files (`keys.conversation_files`, each file's record `keys.stored_file`
  and its entry in `keys.FILES`, the bytes in the blob store: `bot/stores/user_files.py`):
  listed in the export (name, type, size, when, who sent it; a lead opens the files themselves
  in the console), deleted with their bytes by an erasure.
- `keys.ticket`: kept for the reports (times, lane, rating), pointing at the stub.
- `keys.user_tickets`, `keys.move` (unspent one-time links), `keys.webchat_session` (the web
  chat's lines: a web chat user's id is their session), `keys.webchat_rate` (the session's
  counters), `keys.webchat_upload` (how far an upload got, by the page's id for it, 6 hours),
  `keys.webchat_seen` (the page polled in the last minute), `keys.x_parked` (replies waiting
  for a DM), `keys.x_replies` (mention counters),
  `keys.once` (the idempotency marks of messages in the user's private chats, named by chat
  and message id, 6 hours; a group's marks name the group, not the user) and
  `keys.secret_marks` (the count of seed words a message ended with, 5 minutes): deleted.
- E-mail (`bot/stores/mail_state.py`): `keys.mail_thread` (a thread's address, name, subject
  and message ids), `keys.mail_address` (unsubscribed, bounced, the last conversation mailed)
  and `keys.mail_count` (the loop guard's hourly count): deleted. `keys.MAIL_LEADER` holds a
  replica's name only. The mail itself stays in the support mailbox, which the exchange keeps
  (one with a pasted secret is deleted there once read).
- `keys.account_link` (the exchange account the user linked: its opaque account_ref, when,
  which chat) and its owner record `keys.account_ref`: exported (when and where, not the ref),
  deleted. The exchange keeps its side until it or the user removes it there.
- `keys.FEEDBACK` ("was this helpful?" and ratings): kept for the reports, pointing at the stub
  (they hold no text).
- `keys.filed` lists (`keys.FEEDBACK_ITEMS`, `keys.PHISHING_REPORTS`: the user's own words) and
  `keys.IMPOSTORS` (reports naming the user): the user's items removed.
- `keys.INBOX` (accepted messages not yet handled) and `keys.outbox` (replies not yet
  delivered): the user's entries removed.

Exported, kept:
- `keys.DISCORD_THREADS`: the ids of the user's private threads (opaque channel ids; without
  them the bot would take a still-open private thread for a public channel).

Holding nothing about a user (agents', leads' and counters' keys): `keys.inbox_lock`,
`keys.EVENTS` (pub/sub, nothing stored), `keys.TICKET_SEQ`, `keys.AGENTS`, `keys.AGENTS_SEEN`,
`keys.agent`, `keys.agent_token`, `keys.agent_canned` (an agent's private canned answers: the
agent's own texts, for no user in particular; the data requests here are users'),
`keys.INCIDENTS`, `keys.INCIDENT_SUGGESTIONS`, `keys.incident_suggested`, `keys.intent_rate`,
`keys.backoffice_event` (event ids, an hour), `keys.link_request` (a link asked for: named by a
random id, it cannot be found by the user, and expires after `backoffice.link_minutes`),
`keys.signin_failures` (refused tokens per address, a minute), `keys.REPLICATION_MARK` and
`keys.WEBCHAT_NEWS` (pub/sub, nothing stored), `keys.WEBCHAT_SECRET` (signs web chat session
ids), `keys.X_LEADER`, `keys.x_since`, `keys.x_seen` (tweet and DM ids, a month),
`keys.x_progress` (a digest of a reply, a day), and `keys.AUDIT`, which names users only by
pseudonym (`bot/stores/audit.py`, `user_ref`) and conversations by their old ids, and keeps the
record of the erasure itself.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field

from bot.stores import keys
from bot.stores.conversations import NOTE
from bot.stores.mail_state import thread_digest
from bot.stores.personal_data import PersonalData
from bot.stores.user_files import StoredFile, UserFiles
from intents import INTENTS

# What an anonymous stub keeps of a conversation: what the reports count by.
STUB_FIELDS = ("platform", "chat_kind", "language", "lane", "intent", "ticket", "tags", "created_at", "updated_at",
               "queued_at", "claimed_at")  # fmt: skip
LINE_FIELDS = ("at", "from", "intent", "action", "language", "answer_id", "confidence")
NAMED_BY_VALUE = ("coin", "network")  # entity values that say nothing about a user
FILED_LISTS = tuple(keys.filed(i.filed_as) for i in INTENTS.values() if i.filed_as)


@dataclass
class Found:
    """One user's records as stored: what an export shows and an erasure removes."""

    conversations: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> record
    transcripts: dict[str, list[dict]] = field(default_factory=dict)
    tickets: list[dict[str, str]] = field(default_factory=list)
    feedback: dict[str, dict] = field(default_factory=dict)  # raw item -> item
    filed: dict[str, dict[str, dict]] = field(default_factory=dict)  # list key -> raw item -> item
    pending_messages: dict[str, dict] = field(default_factory=dict)  # inbox entry -> message
    pending_replies: dict[str, dict[str, str]] = field(default_factory=dict)  # outbox entry -> reply
    moves: dict[str, dict] = field(default_factory=dict)  # key -> move
    webchat_lines: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # session -> lines
    discord_threads: list[str] = field(default_factory=list)
    x_parked: list[list[str]] = field(default_factory=list)
    counters: list[str] = field(default_factory=list)  # keys of per-user counters and marks
    account_link: dict[str, str] = field(default_factory=dict)  # when and in which chat, not the ref
    files: list[StoredFile] = field(default_factory=list)  # sent in the user's conversations, either way


def exported_line(line: dict) -> dict:
    """A transcript line as an export shows it: an agent's internal note marked as one."""
    return {**line, "internal": True} if line.get("from") == NOTE else line


def anonymous_line(line: dict) -> dict:
    """What a stub keeps of one of the user's transcript lines: no text."""
    kept = {name: line[name] for name in LINE_FIELDS if name in line}
    entities = line.get("entities") or {}
    if isinstance(entities, dict) and entities:
        kept["entities"] = {kind: values if kind in NAMED_BY_VALUE else ["(erased)"]
                            for kind, values in entities.items() if values}  # fmt: skip
    return kept


class DataRequests:
    """Exports and erases what the bot keeps about one platform user."""

    def __init__(self, records: PersonalData, files: UserFiles) -> None:
        self.records = records
        self.files = files

    async def find(self, platform: str, user_id: str) -> Found:
        """Every record of the user's, wherever it is kept."""
        found = Found()
        for cid in await self.records.conversation_ids(platform, user_id):
            record = await self.records.conversation(cid)
            if record:
                found.conversations[cid] = {**record, "id": cid}
                found.transcripts[cid] = await self.records.transcript(cid)
                found.files += await self.files.of_conversation(cid)
        cids = set(found.conversations)
        ticket_ids = {*await self.records.ticket_ids(platform, user_id),
                      *(c["ticket"] for c in found.conversations.values() if c.get("ticket"))}  # fmt: skip
        found.tickets = [t for t in [await self.records.ticket(tid) for tid in sorted(ticket_ids)] if t]
        found.feedback = {raw: item for raw, item in await self.records.list_items(keys.FEEDBACK)
                          if item.get("conversation") in cids}  # fmt: skip
        for key in FILED_LISTS:
            found.filed[key] = {raw: item for raw, item in await self.records.list_items(key)
                                if item.get("conversation") in cids}  # fmt: skip
        found.filed[keys.IMPOSTORS] = {raw: item for raw, item in await self.records.list_items(keys.IMPOSTORS)
                                       if (item.get("platform"), str(item.get("user_id"))) == (platform, user_id)}
        for entry, fields in await self.records.stream_entries(keys.INBOX):
            message = json.loads(fields.get("message") or "{}")
            if (message.get("platform"), message.get("user_id")) == (platform, user_id):
                found.pending_messages[entry] = message
        replies = await self.records.stream_entries(keys.outbox(platform))
        found.pending_replies = {entry: reply for entry, reply in replies if reply.get("conversation") in cids}
        found.moves = await self.records.moves(platform, user_id)
        chat_ids = {c.get("chat_id", "") for c in found.conversations.values()}
        if platform == "webchat":  # a web chat user's id is their session's
            for session in sorted({user_id, *chat_ids}):
                found.webchat_lines[session] = [line for _, line in
                                                await self.records.stream_entries(keys.webchat_session(session))]
                found.counters += await self.records.session_counters(session)
        private = {c.get("chat_id", "") for c in found.conversations.values() if c.get("chat_kind") == "private"}
        for chat_id in sorted(private | ({user_id} if platform == "webchat" else set())):
            found.counters += await self.records.message_marks(platform, chat_id)
        found.counters += [keys.secret_marks(cid) for cid in cids]
        found.counters += [keys.conversation_mentions(cid) for cid in cids]
        link = await self.records.account_link(platform, user_id)
        if link:
            found.account_link = {name: link[name] for name in ("linked_at", "chat_id") if name in link}
            found.counters += [keys.account_link(platform, user_id), keys.account_ref(link.get("ref", ""))]
        if platform == "email":  # the user's id is their address; a conversation's chat, its thread
            hour = int(time.time() // 3600)
            found.counters += [keys.mail_address(user_id), *(keys.mail_count(user_id, h) for h in (hour - 1, hour)),
                               *(keys.mail_thread(thread_digest(chat)) for chat in sorted(chat_ids))]  # fmt: skip
        if platform == "discord":
            found.discord_threads = await self.records.discord_threads(sorted(chat_ids))
        if platform == "x":
            found.x_parked = await self.records.x_parked(user_id)
            found.counters += await self.records.x_reply_counters(user_id)
        return found

    async def export(self, platform: str, user_id: str) -> dict[str, object]:
        """Everything kept about the user, as one JSON-ready document."""
        found = await self.find(platform, user_id)
        return {
            "platform": platform, "user_id": user_id, "exported_at": time.time(),
            "conversations": [{**record, "transcript": [exported_line(x) for x in found.transcripts.get(cid, [])]}
                              for cid, record in found.conversations.items()],
            "tickets": found.tickets, "feedback": list(found.feedback.values()),
            "filed": {key: list(items.values()) for key, items in found.filed.items()},
            "pending_messages": list(found.pending_messages.values()),
            "pending_replies": list(found.pending_replies.values()),
            "private_moves": list(found.moves.values()), "webchat_lines": found.webchat_lines,
            "discord_threads": found.discord_threads, "x_parked_replies": found.x_parked,
            "account_link": found.account_link, "files": [f.public() for f in found.files],
        }  # fmt: skip

    async def erase(self, platform: str, user_id: str) -> dict[str, int]:
        """Remove everything kept about the user; what the reports count stays, anonymous.
        Returns how many records of each kind were erased or made anonymous."""
        found = await self.find(platform, user_id)
        erased = {"pending_messages": await self.records.delete_entries(keys.INBOX, list(found.pending_messages)),
                  "pending_replies": await self.records.delete_entries(keys.outbox(platform),
                                                                       list(found.pending_replies))}  # fmt: skip
        stub_ids = {}
        for cid, record in found.conversations.items():
            stub_ids[cid] = "c" + secrets.token_hex(6)  # the same shape as a real id, linked to nothing
            stub = {name: record[name] for name in STUB_FIELDS if record.get(name)}
            stub.update(id=stub_ids[cid], state="erased", erased_at=str(time.time()))
            lines = [anonymous_line(line) for line in found.transcripts.get(cid, []) if line.get("from") == "user"]
            await self.records.replace_conversation(record, stub_ids[cid], stub, lines)
        erased["conversations"] = len(stub_ids)
        erased["files"] = sum([await self.files.remove_conversation(cid) for cid in found.conversations])
        erased["transcript_lines"] = sum(len(lines) for lines in found.transcripts.values())
        erased["feedback"] = await self.records.replace_items(keys.FEEDBACK, {
            raw: json.dumps({**item, "conversation": stub_ids.get(item["conversation"], "")})
            for raw, item in found.feedback.items()
        })  # fmt: skip
        erased["filed"] = 0
        for key, items in found.filed.items():
            erased["filed"] += await self.records.replace_items(key, dict.fromkeys(items, ""))
        erased["keys"] = await self.records.delete_keys([
            keys.user_tickets(platform, user_id), *found.moves, *found.counters,
            *(keys.webchat_session(session) for session in found.webchat_lines),
            *([keys.x_parked(user_id)] if found.x_parked else []),
        ])  # fmt: skip
        return erased
