/* The open conversation: opening and refreshing it, its header and earlier tickets, closing
 * it, and which pane shows on a phone. The transcript, the composer and the resolve /
 * transfer / release buttons have their own modules. */

import { loadAccountCard } from "./account-card.js";
import { api, convPath } from "./api.js";
import { loadCanned } from "./canned.js";
import { mayNote, saveDraft, setComposer, setMode } from "./composer.js";
import { hideTransfer } from "./conversation-actions.js";
import { el, els, known, LANES, toast } from "./dom.js";
import { fmtDate, userLabel } from "./format.js";
import { removeMine, renderMine } from "./mine.js";
import { isMine, state } from "./state.js";
import { renderTranscript } from "./transcript.js";

export const narrowQuery = window.matchMedia("(max-width: 759px)");

export async function openConversation(id) {
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

export async function refreshConversation() {
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
export function showConversation(conv, fresh) {
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
    loadAccountCard(conv.id);
    focusAfterOpen(conv);
  }
}

function focusAfterOpen(conv) {
  if (state.noteMode && mayNote(conv)) els.note.focus();
  else if (isMine(conv) && !state.noteMode) els.reply.focus();
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

export function closeConversation() {
  state.openId = null;
  state.open = null;
  els.convView.hidden = true;
  els.convEmpty.hidden = false;
  els.transcript.replaceChildren();
  els.reply.value = "";
  els.note.value = "";
  setMode(false);
  hideTransfer();
  showPane("side");
  renderMine();
}

/** On a phone only one pane shows: the list ("side") or the conversation ("conv"). */
export function showPane(which) {
  document.body.classList.toggle("view-conv", which === "conv");
}

export function backToQueue() {
  saveDraft();
  showPane("side");
  const current = state.openId && els.mine.querySelector('[data-id="' + CSS.escape(state.openId) + '"]');
  (current || els.claimNext).focus();
}

export function wireConversation() {
  els.mine.addEventListener("click", (ev) => { const li = ev.target.closest("li.mine-item"); if (li) openConversation(li.dataset.id); });
  els.back.addEventListener("click", backToQueue);
  // Widening the window while on the conversation pane: both columns show again anyway.
  narrowQuery.addEventListener("change", () => { if (!state.openId) showPane("side"); });
}
