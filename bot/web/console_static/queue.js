/* The queue: who is waiting, their waited time and SLA colour ticking every second, and
 * claiming (the next one, or one picked from the list). */

import { api } from "./api.js";
import { showConversation } from "./conversation.js";
import { el, els, focusItem, known, LANES, PLATFORMS, toast } from "./dom.js";
import { fmtDuration } from "./format.js";
import { upsertMine } from "./mine.js";
import { scheduleRefresh } from "./refresh.js";
import { isLead, state } from "./state.js";
import { renderBreaches } from "./team.js";

export async function refreshQueue() {
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
  if (item.team) who.append(el("span", "badge team", item.team));
  if (item.overflowed_from) who.append(el("span", "badge overflowed", "from " + item.overflowed_from));
  if (item.user_name) who.append(el("span", "user-name", item.user_name));
  if (item.intent) who.append(el("span", "intent", item.intent));
  const bar = el("div", "sla-bar");
  bar.append(el("span", "sla-fill"));
  li.append(top, el("p", "first-message", item.first_message || "(no message)"), who, bar);
  return li;
}

/** Every second: waited times and SLA colours tick client-side from the fetched values. */
export function tick() {
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

export async function claimNext() {
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
    else if (e.code === "at_capacity") toast("You hold your maximum of open conversations: resolve one first.", "error");
    else toast(e.message, "error");
  } finally {
    state.claiming = false;
    els.claimNext.removeAttribute("aria-busy");
    scheduleRefresh({ queue: true });
  }
}

export function claimItem(li) {
  const item = state.queue.find((q) => q.id === li.dataset.id);
  claim({ conversation: li.dataset.id }, item || null);
}

export function wireQueue() {
  els.claimNext.addEventListener("click", claimNext);
  els.queue.addEventListener("click", (ev) => { const li = ev.target.closest("li.queue-item"); if (li) claimItem(li); });
}
