/* The reply box: enabled only on my own conversations, a draft per conversation, the
 * character count, and sending (shown at once, dimmed, until the bot confirms it). */

import { api, convPath } from "./api.js";
import { expandSlash } from "./canned.js";
import { refreshConversation } from "./conversation.js";
import { els, toast } from "./dom.js";
import { refreshMe } from "./mine.js";
import { isMine, state } from "./state.js";
import { lineItem } from "./transcript.js";

const MAX_REPLY = 4000;

/** Enables the composer and the actions on my conversations only; restores the draft on a switch. */
export function setComposer(conv, switched) {
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

export function saveDraft() {
  if (state.openId && els.reply.value) state.drafts.set(state.openId, els.reply.value);
  else if (state.openId) state.drafts.delete(state.openId);
}

export function updateCount() {
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

export function wireComposer() {
  els.composer.addEventListener("submit", (ev) => { ev.preventDefault(); sendReply(); });
  els.reply.addEventListener("keydown", onReplyKey);
  els.reply.addEventListener("input", () => { state.cannedBase = null; updateCount(); });
}
