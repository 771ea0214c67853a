"""App JWT and cached installation tokens; gidgethub API objects that retry what GitHub asks."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiohttp
import gidgethub
from gidgethub import apps, sansio
from gidgethub.aiohttp import GitHubAPI

from bot.logs import add_secret

log = logging.getLogger(__name__)

REQUESTER = "second-look"
TOKEN_MARGIN = 5 * 60  # renew an installation token this long before GitHub expires it


class GitHubError(Exception):
    """GitHub refused a request; the message carries its status and its own words."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        self.status = status
        super().__init__(f"GitHub answered {status} to {method} {path}: {message}")


def retry_delay(status: int, headers: Mapping[str, str], attempt: int) -> float | None:
    """Seconds to wait before retrying, or None when the answer is final.

    5xx is retried with backoff; 403/429 only when GitHub marks it a rate limit
    (Retry-After, or x-ratelimit-remaining 0 with x-ratelimit-reset).
    """
    retry_after = headers.get("retry-after") or headers.get("Retry-After")
    if status >= 500:
        return min(2.0 ** (attempt - 1), 8.0) * (0.5 + random.random() / 2)  # noqa: S311
    if status not in (403, 429):
        return None
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return 60.0
    reset = headers.get("x-ratelimit-reset") or headers.get("X-RateLimit-Reset")
    remaining = headers.get("x-ratelimit-remaining") or headers.get("X-RateLimit-Remaining")
    if reset is not None and (remaining == "0" or status == 429):
        try:
            return max(0.0, float(reset) - time.time()) + 1.0
        except ValueError:
            return None
    return None


class RetryingGitHubAPI(GitHubAPI):
    """gidgethub's aiohttp API that retries 5xx and rate limits, then raises GitHubError."""

    def __init__(self, *args: Any, max_attempts: int = 4, max_wait: float = 60, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_attempts = max_attempts
        self.max_wait = max_wait

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: gidgethub.HTTPException, attempt: int
    ) -> bool:
        delay = retry_delay(int(exception.status_code), exception.headers, attempt)
        if delay is None or attempt >= self.max_attempts or delay > self.max_wait:
            return False
        log.info(
            "GitHub %s %s answered %d; retry in %.1f s",
            method,
            _path(url),
            int(exception.status_code),
            delay,
        )
        await self.sleep(delay)
        return True

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        for attempt in range(1, self.max_attempts + 1):
            try:
                return await super()._request(method, url, headers, body)
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                if attempt == self.max_attempts:
                    raise GitHubError(method, _path(url), 0, f"unreachable ({exc!r})") from None
                await self.sleep(min(2.0**attempt, 8.0))
        raise AssertionError("unreachable")

    async def _make_request(  # type: ignore[override]
        self, method: str, url: str, url_vars: Mapping[str, Any] | None, *args: Any, **kwargs: Any
    ):
        try:
            return await super()._make_request(method, url, url_vars, *args, **kwargs)
        except gidgethub.HTTPException as exc:
            path = _path(sansio.format_url(url, url_vars, base_url=self.base_url))
            message = str(exc) or exc.status_code.phrase
            raise GitHubError(method, path, int(exc.status_code), message) from None


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]


class GitHubClient:
    """The App's identity, one HTTP session, and a token cache shared by every review."""

    def __init__(
        self, http: aiohttp.ClientSession, *, api_url: str, app_id: str, private_key: str
    ) -> None:
        self.http = http
        self.api_url = api_url.rstrip("/")
        self.app_id = app_id
        self._private_key = private_key
        self._tokens: dict[int, tuple[str, float]] = {}
        self._pending: dict[int, asyncio.Future[str]] = {}

    def app_api(self) -> RetryingGitHubAPI:
        """An API object that authenticates as the App itself (JWT)."""
        return RetryingGitHubAPI(
            self.http,
            REQUESTER,
            base_url=self.api_url,
            app_id=self.app_id,
            private_key=self._private_key,
        )

    async def api(self, installation_id: int) -> RetryingGitHubAPI:
        """An API object for one installation, with a token valid for 5 more minutes."""
        token = await self.token(installation_id)
        return RetryingGitHubAPI(self.http, REQUESTER, oauth_token=token, base_url=self.api_url)

    async def token(self, installation_id: int) -> str:
        """A cached installation token; concurrent callers share one request for it."""
        cached = self._tokens.get(installation_id)
        if cached is not None and time.time() < cached[1] - TOKEN_MARGIN:
            return cached[0]
        pending = self._pending.get(installation_id)
        if pending is None:
            pending = asyncio.ensure_future(self._mint(installation_id))
            self._pending[installation_id] = pending
            pending.add_done_callback(lambda _: self._pending.pop(installation_id, None))
        return await asyncio.shield(pending)

    async def _mint(self, installation_id: int) -> str:
        answer = await apps.get_installation_access_token(
            self.app_api(),
            installation_id=str(installation_id),
            app_id=self.app_id,
            private_key=self._private_key,
        )
        token = answer["token"]
        add_secret(token)
        expires = datetime.fromisoformat(answer["expires_at"].replace("Z", "+00:00")).timestamp()
        self._tokens[installation_id] = (token, expires)
        log.info(
            "installation %s: new token, valid until %s", installation_id, answer["expires_at"]
        )
        return token

    async def installation_for(self, owner: str, repo: str) -> int:
        """The installation id of the App on a repository (for the command line)."""
        answer = await self.app_api().getitem(
            "/repos/{owner}/{repo}/installation", url_vars={"owner": owner, "repo": repo}
        )
        return int(answer["id"])
