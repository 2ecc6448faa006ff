/* supportbot agents' console: plain JS, no framework, no build step.
 *
 * The page is served with a strict Content-Security-Policy (no inline code), so every
 * listener is attached here. Text from users, agents and the server only ever reaches the
 * page through textContent: a user may write markup and it must show literally.
 * The agent token lives in sessionStorage (this tab only) and goes in an Authorization
 * header, never in a URL. */
"use strict";

(function () {
  const TOKEN_KEY = "supportbot-agent-token";
  const MAX_REPLY = 4000;
  const POLL_MS = 10000;      // safety net next to the event stream (and keeps us "on shift")
  const DEBOUNCE_MS = 150;    // a burst of events becomes one refresh
  const STALL_MS = 40000;     // keep-alives come every 15 s: this much silence is a dead stream
  const BACKOFF_MS = [1000, 2000, 4000, 8000, 10000];
  const REPORT_MS = 5 * 60 * 1000;  // the week's report: heavy for the bot (it reads every conversation)
  const LANES = ["urgent", "vip", "high", "normal"];
  const PLATFORMS = ["webchat", "telegram", "discord", "x"];
  const narrowQuery = window.matchMedia("(max-width: 759px)");

  const $ = (id) => document.getElementById(id);
  const els = {};
  ["signin", "token", "signin-error", "signin-submit", "whoami", "signout", "connection", "workspace",
    "offline-banner", "queue", "queue-empty", "queue-error", "queue-count", "claim-next", "mine", "mine-empty",
    "mine-count", "conv-empty", "conv-view", "back", "conv-ticket", "conv-user", "conv-platform", "conv-language",
    "conv-lane", "conv-intent", "conv-state", "resolve", "transfer", "release", "transfer-form", "transfer-to",
    "transfer-options", "transfer-error", "transfer-cancel", "earlier-tickets", "conv-readonly", "transcript",
    "composer", "canned", "reply", "reply-count", "send", "lead-panel", "agents-body", "agents-error",
    "sla-breaches", "breaches-empty", "breaches-count", "status", "help", "help-open", "help-close",
    "report", "report-refresh", "report-period", "report-error", "report-conversations", "report-messages",
    "report-deflection", "report-handoff", "report-tickets", "report-first-response", "report-sla", "report-csat",
    "report-ratings", "report-languages", "report-intents", "report-days", "report-days-legend", "report-unanswered"]
    .forEach((id) => { els[id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = $(id); });

  const state = {
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

  // ---------- small helpers ----------

  /** An element with a class and text; text always goes through textContent. */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function known(value, allowed, fallback) {
    return allowed.includes(value) ? value : fallback;  // only known words become class names
  }

  function fmtDuration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s";
    return Math.floor(s / 3600) + "h " + String(Math.floor(s / 60) % 60).padStart(2, "0") + "m";
  }

  function fmtClock(epoch) {
    const d = new Date(epoch * 1000);
    const sameDay = d.toDateString() === new Date().toDateString();
    const opts = sameDay ? { hour: "2-digit", minute: "2-digit" } : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
    return d.toLocaleString(undefined, opts);
  }

  function fmtDate(epoch) {
    const d = new Date(epoch * 1000);
    const opts = { day: "numeric", month: "short" };
    if (d.getFullYear() !== new Date().getFullYear()) opts.year = "numeric";
    return d.toLocaleDateString(undefined, opts);
  }

  function userLabel(conv) {
    return conv.user_name || (conv.platform === "webchat" ? "Web chat visitor" : "Unnamed user");
  }

  function isLead() { return !!state.me && state.me.role === "lead"; }

  function isMine(conv) { return !!conv && conv.state === "assigned" && conv.agent === state.me.name; }

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    const tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable) return true;
    return tag === "INPUT" && !["button", "submit", "checkbox", "radio"].includes(target.type);
  }

  let toastTimer = null;
  /** A short message in the #status live region; errors stay a little longer. */
  function toast(text, kind) {
    clearTimeout(toastTimer);
    els.status.textContent = text;
    els.status.className = "toast" + (kind === "error" ? " toast-error" : "");
    toastTimer = setTimeout(() => { els.status.textContent = ""; }, kind === "error" ? 8000 : 4000);
  }

  // ---------- the API ----------

  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }

  /** One call to the agent API; resolves {status, data}, throws ApiError. A 401 mid-session
   *  means the token was revoked: back to the sign-in form. */
  async function api(method, path, body) {
    const init = { method, cache: "no-store", headers: { Authorization: "Bearer " + state.token } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, "network", "Cannot reach the bot. Check your connection.");
    }
    let data = null;
    if (res.status !== 204) {
      try { data = await res.json(); } catch (e) { data = null; }
    }
    if (res.ok) return { status: res.status, data };
    if (res.status === 401 && state.token) sessionExpired();
    throw new ApiError(res.status, (data && data.error) || "http_" + res.status,
      (data && data.message) || "The bot answered with an error (" + res.status + ").");
  }

  const convPath = (id, action) => "/api/conversations/" + encodeURIComponent(id) + (action ? "/" + action : "");

  // ---------- sign-in / sign-out ----------

  async function onSignIn(ev) {
    ev.preventDefault();
    const token = els.token.value.trim();
    if (!token) { els.signinError.textContent = "Paste your agent token."; return; }
    els.signinSubmit.disabled = true;
    els.signinError.textContent = "";
    try {
      await trySession(token);
    } finally {
      els.signinSubmit.disabled = false;
    }
  }

  /** Checks a token with /api/me and starts the session with it; false if refused. */
  async function trySession(token) {
    let res;
    try {
      res = await fetch("/api/me", { cache: "no-store", headers: { Authorization: "Bearer " + token } });
    } catch (e) {
      els.signinError.textContent = "Cannot reach the bot. Try again in a moment.";
      return false;
    }
    if (!res.ok) {
      const data = await res.json().catch(() => null);
      els.signinError.textContent = res.status === 401 ? "That token was not accepted."
        : (data && data.message) || "Sign-in failed (" + res.status + ").";
      if (res.status === 401) sessionStorage.removeItem(TOKEN_KEY);
      return false;
    }
    const me = await res.json();
    sessionStorage.setItem(TOKEN_KEY, token);
    els.token.value = "";
    startSession(token, me);
    return true;
  }

  function startSession(token, me) {
    state.generation += 1;
    state.token = token;
    state.me = { name: me.name, languages: me.languages || [], role: me.role };
    state.mine = me.conversations || [];
    els.whoami.textContent = me.name + " · " + me.role;
    els.whoami.title = "Languages: " + state.me.languages.join(", ");
    document.body.classList.remove("signed-out");
    document.body.classList.toggle("is-lead", isLead());
    els.leadPanel.hidden = !isLead();
    els.workspace.hidden = false;
    renderMine();
    closeConversation();
    refreshQueue();
    if (isLead()) {
      refreshAgents();
      refreshReport();
      state.timers.report = setInterval(() => { if (!document.hidden) refreshReport(); }, REPORT_MS);
    }
    connectEvents();
    state.timers.poll = setInterval(poll, POLL_MS);
    state.timers.tick = setInterval(tick, 1000);
    els.claimNext.focus();
  }

  function signOut(message) {
    state.generation += 1;
    if (state.stream) state.stream.abort();
    Object.values(state.timers).forEach((t) => { clearInterval(t); clearTimeout(t); });
    Object.assign(state, { token: null, me: null, queue: [], mine: [], openId: null, open: null, stream: null,
      attempt: 0, pending: {}, timers: {}, claiming: false, agents: [], report: null, reportAt: 0, reportLoading: false });
    ["unread", "drafts", "canned", "breaches"].forEach((k) => state[k].clear());
    sessionStorage.removeItem(TOKEN_KEY);
    els.queue.replaceChildren();
    els.mine.replaceChildren();
    els.transcript.replaceChildren();
    els.agentsBody.replaceChildren();
    els.slaBreaches.replaceChildren();
    clearReport();
    els.whoami.textContent = "";
    els.workspace.hidden = true;
    document.body.className = "signed-out";
    setConnection("off");
    els.signinError.textContent = message || "";
    document.title = "Agent console · supportbot";
    els.token.focus();
  }

  function sessionExpired() {
    signOut("Your token is no longer accepted. Sign in again.");
  }

  // ---------- the queue ----------

  async function refreshQueue() {
    const gen = state.generation;
    try {
      const { data } = await api("GET", "/api/queue");
      if (gen !== state.generation) return;
      state.queue = Array.isArray(data && data.queue) ? data.queue : [];
      state.queueAt = performance.now();
      els.queueError.hidden = true;
      renderQueue();
    } catch (e) {
      if (gen !== state.generation) return;
      els.queueError.textContent = "Could not load the queue: " + e.message;
      els.queueError.hidden = false;
    }
  }

  function renderQueue() {
    const focusedId = els.queue.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    els.queue.replaceChildren(...state.queue.map(queueItem));
    els.queueEmpty.hidden = state.queue.length > 0;
    els.queueCount.textContent = String(state.queue.length);
    const mineCount = state.queue.filter(inMyLanguages).length;
    els.claimNext.textContent = "Claim next (" + mineCount + ")";
    els.claimNext.classList.toggle("is-idle", mineCount === 0);
    if (focusedId) focusItem(els.queue, focusedId);
    tick();
  }

  function inMyLanguages(item) { return state.me.languages.includes(item.language); }

  function queueItem(item) {
    const li = el("li", "queue-item lane-" + known(item.lane, LANES, "normal"));
    li.dataset.id = item.id;
    li.tabIndex = 0;
    if (!inMyLanguages(item) && !isLead()) {  // leads may claim any language by name
      li.classList.add("other-language");
      li.title = "Not in your languages";
    }
    const top = el("div", "qi-top");
    top.append(el("span", "ticket", item.ticket || "—"),
      el("span", "badge lane lane-" + known(item.lane, LANES, "normal"), item.lane), el("span", "waited", ""));
    const who = el("div", "qi-who");
    who.append(el("span", "badge lang", item.language),
      el("span", "badge platform platform-" + known(item.platform, PLATFORMS, "other"), item.platform));
    if (item.user_name) who.append(el("span", "user-name", item.user_name));
    if (item.intent) who.append(el("span", "intent", item.intent));
    const bar = el("div", "sla-bar");
    bar.append(el("span", "sla-fill"));
    li.append(top, el("p", "first-message", item.first_message || "(no message)"), who, bar);
    return li;
  }

  /** Every second: waited times and SLA colours tick client-side from the fetched values. */
  function tick() {
    if (!state.me) return;
    const elapsed = (performance.now() - state.queueAt) / 1000;
    const byId = new Map(state.queue.map((q) => [q.id, q]));
    for (const li of els.queue.children) {
      const item = byId.get(li.dataset.id);
      if (!item) continue;
      const waited = item.waited_seconds + elapsed;
      const ratio = item.sla_seconds > 0 ? waited / item.sla_seconds : 0;
      const sla = ratio >= 1 ? "sla-breached" : ratio >= 0.5 ? "sla-warn" : "sla-ok";
      li.querySelector(".waited").textContent = fmtDuration(waited);
      if (!li.classList.contains(sla)) {
        li.classList.remove("sla-ok", "sla-warn", "sla-breached");
        li.classList.add(sla);
      }
      // A CSSOM property set (allowed by the CSP, unlike a style attribute).
      li.querySelector(".sla-fill").style.width = Math.min(100, ratio * 100).toFixed(1) + "%";
    }
    if (isLead()) renderBreaches(false);
  }

  // ---------- claiming ----------

  async function claimNext() {
    await claim({}, null);
  }

  async function claim(body, item) {
    if (state.claiming) return;  // one claim at a time: a double press must not take two chats
    state.claiming = true;
    els.claimNext.setAttribute("aria-busy", "true");
    try {
      const { status, data } = await api("POST", "/api/queue/claim", body);
      if (status === 204) {
        toast("Nobody is waiting in your languages.");
      } else {
        toast("Claimed " + (data.ticket || "the conversation"));
        state.queue = state.queue.filter((q) => q.id !== data.id);  // off the queue now, not at the refresh
        renderQueue();
        upsertMine(data);
        showConversation(data, true);
      }
    } catch (e) {
      if (e.code === "taken") toast("Someone else took it" + (item ? " (" + item.ticket + ")" : "") + ".", "error");
      else toast(e.message, "error");
    } finally {
      state.claiming = false;
      els.claimNext.removeAttribute("aria-busy");
      scheduleRefresh({ queue: true });
    }
  }

  function claimItem(li) {
    const item = state.queue.find((q) => q.id === li.dataset.id);
    claim({ conversation: li.dataset.id }, item || null);
  }

  // ---------- my conversations ----------

  async function refreshMe() {
    const gen = state.generation;
    try {
      const { data } = await api("GET", "/api/me");
      if (gen !== state.generation) return;
      const wasMine = state.mine.some((c) => c.id === state.openId);
      state.mine = data.conversations || [];
      const stillMine = state.mine.some((c) => c.id === state.openId);
      for (const id of state.unread) if (!state.mine.some((c) => c.id === id)) state.unread.delete(id);
      renderMine();
      // Someone (a lead) moved my open conversation away: show what it is now.
      if (wasMine && !stillMine) scheduleRefresh({ conv: true });
    } catch (e) { /* the queue's error line already tells; the poll retries */ }
  }

  function upsertMine(conv) {
    const summary = Object.assign({}, conv);
    delete summary.transcript;
    delete summary.earlier_tickets;
    state.mine = state.mine.filter((c) => c.id !== conv.id).concat([summary]);
    renderMine();
  }

  function removeMine(id) {
    state.mine = state.mine.filter((c) => c.id !== id);
    state.unread.delete(id);
    state.drafts.delete(id);
    renderMine();
  }

  function sortedMine() {
    return state.mine.slice().sort((a, b) => (a.claimed_at || 0) - (b.claimed_at || 0));
  }

  function renderMine() {
    const focusedId = els.mine.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    els.mine.replaceChildren(...sortedMine().map(mineItem));
    els.mineEmpty.hidden = state.mine.length > 0;
    els.mineCount.textContent = String(state.mine.length);
    if (focusedId) focusItem(els.mine, focusedId);
    const unread = state.unread.size;
    document.title = (unread ? "(" + unread + ") " : "") + "Agent console · supportbot";
  }

  function mineItem(conv) {
    const li = el("li", "mine-item lane-" + known(conv.lane, LANES, "normal"));
    li.dataset.id = conv.id;
    li.tabIndex = 0;
    if (conv.id === state.openId) {
      li.classList.add("is-open");
      li.setAttribute("aria-current", "true");
    }
    const top = el("div", "qi-top");
    top.append(el("span", "ticket", conv.ticket || "—"), el("span", "user-name", userLabel(conv)));
    if (state.unread.has(conv.id)) {
      li.classList.add("has-unread");
      top.append(el("span", "unread", "new"));
    }
    const meta = el("div", "qi-who");
    meta.append(el("span", "badge lang", conv.language), el("span", "badge platform", conv.platform),
      el("span", "badge lane lane-" + known(conv.lane, LANES, "normal"), conv.lane || "normal"));
    li.append(top, meta);
    return li;
  }

  /** J/K: the next or previous of my conversations. */
  function cycleMine(step) {
    const list = sortedMine();
    if (!list.length) return;
    const at = list.findIndex((c) => c.id === state.openId);
    const next = list[(at + step + list.length) % list.length];
    if (at < 0 && step < 0) return openConversation(list[list.length - 1].id);
    openConversation(next.id);
  }

  // ---------- the open conversation ----------

  async function openConversation(id) {
    if (id === state.openId && state.open) {
      showPane("conv");
      focusAfterOpen(state.open);
      return;
    }
    const gen = state.generation;
    saveDraft();
    state.openId = id;
    renderMine();
    try {
      const { data } = await api("GET", convPath(id));
      if (gen !== state.generation || state.openId !== id) return;
      showConversation(data, true);
    } catch (e) {
      if (gen !== state.generation || state.openId !== id) return;
      toast(e.status === 404 ? "That conversation is no longer yours." : e.message, "error");
      if (e.status === 404) removeMine(id);
      if (e.status === 404 || !state.open) closeConversation();
      else { state.openId = state.open.id; renderMine(); }  // stay on the one still shown
    }
  }

  async function refreshConversation() {
    const id = state.openId;
    if (!id) return;
    const gen = state.generation;
    try {
      const { data } = await api("GET", convPath(id));
      if (gen !== state.generation || state.openId !== id) return;
      showConversation(data, false);
    } catch (e) {
      if (gen !== state.generation || state.openId !== id) return;
      if (e.status === 404) {
        toast(((state.open && state.open.ticket) || "The conversation") + " is no longer yours.", "error");
        removeMine(id);
        closeConversation();
      }
    }
  }

  /** Shows a conversation; `fresh` when it was just opened (re-render, scroll down, focus). */
  function showConversation(conv, fresh) {
    if (fresh && state.openId !== conv.id) saveDraft();
    const switched = fresh || !state.open || state.open.id !== conv.id;
    state.openId = conv.id;
    state.open = conv;
    state.unread.delete(conv.id);
    els.convEmpty.hidden = true;
    els.convView.hidden = false;
    if (switched) showPane("conv");  // before the transcript: a hidden list cannot scroll down
    renderHeader(conv);
    renderEarlier(conv.earlier_tickets || []);
    renderTranscript(conv.transcript || [], switched);
    setComposer(conv, switched);
    renderMine();
    if (switched) {
      hideTransfer();
      loadCanned(conv);
      focusAfterOpen(conv);
    }
  }

  function focusAfterOpen(conv) {
    if (isMine(conv)) els.reply.focus();
    else els.transcript.focus();
  }

  function renderHeader(conv) {
    els.convTicket.textContent = conv.ticket || "No ticket";
    els.convUser.textContent = userLabel(conv);
    els.convPlatform.textContent = conv.platform;
    els.convPlatform.title = conv.chat_kind ? conv.chat_kind + " chat" : "";
    els.convLanguage.textContent = conv.language || "?";
    els.convLane.textContent = conv.lane || "—";
    els.convLane.className = "badge lane lane-" + known(conv.lane, LANES, "normal");
    els.convIntent.textContent = conv.intent || "—";
    els.convState.textContent = conv.state === "assigned" ? "with " + (conv.agent === state.me.name ? "you" : conv.agent) : conv.state;
  }

  function renderEarlier(tickets) {
    if (!tickets.length) {
      els.earlierTickets.replaceChildren(el("li", "earlier-none", "None"));
      return;
    }
    els.earlierTickets.replaceChildren(...tickets.map((t) => {
      const li = el("li", "earlier-item status-" + known(t.status, ["queued", "assigned", "resolved"], "other"));
      li.append(el("span", "ticket", t.id), el("span", "earlier-status", t.status));
      if (t.intent) li.append(el("span", "earlier-intent", t.intent));
      if (t.opened_at) li.append(el("span", "earlier-date", fmtDate(t.opened_at)));
      return li;
    }));
  }

  function senderKind(from) {
    if (from === "user" || from === "bot" || from === "system") return from;
    return String(from).startsWith("agent:") ? "agent" : "system";
  }

  function lineItem(line) {
    const kind = senderKind(line.from);
    const li = el("li", "line from-" + kind);
    li.dataset.key = line.at + "|" + line.from;
    const agentName = kind === "agent" ? String(line.from).slice(6) : "";
    if (kind === "agent" && agentName === state.me.name) li.classList.add("from-me");
    const who = { user: state.open ? userLabel(state.open) : "User", bot: "Bot", system: "System",
      agent: agentName === state.me.name ? "You" : agentName }[kind];
    const meta = el("div", "meta");
    const time = el("time", "at", fmtClock(line.at));
    time.dateTime = new Date(line.at * 1000).toISOString();
    meta.append(el("span", "who", who), time);
    const bubble = el("div", "bubble");
    bubble.append(el("div", "text", line.text));
    li.append(meta, bubble);
    if (kind === "user") {
      const tags = el("div", "tags");
      if (line.intent !== undefined || line.confidence !== undefined) {
        const conf = typeof line.confidence === "number" ? " · " + line.confidence.toFixed(2) : "";
        tags.append(el("span", "nlu", (line.intent || "unclear") + conf));
      }
      // The question asked within the intent ("two_factor_auth/enable" shows "enable").
      if (line.answer_id && line.answer_id.includes("/")) {
        tags.append(el("span", "answer-id", line.answer_id.split("/")[1].replace(/_/g, " ")));
      }
      if (line.language) tags.append(el("span", "lang", line.language));
      // What the message names: coin, network, amount, TXID, order and ticket ids.
      Object.entries(line.entities || {}).forEach(([kind, values]) => {
        (Array.isArray(values) ? values : []).forEach((value) => {
          const tag = el("span", "entity", kind.replace("_", " ") + ": " + String(value));
          tag.dataset.kind = kind;
          tags.append(tag);
        });
      });
      if (tags.childNodes.length) li.append(tags);
    }
    return li;
  }

  /** Appends only the new lines (so the live region announces just those); re-renders the
   *  whole list quietly on a switch or when the start no longer matches (trimmed log). */
  function renderTranscript(lines, switched) {
    const list = els.transcript;
    list.querySelectorAll(".pending").forEach((n) => n.remove());
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const shown = list.children.length;
    const last = list.lastElementChild;
    const continues = !switched && shown <= lines.length &&
      (shown === 0 || (last && last.dataset.key === lines[shown - 1].at + "|" + lines[shown - 1].from));
    if (continues) {
      for (let i = shown; i < lines.length; i += 1) list.append(lineItem(lines[i]));
    } else {
      list.setAttribute("aria-live", "off");  // do not read a whole transcript aloud on a switch
      list.replaceChildren(...lines.map(lineItem));
      setTimeout(() => list.setAttribute("aria-live", "polite"), 0);
    }
    if (switched || nearBottom) list.scrollTop = list.scrollHeight;
  }

  function setComposer(conv, switched) {
    const mine = isMine(conv);
    [els.reply, els.send, els.canned, els.resolve, els.transfer, els.release].forEach((b) => { b.disabled = !mine; });
    els.convReadonly.hidden = mine;
    if (!mine) {
      els.convReadonly.textContent = "Read only: this conversation is " +
        (conv.state === "assigned" ? "with " + conv.agent : conv.state) + ".";
    }
    if (switched) {
      els.reply.value = state.drafts.get(conv.id) || "";
      state.cannedBase = null;
      updateCount();
    }
  }

  function saveDraft() {
    if (state.openId && els.reply.value) state.drafts.set(state.openId, els.reply.value);
    else if (state.openId) state.drafts.delete(state.openId);
  }

  function closeConversation() {
    state.openId = null;
    state.open = null;
    els.convView.hidden = true;
    els.convEmpty.hidden = false;
    els.transcript.replaceChildren();
    els.reply.value = "";
    hideTransfer();
    showPane("side");
    renderMine();
  }

  /** On a phone only one pane shows: the list ("side") or the conversation ("conv"). */
  function showPane(which) {
    document.body.classList.toggle("view-conv", which === "conv");
  }

  function backToQueue() {
    saveDraft();
    showPane("side");
    const current = state.openId && els.mine.querySelector('[data-id="' + CSS.escape(state.openId) + '"]');
    (current || els.claimNext).focus();
  }

  // ---------- replying ----------

  function updateCount() {
    const n = els.reply.value.length;
    els.replyCount.textContent = n + " / " + MAX_REPLY;
    els.replyCount.classList.toggle("over", n > MAX_REPLY);
  }

  async function sendReply() {
    const conv = state.open;
    if (!conv || !isMine(conv) || els.send.disabled) return;
    const text = els.reply.value;
    if (!text.trim()) { toast("Write a reply first."); return; }
    if (text.length > MAX_REPLY) { toast("A reply is at most " + MAX_REPLY + " characters.", "error"); return; }
    els.send.disabled = true;
    // Shown at once (dimmed) and replaced by the server's line on the refetch below.
    const pending = lineItem({ at: Date.now() / 1000, from: "agent:" + state.me.name, text });
    pending.classList.add("pending");
    els.transcript.append(pending);
    els.transcript.scrollTop = els.transcript.scrollHeight;
    els.reply.value = "";
    state.cannedBase = null;
    state.drafts.delete(conv.id);
    updateCount();
    try {
      await api("POST", convPath(conv.id, "reply"), { text });
      await refreshConversation();
    } catch (e) {
      pending.remove();
      if (!els.reply.value) { els.reply.value = text; updateCount(); }  // give the text back
      toast(e.status === 409 ? "Not sent: this conversation is no longer yours." : "Not sent: " + e.message, "error");
      if (e.status === 409) { refreshMe(); refreshConversation(); }
    } finally {
      els.send.disabled = !isMine(state.open);
    }
  }

  function onReplyKey(ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      sendReply();
    } else if (ev.key === "Tab" && !ev.shiftKey && expandSlash()) {
      ev.preventDefault();
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      els.transcript.focus();  // out of the text box, so single-key shortcuts work again
    }
  }

  // ---------- canned answers ----------

  async function cannedFor(language) {
    if (state.canned.has(language)) return state.canned.get(language);
    try {
      const { data } = await api("GET", "/api/canned?language=" + encodeURIComponent(language));
      state.canned.set(language, data);
      return data;
    } catch (e) {
      if (language === "en") throw e;
      const fallback = await cannedFor("en");  // a language without canned answers: English ones
      state.canned.set(language, fallback);
      return fallback;
    }
  }

  async function loadCanned(conv) {
    els.canned.replaceChildren(new Option("Loading canned answers…", ""));
    try {
      const set = await cannedFor(conv.language || "en");
      if (state.openId !== conv.id) return;
      const first = new Option("Insert a canned answer (" + set.language + ")…", "");
      const options = Object.entries(set.canned || {}).map(([key, template]) => {
        const filled = fillCanned(template, conv);
        const option = new Option(key.replace(/_/g, " ") + " — " + filled.slice(0, 60) + (filled.length > 60 ? "…" : ""), key);
        option.title = filled;
        return option;
      });
      els.canned.replaceChildren(first, ...options);
    } catch (e) {
      if (state.openId === conv.id) els.canned.replaceChildren(new Option("Canned answers unavailable", ""));
    }
  }

  function currentCanned() {
    const set = state.open && state.canned.get(state.open.language || "en");
    return (set && set.canned) || {};
  }

  function fillCanned(template, conv) {
    return String(template).split("{name}").join(state.me.name).split("{ticket}").join(conv.ticket || "");
  }

  /** Puts a canned answer after what was typed. Arrowing through the closed <select> fires a
   *  change per step, so each pick replaces the previous pick instead of piling up. */
  function insertCanned(key) {
    const template = currentCanned()[key];
    if (template === undefined || !state.open) return;
    if (state.cannedBase === null) state.cannedBase = els.reply.value;
    const base = state.cannedBase;
    const glue = base && !/\s$/.test(base) ? "\n" : "";
    els.reply.value = base + glue + fillCanned(template, state.open);
    updateCount();
  }

  function commitCanned() {
    els.canned.value = "";
    state.cannedBase = null;
    state.cannedKeyNav = false;
    els.reply.focus();
    els.reply.setSelectionRange(els.reply.value.length, els.reply.value.length);
  }

  function onCannedChange() {
    if (!els.canned.value) return;
    insertCanned(els.canned.value);
    if (!state.cannedKeyNav) commitCanned();  // a pick with the mouse (or a test): done
  }

  function onCannedKey(ev) {
    if (ev.key === "Enter" || ev.key === "Escape") {
      ev.preventDefault();
      commitCanned();
    } else {
      state.cannedKeyNav = true;
    }
  }

  /** "/gre" + Tab in the reply box becomes the first canned answer whose name starts so. */
  function expandSlash() {
    const caret = els.reply.selectionStart;
    const before = els.reply.value.slice(0, caret);
    const match = before.match(/(^|\s)\/([\w-]*)$/);
    if (!match || !state.open) return false;
    const prefix = match[2].toLowerCase();
    const key = Object.keys(currentCanned()).find((k) => k.startsWith(prefix));
    if (!key) { toast("No canned answer starts with “" + prefix + "”."); return true; }
    const text = fillCanned(currentCanned()[key], state.open);
    const start = caret - prefix.length - 1;
    els.reply.setRangeText(text, start, caret, "end");
    updateCount();
    return true;
  }

  // ---------- resolve / release / transfer ----------

  async function finish(action, body, doneText) {
    const conv = state.open;
    if (!conv) return;
    [els.resolve, els.transfer, els.release].forEach((b) => { b.disabled = true; });
    try {
      await api("POST", convPath(conv.id, action), body);
      toast(doneText(conv.ticket || "The conversation"));
      removeMine(conv.id);
      closeConversation();
      els.claimNext.focus();
      scheduleRefresh({ me: true, queue: true, agents: isLead() });
      return true;
    } catch (e) {
      if (action === "transfer" && e.status === 400) {
        els.transferError.textContent = e.message;
      } else {
        toast(e.message, "error");
        if (e.status === 409) scheduleRefresh({ me: true, conv: true });
      }
      setComposer(state.open || conv, false);
      return false;
    }
  }

  function resolve() { finish("resolve", undefined, (t) => "Resolved " + t + ". The user is asked for a rating."); }

  function release() { finish("release", undefined, (t) => t + " handed back to the bot."); }

  function toggleTransfer() {
    if (els.transferForm.hidden) {
      els.transferForm.hidden = false;
      els.transfer.setAttribute("aria-expanded", "true");
      els.transferError.textContent = "";
      fillTransferOptions();
      els.transferTo.focus();
    } else {
      hideTransfer();
    }
  }

  function hideTransfer() {
    els.transferForm.hidden = true;
    els.transfer.setAttribute("aria-expanded", "false");
    els.transferTo.value = "";
    els.transferError.textContent = "";
  }

  function fillTransferOptions() {
    // Only leads may list the agents; for agents the field is free text (plus "queue").
    const names = state.agents.filter((a) => a.name !== state.me.name).map((a) => a.name);
    els.transferOptions.replaceChildren(...["queue"].concat(names).map((n) => new Option(n, n)));
  }

  function onTransferSubmit(ev) {
    ev.preventDefault();
    const to = els.transferTo.value.trim();
    if (!to) { els.transferError.textContent = "Type an agent's name, or queue."; return; }
    const toQueue = to.toLowerCase() === "queue";
    finish("transfer", toQueue ? { queue: true } : { agent: to },
      (t) => toQueue ? t + " is back in the queue." : t + " transferred to " + to + ".");
  }

  // ---------- leads: agents and SLA breaches ----------

  async function refreshAgents() {
    if (!isLead()) return;
    const gen = state.generation;
    try {
      const { data } = await api("GET", "/api/agents");
      if (gen !== state.generation) return;
      state.agents = data.agents || [];
      els.agentsError.hidden = true;
      renderAgents();
    } catch (e) {
      if (gen !== state.generation) return;
      els.agentsError.textContent = "Could not load the agents: " + e.message;
      els.agentsError.hidden = false;
    }
  }

  function renderAgents() {
    const rows = state.agents.slice().sort((a, b) => (b.on_shift - a.on_shift) || a.name.localeCompare(b.name));
    els.agentsBody.replaceChildren(...rows.map((a) => {
      const tr = el("tr", "agent-row" + (a.on_shift ? " on-shift" : " off-shift"));
      tr.dataset.name = a.name;
      const name = el("td", "agent-name", a.name);
      if (a.role === "lead") name.append(el("span", "badge role", "lead"));
      tr.append(name, el("td", "agent-langs", (a.languages || []).join(", ")),
        el("td", "agent-shift", a.on_shift ? "On" : "Off"),
        el("td", "num agent-load", String(a.conversations)));
      return tr;
    }));
    if (!rows.length) {
      const tr = el("tr");
      const td = el("td", "empty", "No agents");
      td.colSpan = 4;
      tr.append(td);
      els.agentsBody.append(tr);
    }
  }

  /** Breaches = queue items past their SLA now, plus sla_breached events seen this session. */
  function renderBreaches(force) {
    const elapsed = (performance.now() - state.queueAt) / 1000;
    const waiting = new Map(state.queue.filter((q) => q.sla_seconds > 0 && q.waited_seconds + elapsed >= q.sla_seconds)
      .map((q) => [q.id, q]));
    const ids = [...new Set([...waiting.keys(), ...[...state.breaches.keys()].reverse()])].slice(0, 50);
    const key = ids.join(",") + "|" + [...waiting.keys()].join(",");
    if (!force && key === state.breachKey) {
      // Same entries: just tick the waited times.
      for (const li of els.slaBreaches.children) {
        const q = waiting.get(li.dataset.id);
        if (q) li.querySelector(".breach-waited").textContent = fmtDuration(q.waited_seconds + elapsed);
      }
      return;
    }
    state.breachKey = key;
    els.slaBreaches.replaceChildren(...ids.map((id) => {
      const q = waiting.get(id);
      const ev = state.breaches.get(id) || {};
      const li = el("li", "breach" + (q ? " still-waiting" : ""));
      li.dataset.id = id;
      li.append(el("span", "ticket", (q && q.ticket) || ev.ticket || id),
        el("span", "badge lane lane-" + known((q && q.lane) || ev.lane, LANES, "normal"), (q && q.lane) || ev.lane || "?"),
        el("span", "badge lang", (q && q.language) || ev.language || "?"),
        el("span", "breach-waited", q ? fmtDuration(q.waited_seconds + elapsed)
          : "picked up" + (ev.at ? " · breached " + fmtClock(ev.at) : "")));
      li.title = q ? "Still waiting" : "No longer in the queue";
      return li;
    }));
    els.breachesEmpty.hidden = ids.length > 0;
    els.breachesCount.textContent = String(ids.length);
  }

  // ---------- leads: the week's report ----------

  const DASH = "–";  // a figure there is nothing to compute from (null, no data)

  function isNum(v) { return typeof v === "number" && Number.isFinite(v); }

  /** 0.8 -> "80%", 0.6667 -> "66.7%"; null -> "–". */
  function fmtPct(share) {
    if (!isNum(share)) return DASH;
    const n = Math.round(share * 1000) / 10;
    return (Number.isInteger(n) ? String(n) : n.toFixed(1)) + "%";
  }

  function fmtSeconds(seconds) { return isNum(seconds) ? fmtDuration(seconds) : DASH; }

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  /** A bar's fill: its width (or height) from a share, set through the CSSOM (the CSP allows it). */
  function fill(className, share, prop) {
    const node = el("span", className);
    node.style[prop || "width"] = (isNum(share) ? Math.max(0, Math.min(1, share)) * 100 : 0).toFixed(1) + "%";
    return node;
  }

  async function refreshReport() {
    if (!isLead() || state.reportLoading) return;
    const gen = state.generation;
    state.reportLoading = true;
    els.report.setAttribute("aria-busy", "true");
    els.reportRefresh.disabled = true;
    try {
      const { data } = await api("GET", "/api/reports?since=7d");
      if (gen !== state.generation) return;
      state.report = data || {};
      state.reportAt = Date.now();
      els.reportError.hidden = true;
      renderReport();
    } catch (e) {
      if (gen !== state.generation) return;
      els.reportError.textContent = "Could not load the report: " + e.message +
        (state.report ? " The figures below are from " + fmtClock(state.reportAt / 1000) + "." : "");
      els.reportError.hidden = false;
    } finally {
      if (gen === state.generation) {
        state.reportLoading = false;
        els.report.setAttribute("aria-busy", "false");
        els.reportRefresh.disabled = false;
      }
    }
  }

  function renderReport() {
    const r = state.report || {};
    const all = r.overall || {};
    els.reportPeriod.textContent = isNum(r.since) && isNum(r.until)
      ? fmtDate(r.since) + " – " + fmtDate(r.until) + " · updated " + fmtClock(r.until) : "";
    els.reportConversations.textContent = isNum(all.conversations) ? String(all.conversations) : DASH;
    els.reportMessages.textContent = isNum(all.messages) ? plural(all.messages, "message", "messages") : "";
    els.reportDeflection.textContent = fmtPct(all.deflection);
    els.reportHandoff.textContent = fmtPct(all.handoff_rate);
    els.reportTickets.textContent = isNum(all.tickets) ? plural(all.tickets, "ticket", "tickets") : "";
    els.reportFirstResponse.textContent = fmtSeconds(all.first_response_median_s);
    els.reportSla.textContent = fmtPct(all.sla_kept);
    els.reportCsat.textContent = isNum(all.csat) ? Number(all.csat.toFixed(1)) + "/5" : DASH;
    const ratings = isNum(all.ratings) ? all.ratings : 0;
    els.reportRatings.textContent = plural(ratings, "rating", "ratings") +
      (ratings && isNum(all.csat_satisfied) ? " · " + fmtPct(all.csat_satisfied) + " satisfied" : "");
    renderLanguages(r.by_language || {});
    renderIntents(Array.isArray(r.top_intents) ? r.top_intents : []);
    renderDays(r.messages_per_day || {}, r.since, r.until);
    renderUnanswered(Array.isArray(r.unanswered) ? r.unanswered : []);
  }

  /** One row per language: a deflected bar and a handed-off bar, each with its figure. */
  function renderLanguages(byLanguage) {
    const rows = Object.entries(byLanguage)
      .sort(([a, x], [b, y]) => ((y && y.conversations) || 0) - ((x && x.conversations) || 0) || a.localeCompare(b));
    els.reportLanguages.replaceChildren(...rows.map(([language, figures]) => {
      const f = figures || {};
      const li = el("li", "lang-row");
      li.dataset.language = language;
      const head = el("div", "lang-head");
      head.append(el("span", "badge lang", language),
        el("span", "lang-count", isNum(f.conversations) ? f.conversations + " conv." : ""));
      head.title = isNum(f.conversations) ? plural(f.conversations, "conversation", "conversations") : "";
      li.append(head, barLine("deflect", "deflected", language, f.deflection),
        barLine("handoff", "handed off", language, f.handoff_rate));
      return li;
    }));
    if (!rows.length) els.reportLanguages.append(el("li", "report-none", "No conversations in these 7 days"));
  }

  function barLine(kind, words, language, share) {
    const line = el("div", "bar-line bar-" + kind);
    const track = el("span", "track");
    track.setAttribute("role", "img");
    track.setAttribute("aria-label", language + ": " + (isNum(share) ? fmtPct(share) + " " + words : words + " not known"));
    track.append(fill("fill", share));
    const value = el("span", "bar-value", fmtPct(share));
    value.setAttribute("aria-hidden", "true");  // the bar's label says it already
    line.append(track, value);
    return line;
  }

  /** Top intents as horizontal bars, the longest being the most asked. */
  function renderIntents(pairs) {
    const rows = pairs.filter((p) => Array.isArray(p) && isNum(p[1]));
    const most = Math.max(1, ...rows.map((p) => p[1]));
    els.reportIntents.replaceChildren(...rows.map(([intent, count]) => {
      const li = el("li", "hbar");
      const track = el("span", "track");
      track.setAttribute("aria-hidden", "true");
      track.append(fill("fill", count / most));
      li.append(el("span", "hbar-name", intent || "(none)"), el("span", "hbar-count", String(count)), track);
      li.title = intent + ": " + plural(count, "message", "messages");
      return li;
    }));
    if (!rows.length) els.reportIntents.append(el("li", "report-none", DASH));
  }

  /** The UTC days ("YYYY-MM-DD", as the report keys them) from `since` to `until`. */
  function reportDays(perDay, since, until) {
    const keys = new Set(Object.keys(perDay));
    if (isNum(since) && isNum(until) && until - since <= 31 * 86400) {
      const day = new Date(Math.floor(since / 86400) * 86400 * 1000);
      for (; day.getTime() <= until * 1000; day.setUTCDate(day.getUTCDate() + 1)) keys.add(day.toISOString().slice(0, 10));
    }
    return [...keys].sort();
  }

  /** Messages per day: small vertical bars, stacked by platform. */
  function renderDays(perDay, since, until) {
    const days = reportDays(perDay, since, until);
    const counts = days.map((d) => Object.entries(perDay[d] || {}).filter(([, n]) => isNum(n) && n > 0));
    const totals = counts.map((c) => c.reduce((sum, [, n]) => sum + n, 0));
    const most = Math.max(1, ...totals);
    const platforms = new Set();
    els.reportDays.replaceChildren(...days.map((day, i) => {
      const date = new Date(day + "T00:00:00Z");
      const valid = !Number.isNaN(date.getTime());
      const weekday = valid ? date.toLocaleDateString(undefined, { weekday: "short", timeZone: "UTC" }) : "";
      const li = el("li", "day" + (totals[i] ? "" : " day-none"));
      const column = el("span", "day-bar");
      column.setAttribute("aria-hidden", "true");
      const stack = fill("day-stack", totals[i] / most, "height");
      for (const [platform, n] of counts[i].sort(([a], [b]) => a.localeCompare(b))) {
        platforms.add(platform);
        const segment = fill("seg platform-" + known(platform, PLATFORMS, "other"), n / totals[i], "height");
        segment.title = platform + ": " + n;
        stack.append(segment);
      }
      column.append(stack);
      const detail = counts[i].map(([p, n]) => p + " " + n).join(", ");
      const long = valid ? date.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }) : day;
      const sentence = long + ": " +
        plural(totals[i], "message", "messages") + (detail ? " (" + detail + ")" : "");
      const label = el("span", "day-label");
      label.append(el("span", "day-weekday", weekday), el("span", "day-date", valid ? String(date.getUTCDate()) : day));
      const count = el("span", "day-count", totals[i] ? String(totals[i]) : DASH);
      [count, label].forEach((node) => node.setAttribute("aria-hidden", "true"));
      li.append(count, column, label, el("span", "visually-hidden", sentence));  // read as one sentence
      li.title = sentence;
      return li;
    }));
    els.reportDaysLegend.replaceChildren(...[...platforms].sort().map((p) =>
      el("span", "key key-platform platform-" + known(p, PLATFORMS, "other"), p)));
  }

  /** What the bot asked users to rephrase most (redacted as stored, user text: textContent only). */
  function renderUnanswered(pairs) {
    const rows = pairs.filter((p) => Array.isArray(p)).slice(0, 5);
    els.reportUnanswered.replaceChildren(...rows.map(([text, count]) => {
      const li = el("li", "unanswered");
      li.append(el("span", "unanswered-text", text || "(empty)"), el("span", "hbar-count", "×" + count));
      return li;
    }));
    if (!rows.length) els.reportUnanswered.append(el("li", "report-none", "Nothing: every question got an answer"));
  }

  function clearReport() {
    [els.reportConversations, els.reportDeflection, els.reportHandoff, els.reportFirstResponse, els.reportSla,
      els.reportCsat].forEach((node) => { node.textContent = DASH; });
    [els.reportPeriod, els.reportMessages, els.reportTickets, els.reportRatings].forEach((node) => { node.textContent = ""; });
    [els.reportLanguages, els.reportIntents, els.reportDays, els.reportDaysLegend, els.reportUnanswered]
      .forEach((node) => node.replaceChildren());
    els.reportError.hidden = true;
    els.report.setAttribute("aria-busy", "false");
    els.reportRefresh.disabled = false;
  }

  // ---------- live updates: the event stream, refreshes and the poll ----------

  function setConnection(mode) {
    const text = { off: "Offline", connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" }[mode];
    els.connection.textContent = text;
    els.connection.className = "conn conn-" + mode;
    els.offlineBanner.hidden = mode !== "reconnecting";
  }

  /** EventSource cannot send an Authorization header, so the stream is read with fetch(). */
  async function connectEvents() {
    const gen = state.generation;
    const controller = new AbortController();
    state.stream = controller;
    if (state.attempt === 0) setConnection("connecting");
    try {
      const res = await fetch("/api/events", {
        cache: "no-store", signal: controller.signal, headers: { Authorization: "Bearer " + state.token },
      });
      if (res.status === 401) { if (gen === state.generation) sessionExpired(); return; }
      if (!res.ok || !res.body) throw new Error("event stream answered " + res.status);
      if (gen !== state.generation) return;
      setConnection("live");
      state.attempt = 0;
      // Events are not durable: whatever happened while we were away is fetched now.
      scheduleRefresh({ queue: true, me: true, conv: true, agents: isLead() });
      await readEvents(res.body, controller, gen);
    } catch (e) {
      /* a network error, a stall abort or a sign-out: decided below */
    }
    clearTimeout(state.timers.stall);
    if (gen !== state.generation) return;
    scheduleReconnect(gen);
  }

  function scheduleReconnect(gen) {
    const delay = BACKOFF_MS[Math.min(state.attempt, BACKOFF_MS.length - 1)];
    state.attempt += 1;
    setConnection("reconnecting");
    state.timers.retry = setTimeout(() => { if (gen === state.generation) connectEvents(); }, delay);
  }

  async function readEvents(body, controller, gen) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const armStall = () => {
      clearTimeout(state.timers.stall);
      state.timers.stall = setTimeout(() => controller.abort(), STALL_MS);
    };
    armStall();
    for (;;) {
      const { value, done } = await reader.read();
      if (done || gen !== state.generation) return;
      armStall();
      // The bot sends "\n" line ends; "\r\n" is folded too, as the SSE format allows it.
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const frame = parseFrame(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (frame) onEvent(frame.type, frame.data);
      }
    }
  }

  /** One SSE frame: "event:" and "data:" lines; lines starting with ":" are comments. */
  function parseFrame(frame) {
    let type = "message";
    const data = [];
    for (const line of frame.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") type = value;
      else if (field === "data") data.push(value);
    }
    if (!data.length) return null;
    try { return { type, data: JSON.parse(data.join("\n")) }; } catch (e) { return null; }
  }

  function onEvent(type, data) {
    const id = data && data.conversation;
    const flags = { queue: true, agents: isLead() };
    if (["claimed", "resolved", "released", "transferred"].includes(type)) flags.me = true;
    if (id && id === state.openId) flags.conv = true;
    if (type === "user_wrote" && id && id !== state.openId && state.mine.some((c) => c.id === id)) {
      state.unread.add(id);
      renderMine();
    }
    if (type === "sla_breached" && id) {
      state.breaches.delete(id);  // re-inserted last: the newest shows first
      state.breaches.set(id, data);
      if (isLead()) {
        toast("SLA breached: " + (data.ticket || id) + " (" + (data.lane || "?") + ", " + (data.language || "?") + ")", "error");
        renderBreaches(true);
      }
    }
    scheduleRefresh(flags);
  }

  /** Collects what needs refreshing and fetches it once, ~150 ms after the first request. */
  function scheduleRefresh(flags) {
    for (const [k, v] of Object.entries(flags)) if (v) state.pending[k] = true;
    if (state.timers.debounce) return;
    state.timers.debounce = setTimeout(() => {
      state.timers.debounce = null;
      const todo = state.pending;
      state.pending = {};
      if (!state.me) return;
      if (todo.queue) refreshQueue();
      if (todo.me) refreshMe();
      if (todo.conv) refreshConversation();
      if (todo.agents) refreshAgents();
    }, DEBOUNCE_MS);
  }

  function poll() {
    const live = els.connection.classList.contains("conn-live");
    scheduleRefresh({ queue: true, me: true, agents: isLead(), conv: !live });
  }

  // ---------- keyboard ----------

  function focusItem(list, id) {
    const li = list.querySelector('[data-id="' + CSS.escape(id) + '"]');
    if (li) li.focus();
  }

  function focusFirst(list) {
    const li = list.querySelector("li[tabindex]");
    if (!li) return false;
    showPane("side");
    li.focus();
    return true;
  }

  /** Arrow keys move within the queue / mine lists; Enter or Space activates the item. */
  function onListKey(ev, activate) {
    const li = ev.target.closest("li[tabindex]");
    if (!li) return;
    const items = [...ev.currentTarget.querySelectorAll("li[tabindex]")];
    const at = items.indexOf(li);
    const moves = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 };
    if (ev.key in moves) {
      ev.preventDefault();
      const next = items[Math.max(0, Math.min(items.length - 1, moves[ev.key]))];
      if (next) next.focus();
    } else if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      activate(li);
    }
  }

  function onGlobalKey(ev) {
    if (!state.me || ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (els.help.open) return;
    if (ev.key === "Escape" && !els.transferForm.hidden && (isTyping(ev.target) || els.transferForm.contains(ev.target))) {
      ev.preventDefault();
      hideTransfer();
      els.transfer.focus();
      return;
    }
    if (isTyping(ev.target)) return;
    const open = !!state.open;
    const actions = {
      n: claimNext,
      q: () => focusFirst(els.queue) || (showPane("side"), els.claimNext.focus()),
      m: () => focusFirst(els.mine),
      j: () => cycleMine(1),
      k: () => cycleMine(-1),
      r: () => { if (open && !els.reply.disabled) { showPane("conv"); els.reply.focus(); } },
      c: () => { if (open && !els.canned.disabled) { showPane("conv"); els.canned.focus(); } },
      "?": () => els.help.showModal(),
      Escape: () => { if (narrowQuery.matches && document.body.classList.contains("view-conv")) backToQueue(); },
    };
    const action = actions[ev.key.length === 1 ? ev.key.toLowerCase() : ev.key];
    if (!action) return;
    ev.preventDefault();
    action();
  }

  // ---------- wiring ----------

  function wire() {
    els.signin.addEventListener("submit", onSignIn);
    els.signout.addEventListener("click", () => signOut());
    els.claimNext.addEventListener("click", claimNext);
    els.queue.addEventListener("click", (ev) => { const li = ev.target.closest("li.queue-item"); if (li) claimItem(li); });
    els.queue.addEventListener("keydown", (ev) => onListKey(ev, claimItem));
    els.mine.addEventListener("click", (ev) => { const li = ev.target.closest("li.mine-item"); if (li) openConversation(li.dataset.id); });
    els.mine.addEventListener("keydown", (ev) => onListKey(ev, (li) => openConversation(li.dataset.id)));
    els.back.addEventListener("click", backToQueue);
    els.composer.addEventListener("submit", (ev) => { ev.preventDefault(); sendReply(); });
    els.reply.addEventListener("keydown", onReplyKey);
    els.reply.addEventListener("input", () => { state.cannedBase = null; updateCount(); });
    els.canned.addEventListener("change", onCannedChange);
    els.canned.addEventListener("keydown", onCannedKey);
    els.canned.addEventListener("pointerdown", () => { state.cannedKeyNav = false; });
    els.canned.addEventListener("blur", () => { els.canned.value = ""; state.cannedBase = null; state.cannedKeyNav = false; });
    els.resolve.addEventListener("click", resolve);
    els.release.addEventListener("click", release);
    els.transfer.addEventListener("click", toggleTransfer);
    els.transferForm.addEventListener("submit", onTransferSubmit);
    els.transferCancel.addEventListener("click", () => { hideTransfer(); els.transfer.focus(); });
    els.helpOpen.addEventListener("click", () => els.help.showModal());
    els.helpClose.addEventListener("click", () => els.help.close());
    els.reportRefresh.addEventListener("click", refreshReport);
    // Back to a tab left in the background (its timers are throttled): a stale report is fetched again.
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && isLead() && Date.now() - state.reportAt >= REPORT_MS) refreshReport();
    });
    document.addEventListener("keydown", onGlobalKey);
    // Widening the window while on the conversation pane: both columns show again anyway.
    narrowQuery.addEventListener("change", () => { if (!state.openId) showPane("side"); });
  }

  async function boot() {
    wire();
    els.signinSubmit.disabled = false;  // only now: a submit before this could not be intercepted
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      const ok = await trySession(saved);
      if (!ok) els.token.focus();
    } else {
      els.token.focus();
    }
  }

  boot();
})();
