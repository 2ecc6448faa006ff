"""The HTML of the exchange's pages, inline and plain (no script, no external file).

Every value from outside (a display name, a user name, a platform user id) goes through
`html.escape` here, in one place, so a name like `<script>` is shown, never run.
"""

from __future__ import annotations

import html
import sqlite3

from demo_backoffice.common import PLATFORMS

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    ".demo{background:#fff3cd;border:1px solid #e0c36a;padding:.4rem .7rem;font-size:.9rem}"
    ".warn{border-left:4px solid #c0392b;padding-left:.7rem}.error{color:#c0392b;font-weight:bold}"
    "label{display:block;margin:.6rem 0}input{font-size:1rem;padding:.3rem}button{font-size:1rem;padding:.3rem .8rem}"
    "li{margin:.4rem 0}"
)
BANNER = (
    '<p class="demo">Demo back office: not a real exchange. Every demo account (alice, bob, carol, dave, erin) '
    "has the password <code>demo</code>.</p>"
)
WARNING = (
    "Only continue if this is your own chat. The support bot will never ask you for your password, a code or a key."
)
ALLOWS = (
    "see the status of your deposits and withdrawals",
    "see your KYC level and VIP tier",
    "see the restrictions on your account and why",
    "freeze your account when you ask it to",
)
WRONG_CREDENTIALS = "wrong user name or password"


def e(value: object) -> str:
    """Escape `value` for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def page(title: str, body: str) -> str:
    """A whole page: banner, title and `body` (already HTML)."""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>'
        f"<body>{BANNER}<h1>{e(title)}</h1>{body}</body></html>"
    )


def message(title: str, text: str) -> str:
    """A page that only says something (expired, used, linked, ...)."""
    return page(title, f"<p>{e(text)}</p>")


def who(platform: str, display_name: str, platform_user_id: str) -> str:
    """Who asks, escaped: "Telegram user Alice, id ending …1234"."""
    return e(f"{PLATFORMS.get(platform, platform)} user {display_name}, id ending …{platform_user_id[-4:]}")


def _sign_in_fields(username: str = "") -> str:
    return (
        f'<label>User name <input name="username" autocomplete="username" required value="{e(username)}"></label>'
        '<label>Password <input name="password" type="password" autocomplete="current-password" required></label>'
    )


def link_form(request: sqlite3.Row, error: str | None = None) -> str:
    """The link page: who asks, what linking allows, the warning, and the sign-in form."""
    allows = "".join(f"<li>{e(item)}</li>" for item in ALLOWS)
    error_html = f'<p class="error">{e(error)}</p>' if error else ""
    body = (
        f"<p><strong>{who(request['platform'], request['display_name'], request['platform_user_id'])}</strong>"
        " asks to link this chat to your account.</p>"
        f"<p>Linking lets the support bot:</p><ul>{allows}</ul>"
        "<p>It never sees your password, your full user id, your balances or your addresses, and you can remove "
        'the link at any time on <a href="/links">your linked chats</a> page.</p>'
        f'<p class="warn">{e(WARNING)}</p>{error_html}'
        f'<form method="post" action="/link/{e(request["request_id"])}">{_sign_in_fields()}'
        "<button>Sign in and link</button></form>"
    )
    return page("Link your account to the support chat", body)


def links_sign_in(error: str | None = None, username: str = "") -> str:
    """The links page before sign-in."""
    error_html = f'<p class="error">{e(error)}</p>' if error else ""
    body = (
        "<p>Sign in to see the chats linked to your account and remove any of them.</p>"
        f'{error_html}<form method="post" action="/links">{_sign_in_fields(username)}'
        "<button>Sign in</button></form>"
    )
    return page("Your linked chats", body)


def links_list(username: str, links: list[sqlite3.Row], notice: str | None = None) -> str:
    """The links page after sign-in: each linked chat with a Remove button.

    One form: the password is typed again to remove (it is never put back into the page), and
    the button pressed names the link.
    """
    notice_html = f"<p><strong>{e(notice)}</strong></p>" if notice else ""
    if links:
        rows = "".join(
            f"<li>{who(r['platform'], r['display_name'], r['platform_user_id'])} "
            f'<button name="account_ref" value="{e(r["account_ref"])}">Remove</button></li>'
            for r in links
        )
        listing = (
            f'<form method="post" action="/links"><input type="hidden" name="username" value="{e(username)}">'
            '<label>Password (again, to remove a link) <input name="password" type="password" '
            f'autocomplete="current-password" required></label><ul>{rows}</ul></form>'
        )
    else:
        listing = "<p>No chat is linked to this account.</p>"
    return page("Your linked chats", f"{notice_html}<p>Signed in as {e(username)}.</p>{listing}")
