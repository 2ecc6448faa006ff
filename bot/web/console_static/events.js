/* Live updates: the bot's event stream (server-sent events, read with fetch), reconnecting
 * with a backoff, and what each event asks to refresh. */

import { bearer, tokenRevoked } from "./api.js";
import { els, toast } from "./dom.js";
import { addMention } from "./mentions.js";
import { renderMine } from "./mine.js";
import { scheduleRefresh } from "./refresh.js";
import { isLead, state } from "./state.js";
import { renderBreaches } from "./team.js";

const STALL_MS = 40000;     // keep-alives come every 15 s: this much silence is a dead stream
const BACKOFF_MS = [1000, 2000, 4000, 8000, 10000];

export function setConnection(mode) {
  const text = { off: "Offline", connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" }[mode];
  els.connection.textContent = text;
  els.connection.className = "conn conn-" + mode;
  els.offlineBanner.hidden = mode !== "reconnecting";
}

/** EventSource cannot send an Authorization header, so the stream is read with fetch(). */
export async function connectEvents() {
  const gen = state.generation;
  const controller = new AbortController();
  state.stream = controller;
  if (state.attempt === 0) setConnection("connecting");
  try {
    const res = await fetch("/api/events", { cache: "no-store", signal: controller.signal, headers: bearer(state.token) });
    if (res.status === 401) { if (gen === state.generation) tokenRevoked(); return; }
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
  if (type === "claimed" && data.how === "offered" && data.agent === state.me.name) {
    toast("Offered to you: " + (data.ticket || id) + ". Accept it in My conversations.");
  }
  if (type === "offer_lapsed" && data.agent === state.me.name) {
    toast((data.ticket || id) + " went to the next agent: not accepted in time.", "error");
  }
  if (type === "overflowed" && isLead()) {
    toast((data.ticket || id) + " overflowed from " + data.overflowed_from + " to " + data.team + ": no one available.", "error");
  }
  if (["offer_lapsed", "accepted"].includes(type)) flags.me = true;
  // Leads see every mention; only the mentioned agent is told of one.
  if (type === "mentioned" && id && state.me && data.agent === state.me.name) addMention(data);
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
