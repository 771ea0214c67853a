"""App JWT and cached installation tokens; gidgethub API objects that retry what GitHub asks."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import gidgethub
from gidgethub import sansio
from gidgethub.aiohttp import GitHubAPI
from yarl import URL

from bot.errors import describe
from bot.logs import add_secret
from bot.pull import Pull, Repo
from bot.retry import Outage, Policy, Sleep, may_have_happened

log = logging.getLogger(__name__)

REQUESTER = "second-look"
APP = "app"  # the installation label of the calls made with the App's JWT
TOKEN_MARGIN = 5 * 60  # renew an installation token this long before GitHub expires it

# What a creating POST's failed attempt may have created, looked for before another try.
Find = Callable[[], Awaitable[Mapping[str, Any] | None]]
# Set while `create` sends one attempt: `_make_request` then tries once, `create` decides.
_ONE_TRY: contextvars.ContextVar[bool] = contextvars.ContextVar("one_try", default=False)


class Counter(Protocol):
    """Where every GitHub answer is counted (the App's metrics): the core knows no more."""

    def github_answer(self, outcome: str, installation: str, remaining: int | None) -> None: ...


class GitHubUnreachable(gidgethub.GitHubException, Outage):
    """GitHub did not answer (connection refused, reset, timed out), even after retries: an
    outage, which the App waits out (bot/app/outage.py)."""


def url_vars(where: Repo | Pull, **more: str) -> dict[str, str]:
    """The URL variables of a request about a repository (`{owner}`, `{repo}`) or a pull
    request (`{number}` too), and `more`."""
    found = {"owner": where.owner, "repo": where.repo}
    if isinstance(where, Pull):
        found["number"] = str(where.number)
    return found | more


def has_status(exc: BaseException, status: HTTPStatus) -> bool:
    return isinstance(exc, gidgethub.HTTPException) and exc.status_code == status


class RetryingGitHubAPI(GitHubAPI):
    """gidgethub's aiohttp API whose every request goes through the retry policy.

    What GitHub refuses is raised as gidgethub's own exception (BadRequest, InvalidField,
    RateLimitExceeded, GitHubBroken ...), with `.request` naming the method and path.

    A POST that creates a comment, a review or a check run goes through `create`, which
    looks for what a failed attempt may have created before it tries again. Plain `post` is
    for the POSTs that may be repeated: a reaction (GitHub answers 200 for one that exists),
    an installation token, a redelivery (deliveries are deduplicated by id).
    """

    def __init__(self, *args: Any, policy: Policy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy

    async def query(self, query: str, **variables: Any) -> Any:
        """A GraphQL query or mutation beside the REST API (retried like REST); its `data`.

        An answer with `errors` raises gidgethub's GraphQLException (partial data and all).
        """
        endpoint = graphql_endpoint(self.base_url)
        with naming("POST /graphql"):
            async for attempt in self.policy.retrying("GitHub POST /graphql"):
                with attempt:
                    return await self.graphql(query, endpoint=endpoint, **variables)
        raise AssertionError("unreachable: the policy stops with the last error")

    async def create(
        self, url: str, *, url_vars: Mapping[str, Any], data: Any, find: Find | None
    ) -> Any:
        """POST what creates one object; GitHub's answer (the object).

        After a failure with which GitHub may have created it anyway (no answer, a 5xx), the
        next try first calls `find`, and what it finds is the answer: no duplicate. With
        `find` None such a failure is final (better missing than twice). Failures GitHub
        did nothing on (a refused connection, a rate limit) are retried as any request is.
        Only a failure costs a lookup: the first attempt is a plain POST.
        """
        request = _Named("POST", url, url_vars, self.base_url)
        look = False

        def final(exc: BaseException) -> bool:
            return find is None and may_have_happened(exc)

        with naming(request):
            async for attempt in self.policy.retrying(request.for_log, final=final):
                with attempt:
                    if look and find is not None:
                        found = await find()
                        if found is not None:
                            log.info(
                                "%s: the failed attempt had created %s", request, found.get("id")
                            )
                            return found
                    token = _ONE_TRY.set(True)
                    try:
                        return await self.post(url, url_vars=url_vars, data=data)
                    except BaseException as exc:
                        look = look or may_have_happened(exc)
                        raise
                    finally:
                        _ONE_TRY.reset(token)
        raise AssertionError("unreachable: the policy stops with the last error")

    async def _make_request(
        self, method: str, url: str, url_vars: Mapping[str, Any] | None, *args: Any, **kwargs: Any
    ) -> tuple[bytes, str | None, int]:
        if _ONE_TRY.get():  # one attempt of `create`, which retries and names it
            return await super()._make_request(method, url, url_vars, *args, **kwargs)
        request = _Named(method, url, url_vars, self.base_url)
        with naming(request):
            async for attempt in self.policy.retrying(request.for_log):
                with attempt:
                    return await super()._make_request(method, url, url_vars, *args, **kwargs)
        raise AssertionError("unreachable: the policy stops with the last error")


class _Named:
    """A request's "METHOD /path", formatted only when an error or a retry's log line needs
    it: expanding the URL template again for every request cost more than the name is worth."""

    def __init__(
        self, method: str, url: str, url_vars: Mapping[str, Any] | None, base_url: str
    ) -> None:
        self._parts = (method, url, url_vars, base_url)
        self._text: str | None = None
        self.for_log = _Prefixed("GitHub ", self)

    def __str__(self) -> str:
        if self._text is None:
            method, url, url_vars, base_url = self._parts
            self._text = f"{method} {_path(sansio.format_url(url, url_vars, base_url=base_url))}"
        return self._text


class _Prefixed:
    def __init__(self, prefix: str, named: _Named) -> None:
        self._prefix, self._named = prefix, named

    def __str__(self) -> str:
        return f"{self._prefix}{self._named}"


@contextmanager
def naming(request: object) -> Iterator[None]:
    """Tag what GitHub raises with `request` ("GET /path"); no answer is GitHubUnreachable."""
    try:
        yield
    except gidgethub.GitHubException as exc:
        exc.request = str(request)  # type: ignore[attr-defined]
        raise
    except (aiohttp.ClientConnectionError, TimeoutError) as exc:
        unreachable = GitHubUnreachable(describe(exc))  # the type and the host, not a repr
        unreachable.request = str(request)  # type: ignore[attr-defined]
        raise unreachable from None


def graphql_endpoint(api_url: str) -> str:
    """GraphQL's endpoint beside the REST API's: /graphql, or /api/graphql on GHE Server."""
    base = api_url.rstrip("/")
    return base.removesuffix("/v3") + "/graphql" if base.endswith("/api/v3") else base + "/graphql"


def web_url(api_url: str) -> str:
    """Where people see what the REST API at `api_url` serves (pull requests, the App's pages):
    `https://github.com` for `https://api.github.com`, `https://HOST` for GitHub Enterprise
    Server's `https://HOST/api/v3`, `https://SUB.ghe.com` for GHE.com's `https://api.SUB.ghe.com`.
    Anything else (a fake, a proxy) serves both."""
    parts = urlsplit(api_url.strip().rstrip("/"))
    path = parts.path.rstrip("/")
    host = parts.hostname or ""
    if path.endswith("/api/v3"):
        parts = parts._replace(path=path.removesuffix("/api/v3"))
    elif host.startswith("api.") and not path:
        parts = parts._replace(netloc=parts.netloc.replace(host, host.removeprefix("api."), 1))
    return urlunsplit(parts._replace(query="", fragment="")).rstrip("/")


@dataclass(frozen=True)
class Identity:
    """Who the App is on GitHub: its id (a setting) and its slug (GET /app; None until GitHub
    answers, and `unknown` says why it did not)."""

    app_id: str = ""
    slug: str | None = None
    unknown: str = ""  # why the last GET /app gave no slug ("": not asked yet, or known)

    @property
    def login(self) -> str | None:
        """The login its comments carry: `<slug>[bot]`."""
        return f"{self.slug}[bot]" if self.slug else None

    def wrote(self, login: str) -> bool:
        """Whether `login` is the App's bot (GraphQL names a bot without "[bot]")."""
        return self.slug is not None and login.removesuffix("[bot]").lower() == self.slug.lower()


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]


class GitHubClient:
    """The App's identity, one HTTP session, and a token cache shared by every review."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        api_url: str,
        app_id: str,
        private_key: str,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.http = http
        # Four tries, 1-8 s apart; a rate limit is waited out when it ends within a minute.
        self.policy = Policy(attempts=4, backoff_cap=8.0, max_wait=60.0, sleep=sleep)
        self.api_url = api_url.rstrip("/")
        self.app_id = app_id
        self._private_key = private_key
        self._tokens: dict[int, tuple[str, float]] = {}
        self._pending: dict[int, asyncio.Future[str]] = {}
        self._installation_of: dict[str, int] = {}  # token -> installation, for the metrics
        self.identity = Identity(str(app_id))
        self.metrics: Counter | None = None
        self._fixed_token = ""  # with_token: every installation uses this one

    @classmethod
    def with_token(
        cls, http: aiohttp.ClientSession, *, api_url: str, token: str, sleep: Sleep = asyncio.sleep
    ) -> GitHubClient:
        """A client that uses one token (a workflow's GITHUB_TOKEN, a person's) for every
        request, rather than the App's installation tokens; the installation id is unused."""
        client = cls(http, api_url=api_url, app_id="", private_key="", sleep=sleep)
        client._fixed_token = token
        add_secret(token)
        return client

    async def learn_identity(self) -> Identity:
        """Ask GitHub who the App is (GET /app); kept in `identity`, which every reader reads
        afresh. When GitHub gives no slug, `identity.slug` stays None and `identity.unknown`
        says why (the caller says what that turns off: bot/app/app_identity.py)."""
        if self.identity.slug:
            return self.identity
        try:
            answer = await self.app_api().getitem("/app")
        except (gidgethub.GitHubException, ValueError) as exc:
            reason = describe(exc)
            self.identity = Identity(self.app_id, None, reason)
            return self.identity
        slug = answer.get("slug") if isinstance(answer, dict) else None
        if isinstance(slug, str) and slug:
            self.identity = Identity(self.app_id, slug)
            log.info("the App is %s", self.identity.login)
        else:
            self.identity = Identity(self.app_id, None, "GitHub's answer to GET /app has no slug")
        return self.identity

    def forget(self, installation_id: int) -> None:
        """Drop the installation's cached token (it was deleted or suspended)."""
        cached = self._tokens.pop(installation_id, None)
        if cached is not None:
            self._installation_of.pop(cached[0], None)

    def count_calls(self, metrics: Counter) -> None:
        """Count every request to GitHub's API made through the session (gidgethub's, the
        diff's and the GraphQL queries of github/files.py alike) in `metrics`, with the
        x-ratelimit-remaining of each answer."""
        self.metrics = metrics
        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(self._answered)
        trace.on_request_exception.append(self._unanswered)
        trace.freeze()
        self.http.trace_configs.append(trace)

    def _ours(self, url: URL) -> bool:
        return url.origin() == URL(self.api_url).origin()

    def _installation(self, headers: Mapping[str, str]) -> str:
        """Whose request it was: the installation of its token, or "app" for the JWT."""
        _, _, credential = headers.get("Authorization", "").partition(" ")
        installation = self._installation_of.get(credential.strip())
        return str(installation) if installation is not None else APP

    async def _answered(
        self,
        session: aiohttp.ClientSession,
        context: object,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        if self.metrics is None or not self._ours(params.url):
            return
        answer = params.response
        remaining = answer.headers.get("x-ratelimit-remaining", "")
        status = answer.status
        limited = status == 429 or (
            status == 403 and (remaining == "0" or "retry-after" in answer.headers)
        )
        outcome = (
            "rate_limited"
            if limited
            else "server_error"
            if status >= 500
            else "client_error"
            if status >= 400
            else "ok"
        )
        count = int(remaining) if remaining.isdigit() else None
        self.metrics.github_answer(outcome, self._installation(params.headers), count)

    async def _unanswered(
        self,
        session: aiohttp.ClientSession,
        context: object,
        params: aiohttp.TraceRequestExceptionParams,
    ) -> None:
        # A request cancelled (a superseded review) is no sign of GitHub being away.
        if self.metrics is None or not self._ours(params.url):
            return
        if isinstance(params.exception, aiohttp.ClientError | TimeoutError | OSError):
            self.metrics.github_answer("unreachable", self._installation(params.headers), None)

    def app_api(self) -> RetryingGitHubAPI:
        """An API object that authenticates as the App itself (JWT)."""
        return RetryingGitHubAPI(
            self.http,
            REQUESTER,
            base_url=self.api_url,
            app_id=self.app_id,
            private_key=self._private_key,
            policy=self.policy,
        )

    async def api(self, installation_id: int) -> RetryingGitHubAPI:
        """An API object for one installation, with a token valid for 5 more minutes."""
        token = await self.token(installation_id)
        return RetryingGitHubAPI(
            self.http, REQUESTER, oauth_token=token, base_url=self.api_url, policy=self.policy
        )

    async def token(self, installation_id: int) -> str:
        """A cached installation token; concurrent callers share one request for it."""
        if self._fixed_token:
            return self._fixed_token
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
        from gidgethub import apps  # with PyJWT: only the App mints tokens, not a token client

        answer = await apps.get_installation_access_token(
            self.app_api(),
            installation_id=str(installation_id),
            app_id=self.app_id,
            private_key=self._private_key,
        )
        token: str = answer["token"]
        expires = datetime.fromisoformat(answer["expires_at"].replace("Z", "+00:00")).timestamp()
        add_secret(token, expires_at=expires)
        previous = self._tokens.get(installation_id)
        if previous is not None:
            self._installation_of.pop(previous[0], None)
        self._tokens[installation_id] = (token, expires)
        self._installation_of[token] = installation_id
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
