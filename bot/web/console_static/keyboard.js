/* Keyboard shortcuts (the help dialog lists them): single keys when not typing in a field,
 * and arrow keys within the queue and my conversations. */

import { backToQueue, narrowQuery, openConversation, showPane } from "./conversation.js";
import { hideTransfer } from "./conversation-actions.js";
import { els, isTyping } from "./dom.js";
import { sortedMine } from "./mine.js";
import { claimItem, claimNext } from "./queue.js";
import { state } from "./state.js";

function focusFirst(list) {
  const li = list.querySelector("li[tabindex]");
  if (!li) return false;
  showPane("side");
  li.focus();
  return true;
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
  if (els.help.open || els.cannedDialog.open) return;
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

export function wireKeyboard() {
  els.queue.addEventListener("keydown", (ev) => onListKey(ev, claimItem));
  els.mine.addEventListener("keydown", (ev) => onListKey(ev, (li) => openConversation(li.dataset.id)));
  els.helpOpen.addEventListener("click", () => els.help.showModal());
  els.helpClose.addEventListener("click", () => els.help.close());
  document.addEventListener("keydown", onGlobalKey);
}
