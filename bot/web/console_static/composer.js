/* The composer: a reply to the user, or an internal note for agents (the "Internal note" mode,
 * a box of its own, so that what was written as a note is never sent as a reply). A reply is
 * enabled only on my own conversations, a note also on one I owned last (or any, for a lead).
 * A draft of each per conversation, the character count, and sending (shown at once, dimmed,
 * until the bot confirms it), with the files attached to a reply (attachments.js). */

import { api, convPath } from "./api.js";
import { attachedFiles, giveBack, renderAttachments, setAttachments, wireAttachments } from "./attachments.js";
import { expandSlash } from "./canned.js";
import { refreshConversation } from "./conversation.js";
import { els, toast } from "./dom.js";
import { refreshMe } from "./mine.js";
import { isLead, isMine, state } from "./state.js";
import { lineItem } from "./transcript.js";

const MAX_REPLY = 4000;
const MAX_NOTE = 4000;

/** Whether I may add a note to `conv`: mine now or last, or any for a lead (as the API says). */
export function mayNote(conv) {
  return !!conv && (isMine(conv) || isLead() || conv.last_agent === state.me.name);
}

const box = () => (state.noteMode ? els.note : els.reply);

/** Enables the composer and the actions on my conversations only; restores the drafts on a switch. */
export function setComposer(conv, switched) {
  const mine = isMine(conv);
  const noting = mayNote(conv);
  [els.reply, els.resolve, els.transfer, els.release].forEach((b) => { b.disabled = !mine; });
  els.canned.disabled = !mine || state.noteMode;  // canned answers and files are for replies
  els.attach.disabled = !mine || state.noteMode;
  els.note.disabled = !noting;
  els.modeNote.disabled = !noting;
  if (state.noteMode && !noting) setMode(false);
  els.send.disabled = state.noteMode ? !noting : !mine;
  els.convReadonly.hidden = mine;
  if (!mine) {
    els.convReadonly.textContent = "Read only: this conversation is " +
      (conv.state === "assigned" ? "with " + conv.agent : conv.state) + "." +
      (noting ? " You can still add an internal note." : "");
  }
  if (switched) {
    els.reply.value = state.drafts.get(conv.id) || "";
    els.note.value = state.noteDrafts.get(conv.id) || "";
    state.cannedBase = null;
    updateCount();
    renderAttachments();
  }
}

/** The composer writes a note (`note` true) or a reply. */
export function setMode(note) {
  state.noteMode = !!note;
  els.composer.classList.toggle("note-mode", state.noteMode);
  els.modeReply.setAttribute("aria-checked", String(!state.noteMode));
  els.modeNote.setAttribute("aria-checked", String(state.noteMode));
  els.reply.hidden = state.noteMode;
  els.note.hidden = !state.noteMode;
  els.replyHint.hidden = state.noteMode;
  els.noteHint.hidden = !state.noteMode;
  els.canned.disabled = state.noteMode || !isMine(state.open);
  els.attach.disabled = els.canned.disabled;
  els.send.textContent = state.noteMode ? "Add note" : "Send";
  els.send.disabled = state.noteMode ? !mayNote(state.open) : !isMine(state.open);
  updateCount();
}

export function saveDraft() {
  if (!state.openId) return;
  [[els.reply, state.drafts], [els.note, state.noteDrafts]].forEach(([field, drafts]) => {
    if (field.value) drafts.set(state.openId, field.value);
    else drafts.delete(state.openId);
  });
}

export function updateCount() {
  const n = box().value.length;
  const max = state.noteMode ? MAX_NOTE : MAX_REPLY;
  els.replyCount.textContent = n + " / " + max;
  els.replyCount.classList.toggle("over", n > max);
}

/** Sends what the composer holds: the reply (with its files), or the note. */
async function send() {
  const conv = state.open;
  const note = state.noteMode;
  if (!conv || els.send.disabled || !(note ? mayNote(conv) : isMine(conv))) return;
  const field = note ? els.note : els.reply;
  const text = field.value;
  const max = note ? MAX_NOTE : MAX_REPLY;
  const files = note ? [] : attachedFiles(conv.id);
  if (files === null) { toast("Wait until the file is uploaded.", "error"); return; }
  if (!text.trim() && !files.length) { toast(note ? "Write a note first." : "Write a reply first."); return; }
  if (text.length > max) { toast((note ? "A note" : "A reply") + " is at most " + max + " characters.", "error"); return; }
  els.send.disabled = true;
  // Shown at once (dimmed) and replaced by the server's line on the refetch below.
  const pending = lineItem(note ? { at: Date.now() / 1000, from: "note", agent: state.me.name, text }
    : { at: Date.now() / 1000, from: "agent:" + state.me.name, text, files });
  pending.classList.add("pending");
  els.transcript.append(pending);
  els.transcript.scrollTop = els.transcript.scrollHeight;
  field.value = "";
  state.cannedBase = null;
  (note ? state.noteDrafts : state.drafts).delete(conv.id);
  if (files.length) setAttachments(conv.id, []);
  updateCount();
  const body = files.length ? { text, files: files.map((f) => f.id) } : { text };
  try {
    const { data } = await api("POST", convPath(conv.id, note ? "notes" : "reply"), body);
    if (note && data && data.mentioned && data.mentioned.length) toast("Note added; told " + data.mentioned.join(", ") + ".");
    await refreshConversation();
  } catch (e) {
    pending.remove();
    if (!field.value) { field.value = text; updateCount(); }  // give the text back
    if (files.length) giveBack(conv.id, files);  // and the files
    const what = note ? "Note not added: " : "Not sent: ";
    toast(e.status === 409 || e.status === 404 ? what + "this conversation is no longer yours." : what + e.message, "error");
    if (e.status === 409) { refreshMe(); refreshConversation(); }
  } finally {
    els.send.disabled = state.noteMode ? !mayNote(state.open) : !isMine(state.open);
  }
}

function onKey(ev) {
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
    ev.preventDefault();
    send();
  } else if (ev.key === "Tab" && !ev.shiftKey && ev.target === els.reply && expandSlash()) {
    ev.preventDefault();
  } else if (ev.key === "Escape") {
    ev.preventDefault();
    els.transcript.focus();  // out of the text box, so single-key shortcuts work again
  }
}

export function wireComposer() {
  wireAttachments();
  els.composer.addEventListener("submit", (ev) => { ev.preventDefault(); send(); });
  els.reply.addEventListener("keydown", onKey);
  els.note.addEventListener("keydown", onKey);
  els.reply.addEventListener("input", () => { state.cannedBase = null; updateCount(); });
  els.note.addEventListener("input", updateCount);
  els.modeReply.addEventListener("click", () => { setMode(false); if (!els.reply.disabled) els.reply.focus(); });
  els.modeNote.addEventListener("click", () => { setMode(true); if (!els.note.disabled) els.note.focus(); });
}
