"""The secret guard's password finder: a password is only ever found next to a word for
password ("password", "contraseña", "пароль", "密码", "パスワード", "비밀번호", "mật khẩu" ...), in
all the ways users write it: "password: X", "my password is hunter", "tried X as my pass",
'password "two words"'.

It is stricter than the other finders on purpose: questions about passwords are among the
commonest a support bot gets, and a redacted question is a question the bot cannot answer.
"""

from __future__ import annotations

import re

PASSWORD_WORDS = re.compile(
    r"\bpass(?:word|wd|code)?s?\b|\bpwd\b|\bpw\b|\bcontrase[ñn]as?\b|\bclave\b|\bmot\s+de\s+passe\b|\bmdp\b|"
    r"\bпарол[ьяюе]м?|\bпасс?\b|\bпасс?ворд|密码|密碼|\bmm(?=\s*[是:：])|パスワード|パス(?!ポート)|비밀\s*번호|비번|암호|"
    r"\bm[aậ]t\s*kh[aẩ]u\b|\bmk\b|\bsenha\b",
    re.IGNORECASE,
)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
# A password is one run of characters that are not spaces, CJK text or sentence punctuation.
_PW_TOKEN = re.compile(rf"[^\s,，。、:：=→>\"'`“”«»「」(){_CJK}]{{4,64}}")
_EXPLICIT_SEPARATOR = re.compile(r"[^\n]{0,30}?[:：=→]")
# Not the apostrophe: French and English put it inside words (m'envoie, d'erreur, don't).
_QUOTED = re.compile(r"[\"`“«「]([^\"`”»」\n]{4,64})[\"`”»」]")
_URL_OR_EMAIL = re.compile(r"://|^www\.|@[\w-]+\.\w|\.(?:com|net|org|io)\b", re.IGNORECASE)
_WORDS_AFTER = 5  # "mi contraseña de la cuenta es X": a few words may stand between
_WORDS_BEFORE = 3  # "tried X as my pass"
_QUOTE_GAP = 12  # 'password is "two words"', 'password changed to "two words"'

# Between a password before its word and the word: a few words, no end of a sentence or of a
# label ("tried X as my pass", not "Q0a01x03: how do I reset my password").
_BEFORE_GAP = re.compile(r"[^:：?？!！。.\n]{0,30}")
_MAX_WORDS_BETWEEN = 2

# "my password is hunter": the word for password, then "is" (or its like), then one word that
# ends the sentence. Letters alone are a password only there.
_LINKED = re.compile(
    r"[ \t]*(?:(?:is|was|es|era|est|était|это|là)[ \t]+|[—–-][ \t]+|[ \t]*(?:是|为|為|は|는|은)[ \t]*)",
    re.IGNORECASE,
)
_BARE_WORD = re.compile(r"[A-Za-z]{4,32}")
_CLAUSE_END = re.compile(
    rf"[.!?;,)]|\s*$|\s*\n|[ \t]*[{_CJK}]|[ \t]+(?:and|but|or|y|pero|et|mais|и|но|а|và|nhưng)\b",
    re.IGNORECASE,
)
# What follows "my password is" when it describes the password instead of being it (the
# languages whose linking word puts a Latin word there: English, Spanish, French).
_DESCRIBING_WORDS = frozenset(
    # English: what a password is (or is not), and words that end a question instead.
    "wrong incorrect correct right invalid valid weak strong fine good okay same different long short empty "
    "blank secure insecure safe unsafe simple easy hard complex sensitive required needed mandatory optional "
    "gone broken lost stolen forgotten known unknown hidden written taken given chosen frozen useless reset "
    "done weird strange over also still again true false real fake mine ours yours theirs none nothing "
    "something anything everything public private please help here there this that what which when where "
    "urgent "
    # Spanish and French, the other languages that put a Latin word after their "is".
    "incorrecta incorrecto correcta correcto mala malo buena bueno igual diferente distinta distinto nueva "
    "nuevo vieja viejo otra otro esta este esa ese larga largo corta corto segura seguro fuerte vacia "
    "faux fausse bonne mauvais mauvaise valide invalide vide longue courte nouveau nouvelle ancien ancienne "
    "faible fort forte juste pareil pareille identique".split()
)
_DESCRIBING_ENDINGS = ("ed", "ing", "ly", "ible", "able", "ous", "ful", "less", "ive", "ent", "ant",
                       "ado", "ada", "ido", "ida", "mente", "ment", "oso", "osa")  # fmt: skip


def looks_like_password(token: str) -> bool:
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


def password_spans(text: str) -> list[tuple[int, int]]:
    """Around each password word: after "password:" whatever comes; after "password is" a
    bare word that ends the sentence; in a window of a few words before or after it, a token
    that looks like a password; anything quoted after it."""
    spans = []
    for keyword in PASSWORD_WORDS.finditer(text):
        spans += _explicit(text, keyword.end())
        spans += _linked_bare_word(text, keyword.end())
        spans += _password_like_after(text, keyword.end())
        spans += _password_like_before(text, keyword.start())
        quoted = _QUOTED.search(text, keyword.end(), keyword.end() + 100)
        if quoted and _quotes_a_password(quoted, keyword.end()):
            spans.append(quoted.span(1))
    return spans


def _explicit(text: str, after: int) -> list[tuple[int, int]]:
    """After "password: X" or "password = X": the token after the separator; whatever it looks
    like when the separator follows the word at once."""
    explicit = _EXPLICIT_SEPARATOR.match(text, after)
    if not explicit:
        return []
    token = _PW_TOKEN.search(text, explicit.end())
    near = token is not None and token.start() - explicit.end() <= 8
    if near and (looks_like_password(token.group()) or explicit.end() - after <= 2):
        return [token.span()]
    return []


def _linked_bare_word(text: str, after: int) -> list[tuple[int, int]]:
    """In "my password is hunter", "密码是hunter", "비밀번호는 hunter": one word of Latin letters
    that ends the sentence and does not describe the password ("is wrong", "is expired")."""
    linked = _LINKED.match(text, after)
    word = _BARE_WORD.match(text, linked.end()) if linked else None
    if not word or not _CLAUSE_END.match(text, word.end()):
        return []
    lowered = word.group().lower()
    if lowered in _DESCRIBING_WORDS or lowered.endswith(_DESCRIBING_ENDINGS):
        return []
    return [word.span()]


def _password_like_after(text: str, after: int) -> list[tuple[int, int]]:
    for token in [t for t in _PW_TOKEN.finditer(text, after) if t.start() < after + 80][:_WORDS_AFTER]:
        if looks_like_password(token.group()):
            return [token.span()]
    return []


def _password_like_before(text: str, before: int) -> list[tuple[int, int]]:
    spans = []
    for token in list(_PW_TOKEN.finditer(text, max(0, before - 60), before))[-_WORDS_BEFORE:]:
        # Before the word, letters alone are a name ("PayPalの パスワード", "iPhone passcode"):
        # a password there must carry a digit or a symbol ("tried Summer2024 as my pass").
        if not looks_like_password(token.group()) or token.group().isalpha():
            continue
        between = text[token.end() : before]
        if _BEFORE_GAP.fullmatch(between) and len(between.split()) <= _MAX_WORDS_BETWEEN:
            spans.append(token.span())
    return spans


def _quotes_a_password(quoted: re.Match, keyword_end: int) -> bool:
    """Whether quoted text after a password word is the password: not a quoted notice that
    names passwords itself ("password changed successfully", 「パスワードが変更されました」), and
    words with spaces only right after the password word (`password "correct horse"`), not
    later in the sentence."""
    inside = quoted.group(1)
    if PASSWORD_WORDS.search(inside):
        return False
    return not re.search(r"\S\s+\S", inside) or quoted.start() - keyword_end <= _QUOTE_GAP
