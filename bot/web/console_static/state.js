/* What the console knows about the session: one object, shared by the modules and changed in
 * place by the one that owns each part (the queue by queue.js, the open conversation by
 * conversation.js, ...). */

export const state = {
  token: null,
  me: null,               // {name, languages, role}
  generation: 0,          // bumped on sign-out: answers to an old session's requests are dropped
  queue: [],
  queueAt: 0,             // performance.now() when the queue was fetched: waited times tick from it
  mine: [],               // my conversations (public records, from /api/me)
  unread: new Set(),      // my conversations the user wrote in while another one was open
  openId: null,
  open: null,             // the open conversation, with its transcript
  drafts: new Map(),      // conversation id -> unsent reply, so switching chats loses nothing
  noteDrafts: new Map(),  // conversation id -> unsent internal note
  noteMode: false,        // the composer writes an internal note, not a reply
  mentions: [],           // "mentioned" events for me, newest first (mentions.js)
  cannedMine: {},         // my private canned answers, title -> text
  canned: new Map(),      // language -> {language, canned}
  cannedBase: null,       // the reply text before the current canned pick (see insertCanned)
  cannedKeyNav: false,
  breaches: new Map(),    // conversation id -> sla_breached event (leads)
  breachKey: "",
  agents: [],
  report: null,           // the last /api/reports answer (leads)
  reportAt: 0,            // Date.now() when it was fetched
  reportLoading: false,
  claiming: false,
  stream: null,           // AbortController of the event stream
  attempt: 0,
  pending: {},
  timers: {},
};

/** Back to a signed-out session (the generation is left to the caller). */
export function resetState() {
  Object.assign(state, { token: null, me: null, queue: [], mine: [], openId: null, open: null, stream: null,
    attempt: 0, pending: {}, timers: {}, claiming: false, agents: [], report: null, reportAt: 0, reportLoading: false,
    noteMode: false, mentions: [], cannedMine: {} });
  ["unread", "drafts", "noteDrafts", "canned", "breaches"].forEach((k) => state[k].clear());
}

export function isLead() { return !!state.me && state.me.role === "lead"; }

export function isMine(conv) { return !!conv && conv.state === "assigned" && conv.agent === state.me.name; }
