"""The secret guard: finds seed phrases, private keys, API secrets and passwords that users
paste, and redacts them before anything stores, logs or classifies the text.

It errs on the side of redacting: a redacted harmless string costs nothing, a stored seed
phrase costs a user their funds. The one deliberate exception is a 64-hex string that the
message calls a transaction (tx hash, txid, 交易哈希 ...): deposit questions need those, and
they are public on chain anyway.

Passwords are found by `secret_passwords.py`; a secret pasted in two messages, which no
single scan can see, by `secret_carry.py` with the conversation's help.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from mnemonic import Mnemonic

from bot.domain.secret_passwords import password_spans

MNEMONIC = "mnemonic"
PRIVATE_KEY = "private_key"
API_SECRET = "api_secret"
PASSWORD = "password"
KINDS = (MNEMONIC, PRIVATE_KEY, API_SECRET, PASSWORD)

MIN_MNEMONIC_WORDS = 12
_MNEMONIC_LENGTHS = (24, 21, 18, 15, 12)
HAN_WORDLISTS = ("chinese_simplified", "chinese_traditional")

# What may stand between two words of a pasted phrase: spaces, commas, numbering ("1." "2)").
_WORD_GAP = re.compile(r"[\s,，、;；.。·:：|/()\[\]#\-–—\d]{0,8}")
_HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A word of `word_spans`: one Han character, or a run of other letters, with combining marks
# (NFD text, and Japanese phrases in NFKD form) kept inside words.
_LETTER = "(?:[^\\W\\d_]|[\u0300-\u036f\u3099-\u309c])"
_WORD_OR_HAN = re.compile(f"(?=[^\\W\\d_])[{_HAN_RANGES}]|(?:(?![{_HAN_RANGES}]){_LETTER})+")
_SEED_WORDS = re.compile(
    r"seed|mnemonic|recovery|phrase|助记|助記|种子|種子|恢复|恢復|リカバリー|シード|복구|시드|"
    r"сид|мнемон|фраз|semilla|frase|phrase|graine|cụm từ|hạt giống",
    re.IGNORECASE,
)

_HEX64 = re.compile(r"(?<![0-9A-Za-z])(?:0x)?[0-9a-fA-F]{64}(?![0-9A-Za-z])")
# A key written in groups ("a1b2c3d4 e5f6a7b8 ...", "a1:b2:c3 ..."): hex groups one short gap apart.
_HEX_GROUP = re.compile(r"(?<![0-9A-Za-z])(?:0x)?([0-9a-fA-F]{2,63})(?![0-9A-Za-z])")
_HEX_GROUP_GAP = re.compile(r"[ \t\n:,\-]{1,3}")
KEY_HEX_DIGITS = 64
_TX_WORDS = re.compile(
    r"\btx|txid|txn|hash|transac|транзакц|хеш|хэш|交易|哈希|トランザクション|ハッシュ|트랜잭션|해시|giao d[iị]ch|"
    r"\bm[aã] gd",
    re.IGNORECASE,
)
_KEY_WORDS = re.compile(
    r"priv(?:ate)?[\s_-]*key|privkey|私钥|私鑰|秘密鍵|プライベートキー|개인\s*키|프라이빗\s*키|"
    r"приватн\w*\s+ключ|закрыт\w*\s+ключ|clave\s+privada|cl[ée]\s+priv[ée]e|kh[oó]a\s+(?:ri[eê]ng|b[ií]\s*m[aậ]t)",
    re.IGNORECASE,
)
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_WIF = re.compile(r"(?<![0-9A-Za-z])[5KLc9][1-9A-HJ-NP-Za-km-z]{50,51}(?![0-9A-Za-z])")
_XPRV = re.compile(r"(?<![0-9A-Za-z])[xyzt]prv[1-9A-HJ-NP-Za-km-z]{100,108}(?![0-9A-Za-z])")
# A 64-byte key in base58 (Solana wallets export these): 85-90 characters.
_BASE58_KEYPAIR = re.compile(r"(?<![0-9A-Za-z])[1-9A-HJ-NP-Za-km-z]{85,90}(?![0-9A-Za-z])")

_QUOTES = r"""\s"'`“”«»「」"""
_LINKING_WORD = r"(?:is|es|est|era|était|là|la|это|—|-|=|:|：|是|为|為|は|が|는|은|이)"
_CONNECTIVE = r"[" + _QUOTES + r"]*" + _LINKING_WORD + r"?[" + _QUOTES + r":：=]*"
_API_SECRET = re.compile(
    r"(?:api[\s_-]*(?:key[\s_-]*)?secret|secret[\s_-]*key|secretkey|api[\s_-]*秘钥|api[\s_-]*密钥|密钥|秘钥|"
    r"シークレット(?:キー)?|시크릿\s*키?|секрет\w*(?:\s+ключ\w*)?|clave\s+secreta|cl[ée]\s+secr[eè]te|"
    r"kh[oó]a\s+b[ií]\s*m[aậ]t|secret)" + _CONNECTIVE + r"([A-Za-z0-9+/=_\-]{16,})",
    re.IGNORECASE,
)
# Long mixed-case tokens look like exchange secrets even without a keyword; no common wallet
# address is mixed-case and this long (Monero's 95 characters are kept apart).
_LONG_TOKEN = re.compile(r"(?<![0-9A-Za-z])[A-Za-z0-9]{48,}(?![0-9A-Za-z])")


@dataclass(frozen=True)
class GuardResult:
    """The text with every secret replaced by a marker, and which kinds were found."""

    redacted_text: str
    kinds: tuple[str, ...]

    @property
    def found(self) -> bool:
        return bool(self.kinds)


def marker(kind: str) -> str:
    """The text a secret is replaced with."""
    return f"[{kind} removed]"


MARKER_PATTERN = re.compile(r"\[(?:" + "|".join(KINDS) + r") removed\]")


def _fold(word: str) -> str:
    if word.isascii():  # nothing to decompose: most words, a third of the guard's time
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def wordlists() -> dict[str, frozenset[str]]:
    """Every BIP-39 wordlist by its name, its words folded (lower case, no accents)."""
    return {lang: frozenset(_fold(w) for w in Mnemonic(lang).wordlist) for lang in Mnemonic.list_languages()}


def is_word_gap(text: str) -> bool:
    """Whether `text` may stand between two words of a pasted phrase."""
    return _WORD_GAP.fullmatch(text) is not None


WordSpan = tuple[int, int, str]  # start, end, the word folded


def word_spans(text: str) -> list[WordSpan]:
    """Letter runs, with runs of Han characters split into single characters (the Chinese
    wordlists hold one character per word)."""
    return [(m.start(), m.end(), _fold(m.group())) for m in _WORD_OR_HAN.finditer(text)]


# What may follow 助记/种子 before the phrase itself: "助记词是", "种子短语：".
_SEED_WORD_TAIL = set("词詞是为為短语語句子")


def _unspaced_han_phrase(text: str, run: list[WordSpan], lang: str) -> tuple[int, int] | None:
    """Unspaced Han text is mostly ordinary Chinese (the wordlists hold the 2,048 commonest
    characters, and one run in 16 passes a 12-word checksum by chance). It counts as a phrase
    only right after a word like 助记词, with a whole phrase's length and a valid checksum."""
    seed_word_ends = [m.end() for m in _SEED_WORDS.finditer(text)]
    for end_of_seed_word in seed_word_ends:
        rest = [w for w in run if w[0] >= end_of_seed_word]
        while rest and rest[0][2] in _SEED_WORD_TAIL:
            rest = rest[1:]
        if len(rest) in _MNEMONIC_LENGTHS and Mnemonic(lang).check(" ".join(w[2] for w in rest)):
            return rest[0][0], rest[-1][1]
    return None


def wordlist_runs(text: str, words: list[WordSpan], wordlist: frozenset[str]) -> list[tuple[int, int, bool]]:
    """Runs of `words` (from `word_spans`) that are all in `wordlist`, one gap apart: the
    first and last word's index, and whether every gap holds something (unspaced Han text is
    ordinary Chinese far more often than a phrase)."""
    runs = []
    i = 0
    while i < len(words):
        if words[i][2] not in wordlist:
            i += 1
            continue
        j = i
        spaced = True
        while j + 1 < len(words) and words[j + 1][2] in wordlist and is_word_gap(text[words[j][1] : words[j + 1][0]]):
            spaced = spaced and words[j][1] != words[j + 1][0]
            j += 1
        runs.append((i, j, spaced))
        i = j + 1
    return runs


def _mnemonic_spans(text: str) -> list[tuple[int, int]]:
    words = word_spans(text)
    if len(words) < MIN_MNEMONIC_WORDS:  # no phrase fits (most messages: half the guard's time)
        return []
    found: list[tuple[int, int]] = []
    for lang, wordlist in wordlists().items():
        for i, j, spaced in wordlist_runs(text, words, wordlist):
            run = words[i : j + 1]
            if len(run) < MIN_MNEMONIC_WORDS:
                continue
            if spaced or lang not in HAN_WORDLISTS:
                found.append((run[0][0], run[-1][1]))
            else:
                span = _unspaced_han_phrase(text, run, lang)
                if span:
                    found.append(span)
    return found


def _base58check_ok(token: str) -> bool:
    number = 0
    for char in token:
        number = number * 58 + _BASE58.index(char)
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    payload, checksum = raw[:-4], raw[-4:]
    return len(payload) in (33, 34) and hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == checksum


def hex_group_runs(text: str) -> list[list[tuple[int, int, int]]]:
    """Runs of hex groups one short gap apart, each group as (start, end, hex digits)."""
    runs: list[list[tuple[int, int, int]]] = []
    for m in _HEX_GROUP.finditer(text):
        group = (m.start(), m.end(), len(m.group(1)))
        if runs and _HEX_GROUP_GAP.fullmatch(text[runs[-1][-1][1] : m.start()]):
            runs[-1].append(group)
        else:
            runs.append([group])
    return runs


def hex_mixes_digits_and_letters(text: str) -> bool:
    """Random hex of any length worth a key's half has both; "dead beef cafe" does not."""
    return any(c.isdigit() for c in text) and any(c in "abcdefABCDEF" for c in text)


def _grouped_hex_key_spans(text: str) -> list[tuple[int, int]]:
    """64 hex digits in groups of one size (8 x 8, 16 x 4, 32 x 2, 2 x 32)."""
    spans = []
    for run in hex_group_runs(text):
        for i in range(len(run)):
            size = run[i][2]
            count = KEY_HEX_DIGITS // size
            groups = run[i : i + count]
            if size * count != KEY_HEX_DIGITS or count < 2 or len(groups) < count:
                continue
            if all(g[2] == size for g in groups) and hex_mixes_digits_and_letters(text[groups[0][0] : groups[-1][1]]):
                spans.append((groups[0][0], groups[-1][1]))
    return spans


def speaks_of_a_transaction(text: str) -> bool:
    """A message that calls its hex a transaction (and names no private key): a TXID."""
    return bool(_TX_WORDS.search(text)) and not _KEY_WORDS.search(text)


def names_a_private_key(text: str) -> bool:
    return bool(_KEY_WORDS.search(text))


def mentions_a_transaction(text: str) -> bool:
    return bool(_TX_WORDS.search(text))


def _private_key_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    if not speaks_of_a_transaction(text):
        spans += [m.span() for m in _HEX64.finditer(text)]
        spans += _grouped_hex_key_spans(text)
    spans += [m.span() for m in _WIF.finditer(text) if _base58check_ok(m.group())]
    spans += [m.span() for m in _XPRV.finditer(text)]
    spans += [m.span() for m in _BASE58_KEYPAIR.finditer(text)]
    return spans


def _api_secret_spans(text: str) -> list[tuple[int, int]]:
    spans = [m.span(1) for m in _API_SECRET.finditer(text)]
    for m in _LONG_TOKEN.finditer(text):
        token = m.group()
        mixed = any(c.isupper() for c in token) and any(c.islower() for c in token) and any(c.isdigit() for c in token)
        monero = len(token) == 95 and token[0] in "48"
        if mixed and not monero:
            spans.append(m.span())
    return spans


_DETECTORS = (
    (MNEMONIC, _mnemonic_spans),
    (PRIVATE_KEY, _private_key_spans),
    (API_SECRET, _api_secret_spans),
    (PASSWORD, password_spans),
)


def scan(text: str) -> GuardResult:
    """Find and redact every secret in `text`. Pure: nothing is stored or logged here."""
    hits: list[tuple[int, int, str]] = []
    for kind, detect in _DETECTORS:
        hits += [(start, end, kind) for start, end in detect(text) if end > start]
    # Text redacted before (a stored message handled again) keeps its kinds, so its warning too.
    hits += [(m.start(), m.end(), m.group()[1:].split(" ")[0]) for m in MARKER_PATTERN.finditer(text)]
    if not hits:
        return GuardResult(text, ())
    hits.sort(key=lambda h: (h[0], -h[1]))
    merged: list[list] = []
    for start, end, kind in hits:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            continue
        merged.append([start, end, kind])
    pieces, cursor = [], 0
    for start, end, kind in merged:
        pieces += [text[cursor:start], marker(kind)]
        cursor = end
    pieces.append(text[cursor:])
    kinds = tuple(k for k in KINDS if any(h[2] == k for h in merged))
    return GuardResult("".join(pieces), kinds)
