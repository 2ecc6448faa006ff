/* The transcript: one list item per line, with who wrote it, when, and (for the user's lines)
 * what the bot understood; agents' internal notes (never sent to the user) stand apart, in
 * yellow; a file the user sent shows as its thumbnail or a PDF tile (files.js), and so do
 * those an agent attached, under the reply's text. User text is set with textContent only. */

import { el, els } from "./dom.js";
import { attachedView, fileView } from "./files.js";
import { fmtClock, userLabel } from "./format.js";
import { state } from "./state.js";

function senderKind(from) {
  if (from === "user" || from === "bot" || from === "system" || from === "note") return from;
  return String(from).startsWith("agent:") ? "agent" : "system";
}

/** Who wrote a line, as the transcript says it. */
function whoSaid(kind, line) {
  const agentName = kind === "agent" ? String(line.from).slice(6) : "";
  if (kind === "note") return "Internal note by " + (line.agent === state.me.name ? "you" : String(line.agent || "?"));
  return { user: state.open ? userLabel(state.open) : "User", bot: "Bot", system: "System",
    agent: agentName === state.me.name ? "You" : agentName }[kind];
}

/** One transcript line ({at, from, text, intent, confidence, answer_id, language, entities;
 *  file and media_type for a user's file; files, an agent's reply's file ids}). */
export function lineItem(line) {
  const kind = senderKind(line.from);
  const li = el("li", "line from-" + kind);
  li.dataset.key = line.at + "|" + line.from;
  if (kind === "agent" && String(line.from).slice(6) === state.me.name) li.classList.add("from-me");
  const meta = el("div", "meta");
  const time = el("time", "at", fmtClock(line.at));
  time.dateTime = new Date(line.at * 1000).toISOString();
  meta.append(el("span", "who", whoSaid(kind, line)), time);
  const bubble = el("div", "bubble");
  if (kind === "note") bubble.append(el("div", "note-label", "Only agents see this"));
  const files = Array.isArray(line.files) ? line.files : [];
  if (line.file) bubble.append(fileView(line));
  else if (line.text || !files.length) bubble.append(el("div", "text", line.text));
  if (files.length) bubble.append(attachedView(files));
  li.append(meta, bubble);
  if (kind === "note" && Array.isArray(line.mentions) && line.mentions.length) {
    const tags = el("div", "tags");
    line.mentions.forEach((name) => tags.append(el("span", "mentioned", "@" + String(name))));
    li.append(tags);
  }
  if (kind === "user") {
    const tags = understoodTags(line);
    if (tags.childNodes.length) li.append(tags);
  }
  return li;
}

/** What the bot made of a user's line: intent and confidence, the question, language, entities. */
function understoodTags(line) {
  const tags = el("div", "tags");
  if (line.intent !== undefined || line.confidence !== undefined) {
    const conf = typeof line.confidence === "number" ? " · " + line.confidence.toFixed(2) : "";
    tags.append(el("span", "nlu", (line.intent || "unclear") + conf));
  }
  // The question asked within the intent ("two_factor_auth/enable" shows "enable").
  if (line.answer_id && line.answer_id.includes("/")) {
    tags.append(el("span", "answer-id", line.answer_id.split("/")[1].replace(/_/g, " ")));
  }
  if (line.language) tags.append(el("span", "lang", line.language));
  // What the message names: coin, network, amount, TXID, order and ticket ids.
  Object.entries(line.entities || {}).forEach(([kind, values]) => {
    (Array.isArray(values) ? values : []).forEach((value) => {
      const tag = el("span", "entity", kind.replace("_", " ") + ": " + String(value));
      tag.dataset.kind = kind;
      tags.append(tag);
    });
  });
  return tags;
}

/** Appends only the new lines (so the live region announces just those); re-renders the
 *  whole list quietly on a switch or when the start no longer matches (trimmed log). */
export function renderTranscript(lines, switched) {
  const list = els.transcript;
  list.querySelectorAll(".pending").forEach((n) => n.remove());
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const shown = list.children.length;
  const last = list.lastElementChild;
  const continues = !switched && shown <= lines.length &&
    (shown === 0 || (last && last.dataset.key === lines[shown - 1].at + "|" + lines[shown - 1].from));
  if (continues) {
    for (let i = shown; i < lines.length; i += 1) list.append(lineItem(lines[i]));
  } else {
    list.setAttribute("aria-live", "off");  // do not read a whole transcript aloud on a switch
    list.replaceChildren(...lines.map(lineItem));
    setTimeout(() => list.setAttribute("aria-live", "polite"), 0);
  }
  if (switched || nearBottom) list.scrollTop = list.scrollHeight;
}
