"""The pipeline: one inbound message in, one decision out.

    language -> secret guard -> NLU intent -> intent handler -> answer | clarify | hand-off

It decides and stores nothing: the caller (the bot's inbox, or `replay`) keeps the
conversation and acts on the decision. Only the redacted text leaves this module.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Optional

from bot.config import Config
from bot.domain import entities, secret_guard
from bot.domain.buttons import buttons_for, suggested_answers, suggestion_buttons
from bot.domain.helpcenter import Article, HelpCenter
from bot.domain.language import Detection, LanguageDetector, base_language, domain_lexicon
from bot.domain.messages import Action, Button, Decision, InboundMessage, OutboundReply, Priority
from bot.domain.secret_guard import GuardResult
from bot.domain.signals import Signals
from bot.domain.texts import Texts
from bot.nlu.model import NLU_DATA_DIR, NluParser, NluResult
from intents import (
    COMPROMISED,
    HANDLERS,
    HANDOFF_INTENTS,
    INTENT_NAMES,
    INTENTS,
    NO_TOPIC,
    OTHER_COMPANY,
    TICKET_STATUS,
    IntentContext,
    Outcome,
    TicketLookup,
)

# Below this the model recognises no topic in a text (its best guess is as good as none).
TOPIC_UNSEEN = 0.3
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
# "/help <words>" searches the help center directly, on every platform (adapters turn their
# own help command into this text).
_HELP_COMMAND = re.compile(r"^/help(?:@\w+)?(?:\s+(.*))?$", re.DOTALL | re.IGNORECASE)


class BadMessage(ValueError):
    """A message the pipeline will not classify; `code` names why, `reply_key` what to say."""

    def __init__(self, code: str, reply_key: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.reply_key = reply_key


class Pipeline:
    """Classifies messages and decides what the bot does with them."""

    def __init__(self, config: Config, nlu: NluParser, texts: Optional[Texts] = None,
                 helpcenter: Optional[HelpCenter] = None) -> None:  # fmt: skip
        self.config = config
        self.nlu = nlu
        self.texts = texts or Texts.load(config.languages, INTENT_NAMES, config.placeholders)
        self.helpcenter = helpcenter or HelpCenter.load(config.placeholders)
        lexicon = domain_lexicon(sorted(NLU_DATA_DIR.glob("*.yml")))
        self.detector = LanguageDetector(config.languages, config.default_language, lexicon)
        self.signals = Signals.load()

    def check(self, text: object) -> str:
        """The text if the pipeline can take it, else BadMessage."""
        if not isinstance(text, str):
            raise BadMessage("not_text", "error_unreadable", "text must be a string")
        limit = self.config.limits.max_message_chars
        if len(text) > limit:
            raise BadMessage("too_long", "error_too_long", f"text is {len(text)} characters, the limit is {limit}")
        if _CONTROL.search(text):
            raise BadMessage("binary", "error_unreadable", "text contains control or undecodable characters")
        if not text.strip():
            raise BadMessage("empty", "error_empty", "text is empty")
        return text

    def error_reply(self, error: BadMessage, language: Optional[str] = None) -> str:
        """What the user reads when their message was refused."""
        language = base_language(language)
        language = language if language in self.config.languages else self.config.default_language
        return self.texts.reply(error.reply_key, language, limit=self.config.limits.max_message_chars)

    async def process(
        self,
        message: InboundMessage,
        previous_language: Optional[str] = None,
        tickets: Optional[TicketLookup] = None,
        guarded: Optional[GuardResult] = None,
    ) -> Decision:
        """Decide what to do with `message`; BadMessage if it cannot be read. A hand-off's
        reply lacks the notice of where the user stands in line: the caller adds it with
        `with_handoff_notice` once the ticket is open. `tickets` looks up the user's own
        tickets (none in `replay`); `guarded` is the guard's result when the caller has
        already scanned the text (see `screen`)."""
        self.check(message.text)
        guarded, detection = self.screen(message, previous_language, guarded)
        clean = _without_markers(guarded.redacted_text)
        language = detection.language

        def decide(action: Action, text: str, intent: Optional[str] = None, confidence: float = 0.0,
                   priority: Optional[Priority] = None, buttons: tuple[Button, ...] = (),
                   answer_id: Optional[str] = None, named: Optional[dict] = None) -> Decision:
            reply = OutboundReply(message.platform, message.chat_id, text, buttons, message.message_id or None)
            return Decision(language, detection.detected, intent, confidence, action, priority,
                            reply if text else None, guarded.redacted_text, guarded.kinds,
                            public=message.chat_kind == "group", answer_id=answer_id,
                            entities=named or {})  # fmt: skip

        in_group = message.chat_kind == "group"
        if in_group and not message.addressed:
            if guarded.found:  # a pasted secret is always warned about, addressed or not
                return decide(Action.WARN_SECRET, self.warning(guarded.kinds, language, in_group))
            return decide(Action.IGNORE, "")

        if not clean:  # nothing but the secret itself
            return decide(Action.WARN_SECRET, self.warning(guarded.kinds, language, in_group))

        command = _HELP_COMMAND.match(clean.strip())
        if command:
            words = command.group(1) or ""
            found = self.helpcenter.search(words, language, min_score=0.5) if words.strip() else []
            text = self.with_articles("", found, language) or self.texts.reply("help_none", language)
            return decide(Action.ANSWER, text)

        named = entities.extract(clean)
        result = await self.nlu.parse(entities.without_ids(clean))
        intent, confidence, answer_id, outcome = await self._act_on(
            result, clean, language, replace(message, text=guarded.redacted_text), tickets, named)

        text, buttons = self.reply_with_buttons(result, outcome, language)
        action = outcome.action
        if guarded.found:
            text = f"{self.warning(guarded.kinds, language, in_group)}\n\n{text}"
            action = Action.WARN_SECRET
        priority = outcome.priority
        if priority is Priority.URGENT and not self.urgent_evidence(result, clean):
            priority = Priority.HIGH
        return decide(action, text, intent, confidence, priority, buttons, answer_id, named)

    def reply_with_buttons(self, result: NluResult, outcome: Outcome, language: str) -> tuple[str, tuple[Button, ...]]:
        """The reply's text and buttons; a clarifying question also offers the answers the
        model thinks likely ("did you mean...?"), one tap to each."""
        buttons = buttons_for(outcome.action, self.texts, language)
        offered = suggested_answers(result, self.texts, self.config.nlu.suggest_threshold) \
            if outcome.action is Action.CLARIFY else ()  # fmt: skip
        if not offered:
            return outcome.text, buttons
        text = f"{outcome.text}\n\n{self.texts.reply('clarify_suggest', language)}"
        return text, suggestion_buttons(offered, self.texts, language) + buttons

    async def answer_intent(
        self, intent: str, language: str, message: InboundMessage, tickets: Optional[TicketLookup] = None
    ) -> Decision:
        """The answer to a known intent (one carried over from a group into a private chat)."""
        outcome = await HANDLERS[intent](IntentContext(intent, language, message, self.texts, tickets))
        reply = OutboundReply(message.platform, message.chat_id, outcome.text,
                              buttons_for(outcome.action, self.texts, language))  # fmt: skip
        return Decision(language, language, intent, 1.0, outcome.action, outcome.priority, reply, "")

    def with_articles(self, text: str, articles: list[Article], language: str) -> str:
        """`text` followed by a list of help-center articles (title and link)."""
        if not articles:
            return text
        listed = "\n".join(f"• {a.title}: {a.url}" for a in articles)
        return "\n\n".join(part for part in (text, f"{self.texts.reply('articles_intro', language)}\n{listed}") if part)

    def screen(
        self, message: InboundMessage, previous_language: Optional[str] = None, guarded: Optional[GuardResult] = None
    ) -> tuple[GuardResult, Detection]:
        """The first two steps alone: the secret guard, then the language of what is left.
        A caller that scanned the text already (the inbox redacts before it stores) passes its
        `guarded` result: scanning the redacted text again gives the same result, for the
        guard knows its own markers, and costs as much as the first scan."""
        guarded = guarded or secret_guard.scan(message.text)
        clean = _without_markers(guarded.redacted_text)
        # A message that was nothing but a secret: its marker's English words say nothing of the
        # user's language (the platform's hint and the conversation's do).
        detection = self.detector.detect(clean, message.language_hint, previous_language)
        return guarded, detection

    def with_handoff_notice(self, decision: Decision, notice: str) -> Decision:
        """The decision with the hand-off notice (ticket, place in line) after its text."""
        if decision.reply is None:
            return decision
        text = "\n\n".join(part for part in (decision.reply.text, notice) if part)
        return replace(decision, reply=replace(decision.reply, text=text))

    async def _act_on(
        self, result: NluResult, clean: str, language: str, message: InboundMessage,
        tickets: Optional[TicketLookup], named: dict,
    ) -> tuple[Optional[str], float, Optional[str], Outcome]:  # fmt: skip
        """The intent acted on, its confidence, the question answered and what its handler did;
        unsure, a clarifying question with the closest articles instead of a bare "please
        rephrase". `message` carries the redacted text."""
        intent = self.choose_intent(result, clean) or self.about_a_ticket(result, named)
        if intent is None:
            text = self.with_articles(self.texts.reply("clarify", language), self.helpcenter.search(clean, language),
                                      language)  # fmt: skip
            return result.intent, result.confidence, None, Outcome(Action.CLARIFY, text)
        answer_id = self.choose_answer(result, intent)
        if self.about_another_company(intent, clean):
            intent, answer_id = OTHER_COMPANY
        ctx = IntentContext(intent, language, message, self.texts, tickets, answer_id, named)
        outcome = await HANDLERS[intent](ctx)
        return intent, result.probability(intent) or result.confidence, answer_id, outcome

    def choose_intent(self, result: NluResult, text: str) -> Optional[str]:
        """The intent to act on, or None to ask the user instead.

        A person is called when the text carries a signal (activity the user did not do, a
        demand for money), when a hand-off intent (a request for a person, a complaint, a
        compromised account) wins with `handoff_threshold` confidence, or when a compromised
        account reaches `compromised_threshold`. An answer needs a
        confident, clear winner. Anything less asks first: the clarifying reply carries a
        "talk to a person" button, so one tap still reaches a person. Measured on text we did
        not write, calling a person on any hint handed a quarter of small talk to agents."""
        nlu = self.config.nlu
        signalled = self.signal_for(text)
        if signalled:
            return signalled
        if result.intent in HANDOFF_INTENTS and result.confidence >= nlu.handoff_threshold:
            return result.intent
        if result.probability(COMPROMISED) >= nlu.compromised_threshold:
            return COMPROMISED  # a missed break-in costs more than a needless look
        if result.intent in HANDOFF_INTENTS:
            return None
        confident = (
            result.intent in HANDLERS
            and result.confidence >= nlu.confidence_threshold
            and result.confidence - result.runner_up >= nlu.margin_threshold
        )
        return result.intent if confident else None

    @staticmethod
    def about_a_ticket(result: NluResult, named: dict) -> Optional[str]:
        """ticket_status for a message that names a ticket and no support topic besides
        ("follow up on case 40217", "チケット番号556677の進み具合は？"). The model reads the text
        without its ids, so that "my deposit is missing (ref 900200)" stays a deposit
        question, and is left with "follow up on": small talk, or nothing it recognises."""
        if not named.get("ticket_id"):
            return None
        lost = result.confidence < TOPIC_UNSEEN
        return TICKET_STATUS if result.intent in NO_TOPIC or lost else None

    def urgent_evidence(self, result: NluResult, text: str) -> bool:
        """Whether an account-compromise hand-off has earned the urgent lane: a signal in the
        text (a withdrawal, login or trade the user did not make), or the model sure of it at
        `urgent_threshold`. Without either it goes to the high lane, still ahead of the rest."""
        if self.signal_for(text) == COMPROMISED:
            return True
        # The model alone is not evidence enough about text that names another company's
        # account ("they hacked my Facebook"): a person still sees it, in the high lane.
        sure = result.probability(COMPROMISED) >= self.config.nlu.urgent_threshold
        return sure and not entities.names_another_companys_account(text)

    def signal_for(self, text: str) -> Optional[str]:
        """The intent a signal in the text calls for (`data/signals.yml`), except a break-in
        into another company's account ("my Instagram was hacked"): that is for the model
        to read, which has learnt such reports as another company's matter."""
        signalled = self.signals.intent_for(text)
        if signalled == COMPROMISED and entities.names_another_companys_account(text):
            return None
        return signalled

    def about_another_company(self, intent: str, text: str) -> bool:
        """Whether a question about an account's sign-in or identity is about another
        company's account ("my Instagram reset mail never comes", "Steam 2FA after I lost my
        phone", a bank app's ID check): we answer that it is theirs to solve, not our steps."""
        matter = INTENTS[intent].account_matter
        return bool(matter) and (entities.names_another_companys_account(text, identity=matter == "identity")
                                 or entities.names_a_bank_or_payment_app(text))  # fmt: skip

    def choose_answer(self, result: NluResult, intent: str) -> str:
        """Which of the intent's questions to answer: the most likely one when it stands out
        (`answer_threshold` of the intent's probability), else the intent's broad answer."""
        answer_id, share = result.answer_for(intent)
        if not self.texts.has_answer(answer_id):  # a model trained before the answer existed
            answer_id = intent
        general = f"{intent}/general"
        if share < self.config.nlu.answer_threshold and self.texts.has_answer(general):
            return general
        return answer_id if self.texts.has_answer(answer_id) else general

    def warning(self, kinds: tuple[str, ...], language: str, in_group: bool) -> str:
        """The warning for pasted secrets, in the user's language; never repeats them."""
        parts = [self.texts.reply(f"secret_{kind}", language) for kind in kinds]
        if in_group:
            parts.append(self.texts.reply("secret_delete_request", language))
        return "\n\n".join(parts)


def _without_markers(text: str) -> str:
    return secret_guard.MARKER_PATTERN.sub(" ", text).strip()
