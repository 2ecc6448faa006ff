/* The user's exchange account, beside the conversation: masked UID, verification, VIP tier,
 * restrictions and the latest deposits and withdrawals, read from the exchange's back office
 * when a conversation opens and again on Refresh; and "Freeze account", which asks once more
 * before it freezes the account there (every read and freeze is in the audit trail). */

import { api, convPath } from "./api.js";
import { refreshConversation } from "./conversation.js";
import { el, els, toast } from "./dom.js";
import { state } from "./state.js";

export function wireAccountCard() {
  els.accountRefresh.addEventListener("click", () => { if (state.openId) loadAccountCard(state.openId); });
  els.accountFreeze.addEventListener("click", () => {
    els.accountFreeze.hidden = true;
    els.accountFreezeConfirm.hidden = false;
    els.accountFreezeConfirm.focus();
  });
  els.accountFreezeConfirm.addEventListener("click", freeze);
}

async function freeze() {
  const id = state.openId;
  els.accountFreezeConfirm.disabled = true;
  try {
    const { data } = await api("POST", convPath(id, "account/freeze"), { reason: "frozen from the console" });
    toast(data.already ? "The account was already frozen." : "The account is frozen.");
  } catch (e) {
    toast(e.message, "error");
  } finally {
    els.accountFreezeConfirm.disabled = false;
  }
  if (state.openId === id) {
    loadAccountCard(id);
    refreshConversation();  // the transcript's note of the freeze
  }
}

/** Reads and shows the account card of conversation `id`. */
export async function loadAccountCard(id) {
  els.accountCard.hidden = false;
  els.accountFreeze.hidden = true;
  els.accountFreezeConfirm.hidden = true;
  els.accountBody.replaceChildren(el("p", "muted", "Reading the account…"));
  let card;
  try {
    ({ data: card } = await api("GET", convPath(id, "account")));
  } catch (e) {
    card = { error: e.message };
  }
  if (state.openId !== id) return;
  els.accountBody.replaceChildren(...render(card));
  els.accountFreeze.hidden = !(card.linked && card.available);
}

function render(card) {
  if (card.error) return [el("p", "form-error", card.error)];
  if (!card.linked) return [el("p", "muted", "The user has not linked an exchange account.")];
  if (!card.available) return [el("p", "form-error", "The exchange's back office cannot be read right now.")];
  const facts = el("dl", "account-facts");
  const kyc = card.kyc.level + ", " + card.kyc.status + (card.kyc.last_rejection_reason ? " (" + card.kyc.last_rejection_reason + ")" : "");
  for (const [name, value] of [["UID", card.uid_masked], ["KYC", kyc], ["VIP tier", card.vip_tier],
                               ["Locked", card.locked ? "yes" : "no"]]) {
    facts.append(el("dt", "", name), el("dd", name === "Locked" && card.locked ? "account-locked" : "", value));
  }
  const parts = [facts];
  if (card.restrictions.length) {
    parts.push(list("Restrictions", card.restrictions.map((r) => r.code + ": " + r.reason)));
  }
  parts.push(list("Deposits", card.deposits.map((d) => d.amount + " " + d.coin + " (" + d.network + ") " + d.status
    + (d.status === "confirming" ? " " + d.confirmations + "/" + d.required_confirmations : "")
    + (d.reason ? ": " + d.reason : ""))));
  parts.push(list("Withdrawals", card.withdrawals.map((w) => w.amount + " " + w.coin + " (" + w.network + ") "
    + w.status + (w.reason ? ": " + w.reason : "") + (w.txid ? " · " + w.txid : ""))));
  return parts;
}

function list(title, items) {
  const box = el("div", "account-list");
  const ul = el("ul", "");
  (items.length ? items : ["none"]).forEach((text) => ul.append(el("li", "", text)));
  box.append(el("span", "earlier-label", title), ul);
  return box;
}
