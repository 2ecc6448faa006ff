"""Account-aware support: a chat user links their exchange account, and the bot answers from
it (issue 18). The exchange is reached through its back office (`backoffice_client.py`).

- Linking happens only in a private chat: `/link` gives a one-time link to the exchange's own
  sign-in page, bound to this user and chat; the back office confirms it with a signed event
  (`bot/web/backoffice_routes.py`). The bot never asks for a password, a code or a key.
  `/unlink` removes it; so can the exchange.
- Deposits, withdrawals, a locked account and verification, asked in a private chat by a
  linked user, are answered from their own data first (a transaction id in the message picks
  the deposit), then the general guidance. An unlinked user gets one line offering the link.
  Nothing account-specific is said in a group: those intents are moved to a private chat
  before they get here.
- The back office down, slow or talking nonsense: the general answer, with one line saying the
  account cannot be seen now. Every lookup is in the audit trail (who, what, which conversation).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Optional

from bot.config import Config
from bot.domain import accounts
from bot.domain.buttons import FREEZE, FREEZE_CONFIRMED, link_account_button
from bot.domain.messages import Action, Button, Decision, InboundMessage
from bot.domain.texts import Texts
from bot.services.backoffice_client import BackOfficeClient, BackOfficeDown, LinkGone
from bot.services.replies import Replies
from bot.stores.audit import AuditEntry
from bot.stores.holder import Stores

log = logging.getLogger(__name__)
COMMANDS = {"/link": "link", "/unlink": "unlink"}


class Accounts:
    """Links and lookups; `enabled` only with a back office configured (`BACKOFFICE_TOKEN`)."""

    def __init__(self, config: Config, texts: Texts, stores: Stores, replies: Replies,
                 client: Optional[BackOfficeClient]) -> None:  # fmt: skip
        self.config, self.texts, self.replies, self.client = config, texts, replies, client
        self.links, self.audit, self.conversations = stores.links, stores.audit, stores.conversations

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def command(self, text: str) -> Optional[str]:
        """"link" or "unlink" when the message is that command (and linking is on)."""
        word = text.strip().split("@")[0].lower()  # Telegram groups: /link@SomeBot
        return COMMANDS.get(word) if self.enabled else None

    async def link(self, message: InboundMessage, conversation: str, language: str) -> str:
        """The reply to `/link`: the one-time link, or why there is none."""
        say = self._say(language)
        if message.chat_kind != "private":
            return say("account_link_private_only")
        minutes = self.config.backoffice.link_minutes
        try:
            made = await self.client.link_request(message.platform, message.user_id, message.user_name or "",
                                                  minutes * 60)  # fmt: skip
        except (BackOfficeDown, LinkGone):
            return say("account_link_unavailable")
        await self.links.requested(made["request_id"], message.platform, message.user_id, message.chat_id,
                                   conversation, minutes * 60)  # fmt: skip
        await self._record("bot", "account.link_requested", message, conversation)
        return say("account_link_offer", url=made["url"], minutes=minutes)

    async def unlink(self, message: InboundMessage, conversation: str, language: str) -> str:
        """The reply to `/unlink`: the link removed here and at the exchange."""
        ref = await self.links.unlink(message.platform, message.user_id)
        if ref is None:
            return self._say(language)("account_not_linked")
        try:
            await self.client.unlink(ref)
        except BackOfficeDown:
            log.warning("back office: unlink not reported; the link is removed here")
        await self._record("user", "account.unlinked", message, conversation)
        return self._say(language)("account_unlinked")

    async def confirmed(self, event: dict[str, str]) -> str:
        """A `link.confirmed` event (signature checked): "linked", or why it is refused
        ("replayed", "unknown": expired, spent or never asked, "foreign": another user's)."""
        done = await self.links.confirm(event["request_id"], event["platform"], event["platform_user_id"],
                                        event["account_ref"], event["event_id"],
                                        self.config.backoffice.link_days * 86400)  # fmt: skip
        if done.outcome != "linked":
            return done.outcome
        await self.audit.record(AuditEntry(actor="user", role="user", action="account.linked",
                                           object=f"conversation:{done.conversation}"))  # fmt: skip
        conversation = await self.conversations.get(done.conversation)
        if conversation is not None:
            say = self._say(conversation.language or self.config.default_language)
            try:
                uid = (await self.client.account(event["account_ref"])).uid_masked
            except (BackOfficeDown, LinkGone):
                uid = "…"
            await self.replies.tell(conversation, say("account_linked", uid=uid), record=True)
        return "linked"

    async def revoked(self, event: dict[str, str]) -> None:
        """A `link.revoked` event (signature checked): the exchange removed a link."""
        await self.links.revoked(event["account_ref"], event["event_id"])

    async def offer_freeze(self, message: InboundMessage, decision: Decision) -> Decision:
        """A break-in reported by a linked user in a private chat: the hand-off's reply offers
        to freeze the account at once ("Freeze my account now", then a confirmation)."""
        if not self.enabled or decision.intent != "account_compromised" or not decision.reply \
                or message.chat_kind != "private" or not await self.links.ref_of(message.platform, message.user_id):
            return decision  # fmt: skip
        say = self._say(decision.language)
        text = decision.reply.text + "\n\n" + say("account_freeze_offer")
        buttons = (*decision.reply.buttons, Button(say("button_freeze"), FREEZE))
        return replace(decision, reply=replace(decision.reply, text=text, buttons=buttons))

    async def freeze_pressed(self, message: InboundMessage, action: str, conversation: str,
                             language: str) -> tuple[str, tuple[Button, ...]] | None:  # fmt: skip
        """The freeze buttons: the first asks to confirm, the confirmation freezes through the
        back office and says how it went. Only the linked user's own account, only in private;
        None otherwise (nothing to say)."""
        ref = await self.links.ref_of(message.platform, message.user_id) if self.enabled else None
        if ref is None or message.chat_kind != "private":
            return None
        say = self._say(language)
        if action == FREEZE:
            return say("account_freeze_confirm"), (Button(say("button_freeze_confirm"), FREEZE_CONFIRMED),)
        try:
            already = await self.client.freeze(ref, conversation, "user", "the user reported a break-in to the bot")
            outcome, text = ("already", say("account_frozen_already")) if already else ("ok", say("account_frozen"))
        except (BackOfficeDown, LinkGone):
            outcome, text = "failed", say("account_freeze_failed")
        await self.audit.record(AuditEntry(actor="user", role="user", action="account.freeze",
                                           object=f"conversation:{conversation}", outcome=outcome))  # fmt: skip
        return text, ()

    async def card(self, platform: str, user_id: str, conversation: str, agent: str) -> dict[str, object]:
        """What an agent's console shows of the user's account: `linked` false, `available`
        false (the back office cannot be read now), or the masked UID, KYC, VIP tier,
        restrictions and the latest deposits and withdrawals. Each read is in the audit trail
        under the agent's name and the conversation."""
        ref = await self.links.ref_of(platform, user_id) if self.enabled else None
        if ref is None:
            return {"linked": False}
        await self.audit.record(AuditEntry(actor=agent, role="agent", action="account.lookup:card",
                                           object=f"conversation:{conversation}"))  # fmt: skip
        try:
            account = await self.client.account(ref)
            deposits, withdrawals = await self.client.deposits(ref), await self.client.withdrawals(ref)
        except BackOfficeDown:
            return {"linked": True, "available": False}
        except LinkGone:
            await self.links.unlink(platform, user_id)
            return {"linked": False}
        return {"linked": True, "available": True, **accounts.card_of(account, deposits, withdrawals)}

    async def freeze_for_agent(self, platform: str, user_id: str, conversation: str, agent: str, reason: str) -> str:
        """An agent freezes the user's account: "ok", "already", "not_linked" or "failed"; in the
        audit trail and the transcript (where the user's own freeze shows too)."""
        ref = await self.links.ref_of(platform, user_id) if self.enabled else None
        if ref is None:
            return "not_linked"
        try:
            outcome = "already" if await self.client.freeze(ref, conversation, f"agent:{agent}", reason) else "ok"
        except (BackOfficeDown, LinkGone):
            outcome = "failed"
        await self.audit.record(AuditEntry(actor=agent, role="agent", action="account.freeze",
                                           object=f"conversation:{conversation}", outcome=outcome))  # fmt: skip
        if outcome != "failed":
            note = f"Account frozen at the exchange by {agent}: {reason}"
            await self.conversations.append(conversation, "system", note)
        return outcome

    async def vip_tier(self, message: InboundMessage, conversation: str) -> int:
        """The user's VIP tier at the exchange (0 when unlinked or when it cannot be read)."""
        ref = await self.links.ref_of(message.platform, message.user_id) if self.enabled else None
        if ref is None:
            return 0
        await self._record("bot", "account.lookup:vip", message, conversation)
        try:
            return (await self.client.account(ref)).vip_tier
        except (BackOfficeDown, LinkGone):
            return 0

    async def personalize(self, message: InboundMessage, conversation: str, decision: Decision) -> Decision:
        """An answer about the user's own account, in a private chat, starting from their data."""
        if (not self.enabled or decision.action is not Action.ANSWER or not decision.reply
                or decision.intent not in accounts.ACCOUNT_INTENTS or message.chat_kind != "private"):  # fmt: skip
            return decision
        say = self._say(decision.language)
        ref = await self.links.ref_of(message.platform, message.user_id)
        buttons = decision.reply.buttons
        if ref is None:
            lines, buttons = [say("account_offer_line")], (*buttons, link_account_button(say("button_link_account")))
        else:
            lines = await self._lines(ref, message, conversation, decision.intent, say)
        text = "\n".join(lines) + "\n\n" + decision.reply.text
        return replace(decision, reply=replace(decision.reply, text=text, buttons=tuple(buttons)))

    async def _lines(self, ref: str, message: InboundMessage, conversation: str, intent: str,
                     say: accounts.Say) -> list[str]:  # fmt: skip
        """What the user's own data says about `intent`; one line when it cannot be read."""
        try:
            if intent == "deposit_missing":
                txid = accounts.txid_in(message.text)
                await self._record("bot", "account.lookup:deposits", message, conversation)
                return accounts.deposit_lines(await self.client.deposits(ref, txid), say, by_txid=bool(txid))
            if intent == "withdrawal_pending":
                await self._record("bot", "account.lookup:withdrawals", message, conversation)
                return accounts.withdrawal_lines(await self.client.withdrawals(ref), say)
            await self._record("bot", "account.lookup:account", message, conversation)
            account = await self.client.account(ref)
            if intent == "account_locked":
                return accounts.restriction_lines(account, say)
            return accounts.kyc_lines(account, say)
        except BackOfficeDown:
            return [say("account_unavailable")]
        except LinkGone:
            await self.links.unlink(message.platform, message.user_id)
            return [say("account_offer_line")]

    def _say(self, language: str) -> accounts.Say:
        values = self.config.placeholders

        def say(key: str, **given: object) -> str:
            return self.texts.reply(key, language, **{**values, **given})

        return say

    async def _record(self, actor: str, action: str, message: InboundMessage, conversation: str) -> None:
        await self.audit.record(AuditEntry(actor=actor, role="bot" if actor == "bot" else "user", action=action,
                                           object=f"conversation:{conversation}"))  # fmt: skip
