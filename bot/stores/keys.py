"""Every Redis key name the bot writes, in one place: what each holds and who owns it.

All keys start with `sb:`. The Lua scripts of `handoff_queue` build the same names inside
Redis from the prefixes marked "(Lua too)"; `tests/test_keys.py` checks they agree.
"""

from __future__ import annotations

ANY = "*"  # a SCAN pattern's wildcard, in place of a key part (the data requests find keys by it)

# -- intake and the hand-off queue ---------------------------------------------------------
INBOX = "sb:inbox"  # stream: accepted messages not yet handled (services/inbox)
EVENTS = "sb:events"  # pub/sub channel: queue events for consoles (Lua too)
# pub/sub channel nobody reads: a publish there marks the replication stream (stores/durability)
REPLICATION_MARK = "sb:replication-mark"
TICKET_SEQ = "sb:ticket:seq"  # counter: the last ticket number (Lua too)
CONVERSATION_PREFIX = "sb:conv:"  # hash per conversation, its transcript beside it (Lua too)
TICKET_PREFIX = "sb:ticket:"  # hash per ticket (Lua too)
QUEUE_PREFIX = "sb:q:"  # sorted set per team, lane and language (Lua too)
USER_TICKETS_PREFIX = "sb:user-tickets:"  # sorted set of a platform user's tickets (Lua too)
AGENT_PREFIX = "sb:agent:"  # hash per agent; `<agent>:convs` set of what they own (Lua too)


def inbox_lock(entry: str) -> str:
    """Who recovers an orphaned inbox entry: the replica that sets this first."""
    return f"{INBOX}:lock:{entry}"


def once(message_key: str) -> str:
    """A message's idempotency mark (`InboundMessage.once_key`): "accepted", then "replied"."""
    return f"sb:once:{message_key}"


def conversation(cid: str) -> str:
    return f"{CONVERSATION_PREFIX}{cid}"


def secret_marks(cid: str) -> str:
    """What a conversation's last message ended with that may be half of a secret pasted in
    two messages: a wordlist's name and a count, never the words (domain/secret_carry.py).
    Not under the conversation's prefix, which reports scan for conversation records."""
    return f"sb:secret-marks:{cid}"


def conversation_mentions(cid: str) -> str:
    """Set: the agents an internal note on the conversation mentioned (`@name`), who may read
    it (bot/services/notes.py). Not under the conversation's prefix, for the same reason."""
    return f"sb:mentions:{cid}"


FILES = "sb:files-by-time"  # sorted set: file id -> when kept (the retention sweep, user_files.py)


def conversation_files(cid: str) -> str:
    """Set: the ids of the files sent in the conversation, either way (bot/stores/user_files.py).
    Not under the conversation's prefix, for the same reason."""
    return f"sb:files:{cid}"


def stored_file(file_id: str) -> str:
    """Hash: one file's record (its conversation, type, the name the sender gave, size, who
    sent it, the blob's name); the bytes are in the blob store (bot/stores/blobs.py)."""
    return f"sb:file:{file_id}"


def ticket(tid: str) -> str:
    return f"{TICKET_PREFIX}{tid}"


def queue(team: str, lane: str, language: str) -> str:
    return f"{QUEUE_PREFIX}{team}:{lane}:{language}"


def user_tickets(platform: str, user_id: str) -> str:
    return f"{USER_TICKETS_PREFIX}{platform}:{user_id}"


def move(platform: str, user_id: str, token: str) -> str:
    """A one-time link from a group to a private chat; the key names the user it is for."""
    return f"sb:move:{platform}:{user_id}:{token}"


# -- agents --------------------------------------------------------------------------------
AGENTS = "sb:agents"  # set of agent names
AGENTS_SEEN = "sb:agents:seen"  # sorted set: agent -> last seen (on shift) (Lua too)
OFFERS = "sb:offers"  # sorted set: conversation -> when offered to an agent, until accepted (Lua too)


def agent(name: str) -> str:
    return f"{AGENT_PREFIX}{name}"


def agent_conversations(name: str) -> str:
    return f"{AGENT_PREFIX}{name}:convs"


def agent_canned(name: str) -> str:
    """Hash: an agent's private canned answers, title -> text (bot/stores/canned_answers.py)."""
    return f"{AGENT_PREFIX}{name}:canned"


def agent_token(digest: str) -> str:
    """The agent a token's SHA-256 belongs to (tokens themselves are never stored)."""
    return f"sb:agent-token:{digest}"


def signin_failures(address: str) -> str:
    """Counter: agent-API calls from a client address with a token that was refused, in the
    window that began with the first of them (expires with the window)."""
    return f"sb:signin-failures:{address}"


# -- what leads read -------------------------------------------------------------------------
FEEDBACK = "sb:feedback"  # list: "was this helpful?" answers and ratings


def filed(name: str) -> str:
    """A list of items kept for leads, newest first (an intent's `filed_as`)."""
    return f"sb:{name}"


FEEDBACK_ITEMS = filed("feedback-items")  # list: suggestions and bug reports
PHISHING_REPORTS = filed("phishing-reports")  # list: phishing reports with their links and handles
IMPOSTORS = "sb:impostors"  # list: new group members whose names imitate staff
INCIDENTS = "sb:incidents"  # hash: incident id -> incident
INCIDENT_SUGGESTIONS = "sb:incident-suggestions"  # list: spikes a lead may declare an incident for


def incident_grouped(incident_id: str) -> str:
    return f"sb:incident:{incident_id}:grouped"


def incident_suggested(intent: str) -> str:
    """Set while a spike of `intent` was suggested recently: one suggestion per window."""
    return f"sb:incident-suggested:{intent}"


def intent_rate(intent: str, minute: int) -> str:
    return f"sb:rate:{intent}:{minute}"


# -- accountability -------------------------------------------------------------------------
AUDIT = "sb:audit"  # stream: what agents, leads and operators did (bot/stores/audit.py), append-only


# -- channels --------------------------------------------------------------------------------
def outbox(platform: str) -> str:
    """Stream: the replies waiting for a platform's adapter."""
    return f"sb:outbox:{platform}"


def webchat_session(session: str) -> str:
    """Stream: one web chat session's lines, both ways."""
    return f"sb:webchat:{session}"


def webchat_seen(session: str) -> str:
    """String: set while the session's page polls (a minute after its last poll): whether an
    agent's reply reaches the user there or should follow them by e-mail."""
    return f"sb:webchat-seen:{session}"


def webchat_upload(session: str, client_id: str) -> str:
    """String: how far a web chat upload the page keyed `client_id` got ("said:<line id>",
    then "taken:<line id>"): a resend is taken once (`WebChatSessions.upload_progress`)."""
    return f"sb:webchat-upload:{session}:{client_id}"


WEBCHAT_NEWS = "sb:webchat-news"  # pub/sub channel: the session that got a new line (wakes long polls)
WEBCHAT_SECRET = "sb:webchat-secret"  # string: signs the session ids the server issues (no env secret)


def webchat_rate(scope: str, who: str, minute: int | str) -> str:
    """Messages a web chat session or address sent in a minute (`scope`: session or ip)."""
    return f"sb:rate:webchat:{scope}:{who}:{minute}"


DISCORD_THREADS = "sb:discord:threads"  # set: the private support threads the bot opened
X_LEADER = "sb:x:leader"  # the replica that polls X


def x_since(what: str) -> str:
    """The last tweet or DM id read (`what`: mentions or dm)."""
    return f"sb:x:since:{what}"


def x_seen(what: str) -> str:
    return f"sb:x:seen:{what}"


def x_replies(author: str, hour: int | str) -> str:
    return f"sb:x:replies:{author}:{hour}"


def x_progress(digest: str) -> str:
    return f"sb:x:progress:{digest}"


def x_parked(user: str) -> str:
    """Replies waiting for a user who does not accept DMs yet."""
    return f"sb:x:parked:{user}"


# -- accounts linked through the exchange's back office (services/accounts) ----------------
def account_link(platform: str, user_id: str) -> str:
    """Hash: the account_ref of the exchange account a platform user linked, and when."""
    return f"sb:account-link:{platform}:{user_id}"


def account_ref(ref: str) -> str:
    """Which platform user a back-office account_ref is linked to ("platform:user_id")."""
    return f"sb:account-ref:{ref}"


def link_request(request_id: str) -> str:
    """Hash: a link the bot asked the back office for, not yet confirmed (its platform user)."""
    return f"sb:link-request:{request_id}"


def backoffice_event(event_id: str) -> str:
    """A back-office event already taken (a replay is refused), for a while."""
    return f"sb:backoffice-event:{event_id}"


# -- e-mail (bot/stores/mail_state.py) ----------------------------------------------------
MAIL_LEADER = "sb:mail:leader"  # the replica that reads the support mailbox


def mail_thread(root_digest: str) -> str:
    """Hash: one e-mail thread (named by a digest of its first message's id): the user's
    address and name, the subject, the ids a reply must name to thread, the ticket."""
    return f"sb:mail:thread:{root_digest}"


def mail_address(address: str) -> str:
    """Hash: what the bot knows of a user's address: unsubscribed, bounced (and when)."""
    return f"sb:mail:address:{address}"


def mail_count(address: str, hour: int | str) -> str:
    """Mail read from an address in an hour (the loop guard)."""
    return f"sb:mail:count:{address}:{hour}"
