/* Files the agent attaches to a reply: the paperclip in the composer picks them; each is
 * uploaded at once (POST /api/conversations/{id}/files: the server checks it as it checks a
 * user's file) and shown as a chip above the reply box, with × to take it off; a refused one
 * says the server's reason. Send (composer.js) names the uploaded ones in the reply's "files".
 * Kept per conversation, like the drafts: a file belongs to the conversation it went to. */

import { ApiError, bearer, convPath, tokenRevoked } from "./api.js";
import { el, els, toast } from "./dom.js";
import { state } from "./state.js";

const MAX_FILES = 5;  // what one reply takes (the API's limit)
const attached = new Map();  // conversation id -> [{name, uploading} + the file's record once uploaded]

/** The files ready for the reply to `cid` (their records), or null while one still uploads. */
export function attachedFiles(cid) {
  const list = attached.get(cid) || [];
  return list.some((f) => f.uploading) ? null : list.slice();
}

/** The reply to `cid` takes `files` (none: empty). */
export function setAttachments(cid, files) {
  if (files.length) attached.set(cid, files.slice());
  else attached.delete(cid);
  if (cid === state.openId) renderAttachments();
}

/** The files of a reply that was not sent, back before any attached since. */
export function giveBack(cid, files) {
  setAttachments(cid, [...files, ...(attached.get(cid) || [])].slice(0, MAX_FILES));
}

/** The chips of the open conversation's attached files. */
export function renderAttachments() {
  const list = attached.get(state.openId) || [];
  els.attachments.hidden = !list.length;
  els.attachments.replaceChildren(...list.map((file) => chip(state.openId, file)));
}

function chip(cid, file) {
  const li = el("li", "chip" + (file.uploading ? " uploading" : ""));
  li.append(el("span", "chip-name", file.name));
  if (file.uploading) li.append(el("span", "chip-state", "uploading…"));
  const remove = el("button", "chip-remove", "×");
  remove.type = "button";
  remove.setAttribute("aria-label", "Remove " + file.name);
  remove.title = "Remove";
  remove.addEventListener("click", () => {
    setAttachments(cid, (attached.get(cid) || []).filter((f) => f !== file));
    els.reply.focus();
  });
  li.append(remove);
  return li;
}

/** The file, uploaded to the conversation; its record ({id, name, media_type, ...}). */
async function upload(cid, file, name) {
  let res;
  try {
    res = await fetch(convPath(cid, "files") + "?name=" + encodeURIComponent(name), {
      method: "POST", cache: "no-store", body: file,
      headers: { ...bearer(state.token), "Content-Type": file.type || "application/octet-stream" },
    });
  } catch (e) {
    throw new ApiError(0, "network", "Cannot reach the bot. Check your connection.");
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.ok) return data;
  if (res.status === 401 && state.token) tokenRevoked();
  throw new ApiError(res.status, (data && data.error) || "http_" + res.status,
    (data && data.message) || "The bot answered with an error (" + res.status + ").");
}

async function attach(file) {
  const cid = state.openId;
  const list = attached.get(cid) || [];
  if (!cid || list.length >= MAX_FILES) {
    toast("A reply takes at most " + MAX_FILES + " files.", "error");
    return;
  }
  const entry = { name: file.name || "file", uploading: true };
  setAttachments(cid, [...list, entry]);
  try {
    Object.assign(entry, await upload(cid, file, entry.name), { uploading: false });
  } catch (e) {
    setAttachments(cid, (attached.get(cid) || []).filter((f) => f !== entry));
    toast("Not attached: " + entry.name + ": " + e.message, "error");
    return;
  }
  if (cid === state.openId) renderAttachments();
}

export function wireAttachments() {
  els.attach.addEventListener("click", () => els.attachFile.click());
  els.attachFile.addEventListener("change", () => {
    Array.from(els.attachFile.files).forEach(attach);
    els.attachFile.value = "";  // the same file may be picked again
  });
}
