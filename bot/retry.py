"""The one retry policy: what is worth another try, how long to wait (the server's word first),
how often. GitHub's REST calls, the diff stream and Gemini's calls all retry through it.

- GitHub: a connection failure or a 5xx, with backoff; a 403 or 429 that GitHub marks as a
  rate limit, after `Retry-After` or until `x-ratelimit-reset`.
- Gemini: what its client raises as `Transient` (429, 5xx, timeouts, malformed answers), after
  the `google.rpc.RetryInfo` delay when the error carries one, else with backoff.
A wait longer than the policy's `max_wait` is not waited out: the error stands.

A request that creates something (a POST) may have been done by GitHub when no answer or a
5xx came back (`may_have_happened`): github/client.py's `create` looks for the object before
it tries again, and a caller with no way to look gives up instead (`retrying(final=...)`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import aiohttp
import gidgethub
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt

from bot.errors import describe

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)s\s*")


class Outage(Exception):
    """A service stayed away through the in-place retries (Gemini's calls of a review failed
    unreachable or 5xx): a later try may well succeed. The message says which and how."""


class Transient(Exception):
    """A failure worth another try; `delay` is the wait the server asked for, if it said."""

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


@dataclass(frozen=True)
class Policy:
    attempts: int
    backoff_cap: float  # seconds; backoff doubles from 1 s up to this, with jitter
    max_wait: float  # the longest wait a server may ask for that is waited out
    sleep: Sleep = asyncio.sleep

    def retrying(
        self, what: object, *, final: Callable[[BaseException], bool] | None = None
    ) -> AsyncRetrying:
        """A tenacity loop for one request; `what` names it in the log (its str(), made only
        when a line is written). An error for which
        `final` says True is not retried, whatever the policy would do."""

        def worth(state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            if final is not None and exc is not None and final(exc):
                return False
            return self._worth_retrying(state)

        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            retry=worth,
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=lambda state: _log_retry(what, state),
            reraise=True,
        )

    def _worth_retrying(self, state: RetryCallState) -> bool:
        delay = self._delay(state)
        return delay is not None and delay <= self.max_wait

    def _wait(self, state: RetryCallState) -> float:
        return self._delay(state) or 0.0

    def _delay(self, state: RetryCallState) -> float | None:
        exc = state.outcome.exception() if state.outcome else None
        if exc is None:
            return None
        return delay_for(exc, state.attempt_number, self.backoff_cap)


def delay_for(exc: BaseException, attempt: int, cap: float) -> float | None:
    """Seconds to wait before trying again after `exc`, or None when it is final."""
    if isinstance(exc, Transient):
        return exc.delay if exc.delay is not None else backoff(attempt, cap)
    if isinstance(exc, (aiohttp.ClientConnectionError, TimeoutError)):
        return backoff(attempt, cap)
    if isinstance(exc, gidgethub.GitHubBroken):
        return backoff(attempt, cap)
    if isinstance(exc, gidgethub.BadRequest):
        return github_wait(exc.status_code, exc.headers)
    return None


def outage(exc: BaseException) -> bool:
    """Whether `exc`, raised after its in-place retries, may be mended by time: the service
    unreachable or timing out, a 5xx, a rate limit (GitHub's secondary ones included), or an
    `Outage`. A 4xx that is no rate limit (a deleted PR, a revoked installation) is final."""
    return isinstance(exc, Outage) or delay_for(exc, 1, 1.0) is not None


def never_sent(exc: BaseException) -> bool:
    """Whether a failed request never reached the server: no connection was made (refused,
    a DNS or TLS failure, a proxy's refusal: `ClientConnectorError`; a connect timeout), so
    nothing was sent. Gemini bills nothing for it, and GitHub did nothing."""
    return isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError))


def may_have_happened(exc: BaseException) -> bool:
    """Whether GitHub may have done what a failed request asked: it was sent and no answer
    came back (a timeout, a dropped connection), or GitHub answered 5xx. A request that was
    never sent (`never_sent`) did nothing; a 4xx (a rate limit among them) is GitHub saying
    it did nothing."""
    if never_sent(exc):
        return False
    return isinstance(exc, (aiohttp.ClientConnectionError, TimeoutError, gidgethub.GitHubBroken))


def github_wait(status: int, headers: Mapping[str, str]) -> float | None:
    """The wait GitHub asks for on a rate limit (403 or 429), or None: not a rate limit."""
    if status not in (HTTPStatus.FORBIDDEN, HTTPStatus.TOO_MANY_REQUESTS):
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    retry_after = lower.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return 60.0  # an HTTP date: GitHub's docs say to wait a minute
    reset, remaining = lower.get("x-ratelimit-reset"), lower.get("x-ratelimit-remaining")
    if reset is not None and (remaining == "0" or status == HTTPStatus.TOO_MANY_REQUESTS):
        try:
            return max(0.0, float(reset) - time.time()) + 1.0
        except ValueError:
            return None
    return None


def retry_info(body: Any) -> float | None:
    """The seconds a google.rpc.RetryInfo in an error body asks us to wait, if any."""
    error = body.get("error", body) if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and detail.get("@type") == RETRY_INFO:
            match = _DURATION.fullmatch(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def backoff(attempt: int, cap: float, first: float = 1.0) -> float:
    """Exponential backoff with jitter after the `attempt`-th failure: `first` (1 s unless
    said), twice that, four times ... capped at `cap`; a wait between half and all of it."""
    ceiling = min(cap, first * 2.0 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret


def _log_retry(what: object, state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning(
        "%s: attempt %d failed (%s); retrying in %.1f s",
        what,
        state.attempt_number,
        _short(exc),
        wait,
    )


def _short(exc: BaseException | None) -> str:
    if isinstance(exc, gidgethub.HTTPException):
        return f"{int(exc.status_code)} {exc}"
    return describe(exc) if exc is not None else "?"
