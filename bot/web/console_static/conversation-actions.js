/* What ends my part in a conversation: resolve, hand back to the bot, or transfer (to an
 * agent by name, or back to the queue). */

import { api, convPath } from "./api.js";
import { setComposer } from "./composer.js";
import { closeConversation } from "./conversation.js";
import { els, toast } from "./dom.js";
import { removeMine } from "./mine.js";
import { scheduleRefresh } from "./refresh.js";
import { isLead, state } from "./state.js";

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

export function hideTransfer() {
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

export function wireConversationActions() {
  els.resolve.addEventListener("click", resolve);
  els.release.addEventListener("click", release);
  els.transfer.addEventListener("click", toggleTransfer);
  els.transferForm.addEventListener("submit", onTransferSubmit);
  els.transferCancel.addEventListener("click", () => { hideTransfer(); els.transfer.focus(); });
}
