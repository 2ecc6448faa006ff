"""The secret guard: finds seed phrases, private keys, API secrets and passwords that users
paste, and redacts them before anything stores, logs or classifies the text.

It errs on the side of redacting: a redacted harmless string costs nothing, a stored seed
phrase costs a user their funds. The one deliberate exception is a 64-hex string that the
message calls a transaction (tx hash, txid, 交易哈希 ...): deposit questions need those, and
they are public on chain anyway.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from mnemonic import Mnemonic

MNEMONIC = "mnemonic"
PRIVATE_KEY = "private_key"
API_SECRET = "api_secret"
PASSWORD = "password"
KINDS = (MNEMONIC, PRIVATE_KEY, API_SECRET, PASSWORD)

MIN_MNEMONIC_WORDS = 12
_MNEMONIC_LENGTHS = (24, 21, 18, 15, 12)
_HAN_WORDLISTS = ("chinese_simplified", "chinese_traditional")

# What may stand between two words of a pasted phrase: spaces, commas, numbering ("1." "2)").
_WORD_GAP = re.compile(r"[\s,，、;；.。·:：|/()\[\]#\-–—\d]{0,8}")
# Letters, with combining marks (NFD text, and Japanese phrases in NFKD form) kept inside words.
_WORD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f\u3099-\u309c])+")
_HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_OR_OTHER = re.compile(f"[{_HAN_RANGES}]|[^{_HAN_RANGES}]+")
_SEED_WORDS = re.compile(
    r"seed|mnemonic|recovery|phrase|助记|助記|种子|種子|恢复|恢復|リカバリー|シード|복구|시드|"
    r"сид|мнемон|фраз|semilla|frase|phrase|graine|cụm từ|hạt giống",
    re.IGNORECASE,
)

_HEX64 = re.compile(r"(?<![0-9A-Za-z])(?:0x)?[0-9a-fA-F]{64}(?![0-9A-Za-z])")
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

_PASSWORD_WORDS = re.compile(
    r"\bpass(?:word|wd|code)?s?\b|\bpwd\b|\bpw\b|\bcontrase[ñn]as?\b|\bclave\b|\bmot\s+de\s+passe\b|\bmdp\b|"
    r"\bпарол[ьяюе]м?|\bпасс?\b|\bпасс?ворд|密码|密碼|\bmm(?=\s*[是:：])|パスワード|パス(?!ポート)|비밀\s*번호|비번|암호|"
    r"\bm[aậ]t\s*kh[aẩ]u\b|\bmk\b|\bsenha\b",
    re.IGNORECASE,
)
# A password is one run of characters that are not spaces, CJK text or sentence punctuation.
_PW_TOKEN = re.compile(r"[^\s,，。、:：=→>\"'`“”«»「」()\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]{4,64}")
_EXPLICIT_SEPARATOR = re.compile(r"[^\n]{0,30}?[:：=→]")
# Not the apostrophe: French and English put it inside words (m'envoie, d'erreur, don't).
_QUOTED = re.compile(r"[\"`“«「]([^\"`”»」\n]{4,64})[\"`”»」]")
_URL_OR_EMAIL = re.compile(r"://|^www\.|@[\w-]+\.\w|\.(?:com|net|org|io)\b", re.IGNORECASE)
_WORDS_AFTER = 5  # "mi contraseña de la cuenta es X": a few words may stand between
_WORDS_BEFORE = 3  # "tried X as my pass"
_QUOTE_GAP = 12  # 'password is "two words"', 'password changed to "two words"'

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
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def _wordlists() -> dict[str, frozenset[str]]:
    return {lang: frozenset(_fold(w) for w in Mnemonic(lang).wordlist) for lang in Mnemonic.list_languages()}


def _is_gap(text: str) -> bool:
    return _WORD_GAP.fullmatch(text) is not None


def _word_spans(text: str) -> list[tuple[int, int, str]]:
    """Letter runs, with runs of Han characters split into single characters (the Chinese
    wordlists hold one character per word)."""
    spans = []
    for m in _WORD.finditer(text):
        start = m.start()
        for piece in _HAN_OR_OTHER.finditer(m.group()):
            spans.append((start + piece.start(), start + piece.end(), _fold(piece.group())))
    return spans


# What may follow 助记/种子 before the phrase itself: "助记词是", "种子短语：".
_SEED_WORD_TAIL = set("词詞是为為短语語句子")


def _unspaced_han_phrase(text: str, run: list[tuple[int, int, str]], lang: str) -> tuple[int, int] | None:
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


def _mnemonic_spans(text: str) -> list[tuple[int, int]]:
    words = _word_spans(text)
    found: list[tuple[int, int]] = []
    for lang, wordlist in _wordlists().items():
        i = 0
        while i < len(words):
            if words[i][2] not in wordlist:
                i += 1
                continue
            j = i
            spaced = True
            while j + 1 < len(words) and words[j + 1][2] in wordlist and _is_gap(text[words[j][1] : words[j + 1][0]]):
                spaced = spaced and words[j][1] != words[j + 1][0]
                j += 1
            run = words[i : j + 1]
            if len(run) >= MIN_MNEMONIC_WORDS:
                if spaced or lang not in _HAN_WORDLISTS:
                    found.append((run[0][0], run[-1][1]))
                else:
                    span = _unspaced_han_phrase(text, run, lang)
                    if span:
                        found.append(span)
            i = j + 1
    return found


def _base58check_ok(token: str) -> bool:
    number = 0
    for char in token:
        number = number * 58 + _BASE58.index(char)
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    payload, checksum = raw[:-4], raw[-4:]
    return len(payload) in (33, 34) and hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == checksum


def _private_key_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    hexes = list(_HEX64.finditer(text))
    if hexes and not (_TX_WORDS.search(text) and not _KEY_WORDS.search(text)):
        spans += [m.span() for m in hexes]
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


def _looks_like_password(token: str) -> bool:
    """Letters with digits or symbols, or inner capitals: "Summer2024", "Lena1990qwe",
    "moon7Rabbit88"; not "wrong", "2024", "12:30" or an e-mail address."""
    token = token.rstrip(".,!?;)")
    if len(token) < 6 or _URL_OR_EMAIL.search(token):
        return False
    has_letter = any(c.isalpha() for c in token)
    has_digit = any(c.isdigit() for c in token)
    # Hyphens, apostrophes and dots join ordinary words too (кто-то, e-mail, l'app).
    has_symbol = any(not c.isalnum() and c not in "-'’." for c in token)
    inner_upper = any(c.isupper() for c in token[1:]) and any(c.islower() for c in token)
    return has_letter and (has_digit or has_symbol or inner_upper)


def _password_spans(text: str) -> list[tuple[int, int]]:
    """Around each password word: after "password:" whatever comes; in a window of a few
    words before or after it, a token that looks like a password; anything quoted after it."""
    spans = []
    for keyword in _PASSWORD_WORDS.finditer(text):
        after = keyword.end()
        explicit = _EXPLICIT_SEPARATOR.match(text, after)
        if explicit:
            token = _PW_TOKEN.search(text, explicit.end())
            near = token is not None and token.start() - explicit.end() <= 8
            if near and (_looks_like_password(token.group()) or explicit.end() - after <= 2):
                spans.append(token.span())
        for token in [t for t in _PW_TOKEN.finditer(text, after) if t.start() < after + 80][:_WORDS_AFTER]:
            if _looks_like_password(token.group()):
                spans.append(token.span())
                break
        for token in list(_PW_TOKEN.finditer(text, max(0, keyword.start() - 60), keyword.start()))[-_WORDS_BEFORE:]:
            # Before the word, letters alone are a name ("PayPalの パスワード", "iPhone passcode"):
            # a password there must carry a digit or a symbol ("tried Summer2024 as my pass").
            if _looks_like_password(token.group()) and not token.group().isalpha():
                spans.append(token.span())
        quoted = _QUOTED.search(text, after, after + 100)
        if quoted and _quotes_a_password(quoted, after):
            spans.append(quoted.span(1))
    return spans


def _quotes_a_password(quoted: re.Match, keyword_end: int) -> bool:
    """Whether quoted text after a password word is the password: not a quoted notice that
    names passwords itself ("password changed successfully", 「パスワードが変更されました」), and
    words with spaces only right after the password word (`password "correct horse"`), not
    later in the sentence."""
    inside = quoted.group(1)
    if _PASSWORD_WORDS.search(inside):
        return False
    return not re.search(r"\S\s+\S", inside) or quoted.start() - keyword_end <= _QUOTE_GAP


_DETECTORS = (
    (MNEMONIC, _mnemonic_spans),
    (PRIVATE_KEY, _private_key_spans),
    (API_SECRET, _api_secret_spans),
    (PASSWORD, _password_spans),
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
