"""What a support message names: coins, networks, amounts, transaction hashes, order and ticket
ids, in all eight launch languages.

Users add these to their questions all the time ("250 USDT on TRC20, txid ab12..."); answers use
them where they change the answer (a network's confirmations, a coin's memo, two networks in a
wrong-network case), agents see them beside the message, and reports count them. Patterns and
word lists, not a model: the facts are a closed list (`data/entities.yml`) and the ids have
shapes. A transaction hash is not a secret; the secret guard has already replaced anything that
was, so only text it let through arrives here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from bot.config import ROOT, read_yaml
from bot.domain.required_text import Gated, fold

ENTITIES_FILE = ROOT / "data" / "entities.yml"
SERVICES_FILE = ROOT / "data" / "other_services.yml"
PAYMENT_SERVICES_FILE = ROOT / "data" / "payment_services.yml"
SERVICE_MARK = "othersvc"  # the one word the intent classifier reads for another company's name
KINDS = ("coin", "network", "amount", "txid", "order_id", "ticket_id")
# Services whose takeover opens the way into an exchange account: its mail, its phone number.
GATEWAY_SERVICES = ("email_cloud", "telecom", "other_accounts")

# Tickers that are also everyday words ("sol" is the sun in Spanish, "ton" is "your" in French):
# taken only in capitals or right after an amount.
_AMBIGUOUS = frozenset("op dot link near ton sol etc apt atom ada sui pol dai arb eos bch near".split())
_NUMBER = r"\d+(?:[.,]\d+)*"
_DIGIT = re.compile(r"\d")
_TXID = re.compile(r"(?<![0-9a-zA-Z])(?:0x)?[0-9a-fA-F]{64}(?![0-9a-zA-Z])")
_ID = r"([A-Za-z]{0,3}-?\d[A-Za-z0-9-]{2,39})"
_ID_GAP = r"(?:\s*(?:#|№|no\.?|nº|n°|number|num|id|номер|번호|号|番号|番|số|:|：|=)\s*){0,3}\s*"
_ORDER_WORDS = (
    r"orders?|orden|pedido|ordre|commande|ордер[а-я]*|заказ[а-я]*|订单号?|注文|주문|lệnh|đơn(?:\s+hàng)?|don hang|lenh"
)
_TICKET_WORDS = (
    r"tickets?|case|ref(?:erence)?|request|caso|solicitud|dossier|demande|référence|заявк[а-я]*|тикет[а-я]*|"
    r"обращени[а-я]*|工单号?|单号|案件|問い合わせ|チケット|티켓|문의|접수|phiếu|yêu cầu|phieu|yeu cau"
)
_ORDER = re.compile(rf"(?:{_ORDER_WORDS}){_ID_GAP}{_ID}", re.IGNORECASE)
_TICKET = re.compile(rf"(?:{_TICKET_WORDS}){_ID_GAP}{_ID}|\b(T-\d{{3,}})\b", re.IGNORECASE)
# A chain named the way a coin is, after "on"/"via" (USDT on Solana): the network, not the coin.
_VIA = r"(?:on|via|over|through|thru|using|en|sur|por|par|через|по|в сети|qua|trên|tren)\s+(?:the\s+)?"


@dataclass(frozen=True)
class Lexicon:
    """The coins and networks of `data/entities.yml`, compiled."""

    coins: dict[str, str]  # a name as written, case-folded (`fold`) -> ticker
    networks: dict[str, str]  # an alias, case-folded -> canonical network
    confirmations: dict[str, int]
    memo_coins: frozenset[str]
    coin_pattern: Gated
    network_pattern: Gated
    amount_pattern: Gated

    @classmethod
    def load(cls, path: Path = ENTITIES_FILE) -> Lexicon:
        raw = read_yaml(path)
        coins = {fold(str(name)): ticker for ticker, spec in raw["coins"].items() for name in spec["names"]}
        # A network's own name counts alone only where it is no coin's too ("BTC" is the coin).
        networks = {fold(str(a)): net for net, spec in raw["networks"].items()
                    for a in [*([net] if net.lower() not in coins else []), *spec["aliases"]]}  # fmt: skip
        # A chain's coin names its network only after "on"/"via"/...: "sent via Solana".
        chain_coins = {name: coins[name] for name in coins if coins[name] in raw["networks"]}
        coin_alt = _alternation(coins)
        amount = Gated(re.compile(
            rf"(?<![\w.,])({_NUMBER})\s*(?:({coin_alt})|([uU])(?![a-zA-Z]))(?![a-zA-Z])"
            rf"|(?<![a-zA-Z])({coin_alt})\s*({_NUMBER})(?![\d.,]*\d)",
            re.IGNORECASE,
        ))  # fmt: skip
        return cls(
            coins=coins,
            networks=networks,
            confirmations={net: int(spec.get("confirmations", 0)) for net, spec in raw["networks"].items()},
            memo_coins=frozenset(t for t, spec in raw["coins"].items() if spec.get("memo")),
            coin_pattern=Gated(re.compile(_bounded(coin_alt), re.IGNORECASE)),
            network_pattern=Gated(re.compile(
                _bounded(f"{_VIA}(?:{_alternation(chain_coins)})|{_alternation(networks)}"), re.IGNORECASE)),
            amount_pattern=amount,
        )

    def network_of(self, written: str) -> str:
        lowered = fold(written)  # as the pattern matched it: "BİTCOİN" is bitcoin (not lower()'s "bi̇tcoi̇n")
        if lowered in self.networks:
            return self.networks[lowered]
        name = re.sub(_VIA, "", lowered, count=1, flags=re.IGNORECASE)
        return self.coins[name]


def _alternation(names: dict[str, str]) -> str:
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))


def _bounded(alternation: str) -> str:
    # Latin and Cyrillic names need word edges; Han, kana and Hangul have none to need.
    return rf"(?<![\w])(?:{alternation})(?![a-zA-Zа-яА-Я0-9])|(?:{alternation})(?=[\u3040-\u9fff\uac00-\ud7af])"


def _amount(number: str) -> str:
    """'1,200.50' -> '1200.50', '0,5' -> '0.5', '1 200' stays two numbers."""
    if "," in number and "." in number:
        return number.replace(",", "")
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", number):
        return number.replace(",", "")
    return number.replace(",", ".")


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon.load()


def extract(text: str, lexicon: Optional[Lexicon] = None) -> dict[str, list[str]]:
    """Each kind found in `text` with its values, in the order they appear, each value once:
    {"coin": ["USDT"], "network": ["TRC20"], "amount": ["250"], ...}. Kinds not found are absent."""
    lexicon = lexicon or default_lexicon()
    found: dict[str, list[str]] = {}

    def add(kind: str, value: str) -> None:
        values = found.setdefault(kind, [])
        if value not in values:
            values.append(value)

    taken: list[tuple[int, int]] = []  # spans already read as something, so "T-1001" is no amount
    numbered = _DIGIT.search(text) is not None  # hashes, ids and amounts all have digits
    for match in _TXID.finditer(text) if numbered else ():
        add("txid", match.group())
        taken.append(match.span())
    for kind, pattern in (("order_id", _ORDER), ("ticket_id", _TICKET)) if numbered else ():
        for match in pattern.finditer(text):
            if not _overlaps(match.span(), taken):
                add(kind, next(g for g in match.groups() if g))
                taken.append(match.span())
    for match in lexicon.network_pattern.finditer(text):
        if not _overlaps(match.span(), taken):
            add("network", lexicon.network_of(match.group()))
    for match in lexicon.amount_pattern.finditer(text) if numbered else ():
        if _overlaps(match.span(), taken):
            continue
        number, coin, u, coin_first, number_after = match.groups()
        add("amount", _amount(number or number_after))
        add("coin", "USDT" if u else lexicon.coins[fold(coin or coin_first)])
        taken.append(match.span())
    for match in lexicon.coin_pattern.finditer(text):
        written = match.group()
        if _overlaps(match.span(), taken) or (written.lower() in _AMBIGUOUS and not written.isupper()):
            continue
        add("coin", lexicon.coins[fold(written)])
    return {kind: found[kind] for kind in KINDS if kind in found}


def without_ids(text: str, lexicon: Optional[Lexicon] = None) -> str:
    """`text` without its transaction hashes, order and ticket ids (with the words that
    introduce them) and amounts: what the intent classifier reads. "我的充值没到账 (ref 900200)"
    asks what "我的充值没到账" asks; a reference number or "250 USDT" is no word of the question."""
    if not _DIGIT.search(text):
        return text
    patterns = (_TXID, _ORDER, _TICKET, (lexicon or default_lexicon()).amount_pattern)
    spans = sorted(m.span() for pattern in patterns for m in pattern.finditer(text))
    kept, at = [], 0
    for start, end in spans:
        if start >= at:
            kept.append(text[at:start])
            at = end
    stripped = "".join(kept) + text[at:]
    return re.sub(r"[(\[]\s*[)\]]|\s{2,}", " ", stripped).strip() or text


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def with_services_marked(text: str) -> str:
    """Another company's name (`data/other_services.yml`: a mail, bank, game, shop...) as one
    word, `othersvc`: what the model learns of some names then holds for all of them, so "my
    gmail account is locked" reads as "my othersvc account is locked", not as the exchange's
    locked account. Applied in training and at run time alike (the tokenizer does it)."""
    return _services_pattern().sub(f" {SERVICE_MARK} ", text)


def names_another_companys_account(text: str, identity: bool = False) -> bool:
    """Whether `text` is about an account at another company: it names a game, a social
    network, a shop, a streaming or government service... and no coin, network or transaction.
    "Netflix says someone signed in from abroad" is Netflix's matter; "they got into my gmail and
    my BTC is gone" is ours (mail, phone carriers and Apple or Google accounts are ways into an
    exchange account, `GATEWAY_SERVICES`, so naming them proves nothing). About an `identity`
    check, government services prove nothing either: exchanges verify users with them."""
    if not _services_pattern(exclude=GATEWAY_SERVICES + (("government",) if identity else ())).search(text):
        return False
    return _names_no_crypto(text)


def names_a_bank_or_payment_app(text: str) -> bool:
    """Whether `text` names a bank or payment app (`data/payment_services.yml`) and no coin,
    network or transaction: about its sign-in or identity check, that company's matter."""
    return bool(_payment_pattern().search(text)) and _names_no_crypto(text)


def _names_no_crypto(text: str) -> bool:
    named = extract(text)
    return not any(kind in named for kind in ("coin", "network", "txid"))


@lru_cache(maxsize=1)
def _payment_pattern() -> re.Pattern:
    names = read_yaml(PAYMENT_SERVICES_FILE)["names"]
    return re.compile(_bounded(_trie(str(name).lower() for name in names)), re.IGNORECASE)


@lru_cache(maxsize=4)
def _services_pattern(exclude: tuple[str, ...] = ()) -> Gated:
    raw = read_yaml(SERVICES_FILE) or {}
    names = {str(name).lower() for kind, names in raw.items() if kind not in exclude for name in names}
    return Gated(re.compile(_bounded(_trie(names)), re.IGNORECASE))


def _trie(names: Iterable[str]) -> str:
    """An alternation of `names` as a prefix tree ("gmail|google" -> "g(?:mail|oogle)"): the
    regex engine then follows one branch per character instead of trying every name."""
    root: dict = {}
    for name in names:
        node = root
        for char in name:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        if "" in node:
            return f"(?:{body})?"
        return body

    return emit(root)
