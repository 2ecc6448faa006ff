"""tweepy's AsyncClient as the X channel uses it: sent to X or to another base URL (a proxy,
the tests' stand-in), and waiting out 429s itself."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
import tweepy
import yarl
from tweepy.asynchronous import AsyncClient

X_API = yarl.URL("https://api.twitter.com")
log = logging.getLogger("adapters.x")


class RedirectedSession:
    """tweepy has X's host built in: this session sends its requests to `base_url` instead (a
    proxy, or the tests' stand-in), path and signed query kept byte for byte. tweepy signs
    before it calls `request`, on the original URL."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base = yarl.URL(base_url)

    def request(self, method: str, url: str | yarl.URL, **kwargs: Any) -> Any:
        original = url if isinstance(url, yarl.URL) else yarl.URL(url)
        if original.origin() == X_API:
            url = yarl.URL.build(scheme=self.base.scheme, host=self.base.host, port=self.base.port,
                                 path=original.raw_path, query_string=original.raw_query_string,
                                 encoded=True)  # fmt: skip
        return self.session.request(method, url, **kwargs)

    async def close(self) -> None:
        await self.session.close()


class PatientClient(AsyncClient):
    """tweepy's AsyncClient, waiting out 429s itself: tweepy's own wait retries OAuth 1.0a
    requests without their query and fails (tweepy 4.17)."""

    async def request(self, method: str, route: str, params: dict | None = None, json: dict | None = None,
                      user_auth: bool = False) -> Any:  # fmt: skip
        while True:
            try:
                return await super().request(method, route, params=params, json=json, user_auth=user_auth)
            except tweepy.TooManyRequests as exc:
                wait = max((exc.reset_time or 0) - time.time(), 0) + 1
                log.info("x: rate limited on %s, going on in %.0f s", route, wait)
                await asyncio.sleep(wait)
