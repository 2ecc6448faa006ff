"""What a demo user does on the link page the bot hands out: sign in with the demo password.
Tests and `make bench` link users through this one step."""

from __future__ import annotations

import urllib.parse
import urllib.request

from demo_backoffice.seed import DEMO_PASSWORD


def sign_in_on_link_page(url: str, user: str, password: str = DEMO_PASSWORD) -> str:
    """POST the demo account's name and password to a link page; the page the user then sees
    (raises urllib.error.HTTPError when the back office refuses)."""
    form = urllib.parse.urlencode({"username": user, "password": password}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=form, method="POST"), timeout=10) as response:
        return response.read().decode()
