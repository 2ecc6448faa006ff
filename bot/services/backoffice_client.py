"""The bot's side of the back-office contract (docs/backoffice-api.yaml): HTTP JSON calls to
the exchange with the service token, each within a timeout.

Whatever goes wrong on the exchange's side (no answer within `timeout_seconds`, a 5xx, a body
that is not the contract's) is one exception, `BackOfficeDown`: the caller answers the general
way and says it cannot see the account now. A link the exchange removed (410) or never knew
(404) is `LinkGone`: the bot forgets it. The token is sent, never logged; neither is a path
(an account_ref names a user's link) or a query (a txid says which deposit a user asked about).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Optional
from urllib.parse import quote

import aiohttp

from bot import metrics
from bot.domain.accounts import Account, BadAnswer, Deposit, Withdrawal, account_from, deposits_from, withdrawals_from

log = logging.getLogger(__name__)


class BackOfficeDown(Exception):
    """The back office did not answer in time, failed, or answered outside the contract."""


class LinkGone(Exception):
    """The exchange removed this link (410) or does not know it (404)."""


class BackOfficeClient:
    """One exchange's back office: `url` (its /v1 routes' base), the service `token`."""

    def __init__(self, url: str, token: str, timeout_seconds: float = 2.0) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: Optional[aiohttp.ClientSession] = None

    def __repr__(self) -> str:  # never the token
        return f"BackOfficeClient({self.url!r})"

    async def link_request(self, platform: str, user_id: str, display_name: str, expires_in_s: int) -> dict:
        """A one-time link for the user to confirm on the exchange's site: request_id, url."""
        body = {"platform": platform, "platform_user_id": user_id, "display_name": display_name[:64] or "user",
                "expires_in_s": expires_in_s}  # fmt: skip
        answer = await self._call("POST", "/v1/link-requests", "link request", body=body, expect=(201,))
        if not isinstance(answer.get("request_id"), str) or not isinstance(answer.get("url"), str):
            raise self._down("link request", "not the contract's answer")
        return answer

    async def account(self, ref: str) -> Account:
        return self._parsed(account_from, await self._call("GET", f"/v1/links/{quote(ref)}/account", "account"))

    async def deposits(self, ref: str, txid: Optional[str] = None) -> list[Deposit]:
        query = {"txid": txid} if txid else {"limit": "5"}
        raw = await self._call("GET", f"/v1/links/{quote(ref)}/deposits", "deposits", query=query)
        return self._parsed(deposits_from, raw)

    async def withdrawals(self, ref: str) -> list[Withdrawal]:
        raw = await self._call("GET", f"/v1/links/{quote(ref)}/withdrawals", "withdrawals", query={"limit": "5"})
        return self._parsed(withdrawals_from, raw)

    async def freeze(self, ref: str, conversation: str, requested_by: str, reason: str) -> bool:
        """Freeze the account; True when it was frozen already."""
        body = {"conversation_id": conversation, "requested_by": requested_by, "reason": reason[:200]}
        answer = await self._call("POST", f"/v1/links/{quote(ref)}/actions/freeze", "freeze", body=body)
        if answer.get("status") != "frozen":
            raise self._down("freeze", "not the contract's answer")
        return bool(answer.get("already"))

    async def unlink(self, ref: str) -> None:
        """Tell the exchange the user removed the link (a link it removed already is fine)."""
        try:
            await self._call("DELETE", f"/v1/links/{quote(ref)}", "unlink", expect=(204,))
        except LinkGone:
            pass

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _call(self, method: str, path: str, what: str, body: Optional[dict] = None,
                    query: Optional[dict] = None, expect: tuple[int, ...] = (200,)) -> dict[str, Any]:  # fmt: skip
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers=self._headers)
        try:
            async with self._session.request(method, self.url + path, json=body, params=query) as response:
                raw = await response.read()
                status = response.status
        except asyncio.TimeoutError:
            raise self._down(what, "no answer in time") from None
        except aiohttp.ClientError as exc:
            raise self._down(what, type(exc).__name__) from None
        if status in (404, 410):
            raise LinkGone(what)
        if status not in expect:
            raise self._down(what, f"HTTP {status}")
        if not raw:
            return {}
        try:
            answer = json.loads(raw)
        except ValueError:
            raise self._down(what, "not JSON") from None
        if not isinstance(answer, dict):
            raise self._down(what, "not a JSON object")
        return answer

    def _parsed(self, parse: Any, raw: dict) -> Any:
        try:
            return parse(raw)
        except (BadAnswer, TypeError, ValueError) as exc:
            raise self._down("answer", f"not the contract's shape ({exc})") from None

    @staticmethod
    def _down(what: str, why: str) -> BackOfficeDown:
        metrics.BACKOFFICE_FAILURES.labels(what).inc()
        log.warning("back office: %s failed: %s", what, why)
        return BackOfficeDown(f"{what}: {why}")
