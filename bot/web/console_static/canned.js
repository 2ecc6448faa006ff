/* Canned answers: fetched per language (English when a language has none), offered in the
 * <select> and by "/name" + Tab in the reply box, with {name} and {ticket} filled in. */

import { api } from "./api.js";
import { updateCount } from "./composer.js";
import { els, toast } from "./dom.js";
import { state } from "./state.js";

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

/** Fills the <select> with the canned answers in the conversation's language. */
export async function loadCanned(conv) {
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
export function expandSlash() {
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

export function wireCanned() {
  els.canned.addEventListener("change", onCannedChange);
  els.canned.addEventListener("keydown", onCannedKey);
  els.canned.addEventListener("pointerdown", () => { state.cannedKeyNav = false; });
  els.canned.addEventListener("blur", () => { els.canned.value = ""; state.cannedBase = null; state.cannedKeyNav = false; });
}
