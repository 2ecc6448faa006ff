/* My conversations: the list, what is unread in it, and the tab title's unread count. */

import { api } from "./api.js";
import { el, els, focusItem, known, LANES, toast } from "./dom.js";
import { userLabel } from "./format.js";
import { scheduleRefresh } from "./refresh.js";
import { state } from "./state.js";

export async function refreshMe() {
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

export function upsertMine(conv) {
  const summary = Object.assign({}, conv);
  delete summary.transcript;
  delete summary.earlier_tickets;
  state.mine = state.mine.filter((c) => c.id !== conv.id).concat([summary]);
  renderMine();
}

export function removeMine(id) {
  state.mine = state.mine.filter((c) => c.id !== id);
  state.unread.delete(id);
  state.drafts.delete(id);
  renderMine();
}

/** Mine in the order they were claimed (the list's order, and J/K's). */
export function sortedMine() {
  return state.mine.slice().sort((a, b) => (a.claimed_at || 0) - (b.claimed_at || 0));
}

export function renderMine() {
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
  if (conv.team) meta.append(el("span", "badge team", conv.team));
  li.append(top, meta);
  if (conv.offered) {  // auto-assigned: the agent accepts it, or it goes to the next agent
    li.classList.add("is-offered");
    const accept = el("button", "btn btn-primary btn-small accept", "Accept");
    accept.type = "button";
    accept.dataset.accept = conv.id;
    li.append(el("span", "badge offered", "offered to you"), accept);
  }
  return li;
}

async function accept(id) {
  try {
    await api("POST", "/api/conversations/" + encodeURIComponent(id) + "/accept");
    const conv = state.mine.find((c) => c.id === id);
    if (conv) conv.offered = false;
    toast("Accepted " + ((conv && conv.ticket) || "the conversation"));
    renderMine();
  } catch (e) {
    toast(e.message, "error");
    scheduleRefresh({ me: true });
  }
}

/** The Accept buttons of offered conversations (a click on one does not open the chat). */
export function wireMine() {
  els.mine.addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-accept]");
    if (!button) return;
    ev.stopPropagation();
    accept(button.dataset.accept);
  }, true);
}
