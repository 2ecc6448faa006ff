/* Canned answers: my private ones ("Mine", listed first; only I see them) and the team's, per
 * language (English when a language has none), offered in the <select> and by "/name" + Tab in
 * the reply box, with {name} and {ticket} filled in. Mine are added and deleted in their
 * dialog ("Mine…"). */

import { api } from "./api.js";
import { updateCount } from "./composer.js";
import { el, els, toast } from "./dom.js";
import { state } from "./state.js";

const MINE = "mine:";  // the <select> value of one of mine; the team's are their plain keys

async function cannedFor(language) {
  if (state.canned.has(language)) return state.canned.get(language);
  try {
    const { data } = await api("GET", "/api/canned?language=" + encodeURIComponent(language));
    state.canned.set(language, data);
    state.cannedMine = data.mine || {};
    return data;
  } catch (e) {
    if (language === "en") throw e;
    const fallback = await cannedFor("en");  // a language without canned answers: English ones
    state.canned.set(language, fallback);
    return fallback;
  }
}

/** Fills the <select> with mine and the team's canned answers in the conversation's language. */
export async function loadCanned(conv) {
  els.canned.replaceChildren(new Option("Loading canned answers…", ""));
  try {
    const set = await cannedFor(conv.language || "en");
    if (state.openId !== conv.id) return;
    renderCanned(conv, set);
  } catch (e) {
    if (state.openId === conv.id) els.canned.replaceChildren(new Option("Canned answers unavailable", ""));
  }
}

function renderCanned(conv, set) {
  const first = new Option("Insert a canned answer (" + set.language + ")…", "");
  const groups = [];
  const mine = Object.entries(state.cannedMine);
  if (mine.length) groups.push(optionGroup("Mine", mine.map(([title, text]) => [MINE + title, title, text]), conv));
  const team = Object.entries(set.canned || {}).map(([key, text]) => [key, key.replace(/_/g, " "), text]);
  groups.push(optionGroup("Team (" + set.language + ")", team, conv));
  els.canned.replaceChildren(first, ...groups);
}

function optionGroup(label, entries, conv) {
  const group = document.createElement("optgroup");
  group.label = label;
  entries.forEach(([value, name, template]) => {
    const filled = fillCanned(template, conv);
    const option = new Option(name + " — " + filled.slice(0, 60) + (filled.length > 60 ? "…" : ""), value);
    option.title = filled;
    group.append(option);
  });
  return group;
}

/** The template a <select> value names: one of mine ("mine:<title>") or the team's. */
function templateOf(value) {
  if (value.startsWith(MINE)) return state.cannedMine[value.slice(MINE.length)];
  const set = state.open && state.canned.get(state.open.language || "en");
  return ((set && set.canned) || {})[value];
}

function fillCanned(template, conv) {
  return String(template).split("{name}").join(state.me.name).split("{ticket}").join(conv.ticket || "");
}

/** Puts a canned answer after what was typed. Arrowing through the closed <select> fires a
 *  change per step, so each pick replaces the previous pick instead of piling up. */
function insertCanned(value) {
  const template = templateOf(value);
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

/** "/gre" + Tab in the reply box becomes the first canned answer whose name starts so (mine first). */
export function expandSlash() {
  const caret = els.reply.selectionStart;
  const before = els.reply.value.slice(0, caret);
  const match = before.match(/(^|\s)\/([\w-]*)$/);
  if (!match || !state.open) return false;
  const prefix = match[2].toLowerCase();
  const set = state.canned.get(state.open.language || "en");
  const values = [...Object.keys(state.cannedMine).map((t) => MINE + t), ...Object.keys((set && set.canned) || {})];
  const value = values.find((v) => (v.startsWith(MINE) ? v.slice(MINE.length) : v).toLowerCase().startsWith(prefix));
  if (!value) { toast("No canned answer starts with “" + prefix + "”."); return true; }
  const text = fillCanned(templateOf(value), state.open);
  const start = caret - prefix.length - 1;
  els.reply.setRangeText(text, start, caret, "end");
  updateCount();
  return true;
}

// ---- my own canned answers: the dialog that lists, adds and deletes them ----

function renderMineList() {
  const items = Object.entries(state.cannedMine).map(([title, text]) => {
    const li = el("li", "canned-mine-item");
    const body = el("div", "canned-mine-body");
    body.append(el("span", "canned-mine-title", title), el("span", "canned-mine-text", text));
    const remove = el("button", "btn btn-ghost btn-small", "Delete");
    remove.type = "button";
    remove.dataset.title = title;
    remove.setAttribute("aria-label", "Delete " + title);
    li.append(body, remove);
    return li;
  });
  els.cannedMine.replaceChildren(...(items.length ? items : [el("li", "canned-mine-none", "None yet.")]));
}

/** Mine fetched again, and shown in the dialog and the open conversation's <select>. */
async function refreshMineCanned() {
  const { data } = await api("GET", "/api/canned/mine");
  state.cannedMine = data.mine || {};
  renderMineList();
  const set = state.open && state.canned.get(state.open.language || "en");
  if (set) renderCanned(state.open, set);
}

async function openMineDialog() {
  els.cannedError.textContent = "";
  renderMineList();
  els.cannedDialog.showModal();
  els.cannedTitle.focus();
  try { await refreshMineCanned(); } catch (e) { els.cannedError.textContent = e.message; }
}

async function onSaveMine(ev) {
  ev.preventDefault();
  const title = els.cannedTitle.value.trim();
  const text = els.cannedText.value;
  if (!title || !text.trim()) { els.cannedError.textContent = "Give it a title and a text."; return; }
  els.cannedError.textContent = "";
  try {
    await api("PUT", "/api/canned/mine/" + encodeURIComponent(title), { text });
    els.cannedTitle.value = "";
    els.cannedText.value = "";
    await refreshMineCanned();
    toast("Saved “" + title + "” among your canned answers.");
  } catch (e) {
    els.cannedError.textContent = e.message;
  }
}

async function onDeleteMine(ev) {
  const button = ev.target.closest("button[data-title]");
  if (!button) return;
  try {
    await api("DELETE", "/api/canned/mine/" + encodeURIComponent(button.dataset.title));
    await refreshMineCanned();
  } catch (e) {
    els.cannedError.textContent = e.message;
  }
}

export function wireCanned() {
  els.canned.addEventListener("change", onCannedChange);
  els.canned.addEventListener("keydown", onCannedKey);
  els.canned.addEventListener("pointerdown", () => { state.cannedKeyNav = false; });
  els.canned.addEventListener("blur", () => { els.canned.value = ""; state.cannedBase = null; state.cannedKeyNav = false; });
  els.cannedManage.addEventListener("click", openMineDialog);
  els.cannedAdd.addEventListener("submit", onSaveMine);
  els.cannedMine.addEventListener("click", onDeleteMine);
  els.cannedClose.addEventListener("click", () => els.cannedDialog.close());
}
