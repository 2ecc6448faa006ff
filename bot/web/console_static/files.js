/* Files in the transcript, a user's (a line of its own) or those an agent attached to a reply
 * (under its text): a picture's thumbnail, a PDF's tile with its name; a click opens the file. Both are fetched with the agent's token (the files have no public
 * URL) and shown through object URLs: a picture in a new tab, a PDF downloaded. Thumbnails
 * are kept for the page's life (the most recent few), so a re-rendered transcript does not
 * fetch them again. */

import { bearer, tokenRevoked } from "./api.js";
import { el, toast } from "./dom.js";
import { state } from "./state.js";

const THUMBNAILS_KEPT = 60;
const thumbnails = new Map();  // file id -> Promise of an object URL (oldest first)

const filePath = (id, part) => "/api/files/" + encodeURIComponent(id) + (part ? "/" + part : "");

async function fetchBlob(path) {
  const res = await fetch(path, { cache: "no-store", headers: bearer(state.token) });
  if (res.status === 401 && state.token) tokenRevoked();
  if (!res.ok) throw new Error("the bot answered " + res.status);
  return res.blob();
}

function thumbnailUrl(id) {
  if (!thumbnails.has(id)) {
    const made = fetchBlob(filePath(id, "thumbnail")).then((blob) => URL.createObjectURL(blob));
    made.catch(() => thumbnails.delete(id));  // tried again on the next render
    thumbnails.set(id, made);
    if (thumbnails.size > THUMBNAILS_KEPT) {
      const [oldest, url] = thumbnails.entries().next().value;
      thumbnails.delete(oldest);
      url.then((u) => URL.revokeObjectURL(u), () => {});
    }
  }
  return thumbnails.get(id);
}

/** Opens the file: a picture in a new tab (opened at the click, so no pop-up blocker stops
 *  it, and given the picture once fetched), anything else (a PDF) downloaded by its name. */
async function openFile(file) {
  const isImage = String(file.media_type || "").startsWith("image/");
  const tab = isImage ? window.open("", "_blank") : null;
  try {
    const url = URL.createObjectURL(await fetchBlob(filePath(file.id)));
    if (tab) {
      tab.opener = null;
      tab.location.href = url;
    } else {
      const link = el("a");
      link.href = url;
      link.download = file.name;
      document.body.append(link);
      link.click();
      link.remove();
    }
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (e) {
    if (tab) tab.close();
    toast("The file could not be opened: " + e.message, "error");
  }
}

/** What a user's line with a file shows in its bubble (see `fileButton`). */
export function fileView(line) {
  const name = String(line.text || "").replace(/^\[(.*)\]$/, "$1") || "file";
  return fileButton({ id: line.file, name, media_type: line.media_type });
}

/** The files an agent attached to a reply (ids, named by the conversation's `files`; or the
 *  records of a reply being sent), each as `fileButton`. */
export function attachedView(files) {
  const known = new Map(((state.open && state.open.files) || []).map((f) => [f.id, f]));
  const box = el("div", "line-files");
  files.forEach((f) => box.append(fileButton(typeof f === "string" ? known.get(f) || { id: f, name: "file" } : f)));
  return box;
}

/** A button with the thumbnail (or the PDF tile) and the file's name, which opens the file
 *  ({id, name, media_type}). */
function fileButton(file) {
  const name = String(file.name || "file");
  const isImage = String(file.media_type || "").startsWith("image/");
  const button = el("button", "file-open" + (isImage ? " is-image" : " is-pdf"));
  button.type = "button";
  button.title = "Open " + name;
  button.setAttribute("aria-label", "Open the file " + name);
  if (isImage) {
    const img = el("img", "file-thumb");
    img.alt = name;
    thumbnailUrl(file.id).then((url) => { img.src = url; }, () => { img.alt = name + " (preview unavailable)"; });
    button.append(img);
  } else {
    button.append(el("span", "file-icon", "PDF"));
  }
  button.append(el("span", "file-name", name));
  button.addEventListener("click", () => openFile({ ...file, name }));
  return button;
}
