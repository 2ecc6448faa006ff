"""What the bot says: the answers per intent and the fixed replies, per language, from `data/`.

Everything is loaded and checked once at start-up: a missing answer or reply, or a placeholder
the config cannot fill, stops the bot there instead of surprising a user later.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from pathlib import Path

from bot.config import ROOT, read_yaml

DATA_DIR = ROOT / "data"

REPLY_KEYS = (
    "clarify", "handoff", "handoff_ticket", "still_in_line", "handoff_out_of_hours", "handoff_back_to_agent",
    "secret_mnemonic", "secret_private_key", "secret_api_secret", "secret_password", "secret_delete_request",
    "error_empty", "error_too_long", "error_unreadable", "error_unavailable", "non_text",
    "attachment_received", "attachment_too_big", "attachment_wrong_type", "attachment_unreadable", "followup_saved",
    "helpful_prompt", "button_helpful_yes", "button_helpful_no", "button_human",
    "rate_prompt", "thanks_for_rating", "ticket_none", "ticket_line",
    "status_queued", "status_assigned", "status_resolved",
    "move_to_private", "agent_joined", "conversation_resolved", "bot_back",
    "articles_intro", "help_none", "incident_grouped", "incident_over",
    "impostor_warning", "error_rate_limited",
    "entity_confirmations", "entity_memo", "entity_wrong_network", "clarify_suggest",
    # a linked exchange account (bot/services/accounts.py)
    "account_link_offer", "account_link_private_only", "account_link_unavailable", "account_linked",
    "account_unlinked", "account_not_linked", "account_offer_line", "account_unavailable", "account_deposit",
    "account_deposit_confirming", "account_deposit_credited", "account_deposit_held", "account_deposit_failed",
    "account_deposit_none", "account_deposits_none", "account_withdrawal", "account_withdrawal_review",
    "account_withdrawal_processing", "account_withdrawal_sent", "account_withdrawal_rejected",
    "account_withdrawal_cancelled", "account_withdrawals_none", "account_locked", "account_restricted",
    "account_not_locked", "account_kyc", "account_kyc_rejected", "account_kyc_verified", "account_kyc_pending",
    "account_kyc_rejected_short", "account_kyc_none", "account_freeze_offer", "account_freeze_confirm",
    "account_frozen", "account_frozen_already", "account_freeze_failed", "button_link_account", "button_freeze",
    "button_freeze_confirm",
)  # fmt: skip
ANSWER_IDS_FILE = DATA_DIR / "answer_ids.yml"


def answer_ids(intents: Iterable[str], path: Path = ANSWER_IDS_FILE) -> tuple[str, ...]:
    """Every answer the bot can give: `<intent>/<question>` for the intents split into the
    questions users ask (`data/answer_ids.yml`), the intent itself for the others."""
    split = read_yaml(path) or {}
    intents = tuple(intents)
    questions = tuple(f"{i}/{key}" for i in intents if i in split for key in split[i])
    return questions + tuple(i for i in intents if i not in split)


class TextsError(ValueError):
    """A missing or malformed answer or reply in `data/`."""


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class _Partial(dict):
    """Leaves placeholders it has no value for untouched, for the caller to fill later."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Texts:
    """Answers and replies for every configured language, config placeholders filled in."""

    def __init__(self, answers: dict[str, dict[str, str]], replies: dict[str, dict[str, str]],
                 titles: dict[str, dict[str, str]] | None = None) -> None:  # fmt: skip
        self._answers = answers
        self._replies = replies
        self._titles = titles or {}

    @classmethod
    def load(
        cls,
        languages: Iterable[str],
        intents: Iterable[str],
        placeholders: dict[str, str],
        data_dir: Path = DATA_DIR,
    ) -> Texts:
        answer_keys = answer_ids(intents, data_dir / "answer_ids.yml")
        questions = tuple(key for key in answer_keys if "/" in key)
        answers, replies, titles = {}, {}, {}
        for lang in languages:
            answers[lang] = _load(data_dir / "answers" / f"{lang}.yml", answer_keys, placeholders, set())
            replies[lang] = _load(data_dir / "replies" / f"{lang}.yml", REPLY_KEYS, placeholders, _REPLY_FIELDS)
            titles[lang] = _load(data_dir / "answer_titles" / f"{lang}.yml", questions, placeholders, set())
        return cls(answers, replies, titles)

    def answer(self, answer_id: str, language: str) -> str:
        """The answer with this id (`fees/withdrawal_fees`, or an unsplit intent's name)."""
        return self._answers[language][answer_id]

    def has_answer(self, answer_id: str) -> bool:
        return answer_id in next(iter(self._answers.values()), {})

    def title(self, answer_id: str, language: str) -> str:
        """The question an answer answers, short enough for a button ("Turn on 2FA")."""
        return self._titles[language][answer_id]

    def has_title(self, answer_id: str) -> bool:
        return answer_id in next(iter(self._titles.values()), {})

    def reply(self, key: str, language: str, **values: object) -> str:
        template = self._replies[language][key]
        return template.format(**values) if values else template


# Placeholders that are filled per message rather than from the config.
_REPLY_FIELDS = {"ticket", "position", "wait", "opens", "limit", "status", "link", "name",
                 "network", "networks", "confirmations", "coin", "max_mb", "address",
                 "url", "minutes", "uid", "amount", "seen", "required", "reason", "txid", "level"}  # fmt: skip


def _load(path: Path, keys: tuple[str, ...], placeholders: dict[str, str], runtime: set[str]) -> dict[str, str]:
    try:
        raw = read_yaml(path) or {}
    except FileNotFoundError:
        raise TextsError(f"{path}: missing") from None
    missing = [k for k in keys if not isinstance(raw.get(k), str) or not raw[k].strip()]
    if missing:
        raise TextsError(f"{path}: no text for {', '.join(missing)}")
    out = {}
    for key in keys:
        template = raw[key].strip()
        unknown = _fields(template) - set(placeholders) - runtime
        if unknown:
            raise TextsError(f"{path}: {key} uses unknown placeholder {{{sorted(unknown)[0]}}}")
        out[key] = template.format_map(_Partial(placeholders))
    return out
