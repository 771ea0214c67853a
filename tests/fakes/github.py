"""A fake of the GitHub REST API (the parts Second Look uses), served over HTTP on loopback.

Handlers run on the BackgroundLoop's thread while tests set up and read state from theirs:
state is plain data, every compound change happens under one lock with no await inside.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import hashlib
import itertools
import json
import math
import re
import secrets
import string
import threading
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.diffs import Content, FileDiff, blob_sha, make_diff, parse_diff

if TYPE_CHECKING:
    from tests.fakes.loop import BackgroundLoop

DOCS = "https://docs.github.com/rest"
SECONDARY_RATE_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID "
    "{request_id}."
)
# What the middleware read of each request: (arrival time, body bytes, parsed JSON or None).
_RECORD: Any = (
    web.RequestKey("fake_github_record", tuple)
    if hasattr(web, "RequestKey")
    else "fake_github_record"
)
MAX_COMMENT_BODY = 65536
MAX_ANNOTATIONS_PER_REQUEST = 50
MAX_OUTPUT_TEXT = 65535
MAX_FILES_LISTED = 3000
CHECK_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CHECK_CONCLUSIONS = (
    "action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale",
    "timed_out",
)  # fmt: skip
ANNOTATION_LEVELS = ("notice", "warning", "failure")
REVIEW_EVENTS = {
    "COMMENT": "COMMENTED",
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
}
TOKEN_PERMISSIONS = {
    "checks": "write", "contents": "read", "issues": "write", "metadata": "read",
    "pull_requests": "write",
}  # fmt: skip


@functools.cache
def make_rsa_keypair() -> tuple[str, str]:
    """Return a throwaway 2048-bit RSA (private_pem, public_pem), one per process."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def _now_iso(ts: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _user_id(login: str) -> int:
    return zlib.crc32(login.encode()) % 10**8


def _rails_join(messages: list[str]) -> str:
    # GitHub joins validation messages the way Rails' to_sentence does.
    if len(messages) <= 1:
        return "".join(messages)
    if len(messages) == 2:
        return f"{messages[0]} and {messages[1]}"
    return ", ".join(messages[:-1]) + f", and {messages[-1]}"


@dataclass(frozen=True)
class Recorded:
    """One request the fake answered, and the status it answered with."""

    time: float
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    json: Any | None
    status: int


@dataclass(frozen=True)
class IssuedToken:
    """An installation access token handed out by POST /app/installations/{id}/access_tokens."""

    token: str
    installation_id: int
    issued_at: float
    expires_at: float


@dataclass
class Commit:
    """A commit of the fake's graph: its parent and a full snapshot of the files."""

    sha: str
    parent: str | None
    files: dict[str, Content]


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str] | None
    body: dict[str, Any] | None


class GitHubError(Exception):
    """An error answer in GitHub's shape; raised by handlers, rendered by the middleware."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        docs: str = DOCS,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message}
        if errors is not None:
            self.body["errors"] = errors
        self.body["documentation_url"] = docs
        self.body["status"] = str(status)
        self.headers = dict(headers or {})


def _not_found(docs: str = DOCS) -> GitHubError:
    return GitHubError(404, "Not Found", docs=docs)


def _invalid(detail: str, docs: str = DOCS) -> GitHubError:
    # Schema failures answer "Invalid request.\n\n<what>" with no "errors" list.
    return GitHubError(422, f"Invalid request.\n\n{detail}", docs=docs)


@dataclass
class PullState:
    """A pull request of the fake, with the history of its heads."""

    owner: str
    repo: str
    number: int
    id: int
    title: str
    body: str
    draft: bool
    base_ref: str
    base_sha: str
    head_ref: str
    head_sha: str
    installation_id: int
    user: str = "octocat"
    state: str = "open"
    created_at: str = ""
    history: list[str] = field(default_factory=list)  # every head sha, oldest first
    _fake: FakeGitHub | None = field(default=None, repr=False, compare=False)

    def push(
        self,
        files: Mapping[str, Content | tuple[Content, Content]] | None = None,
        *,
        head_sha: str | None = None,
        force: bool = False,
        raw_diff: str | None = None,
    ) -> str:
        """Push a new head and return its sha.

        `files` maps path -> new content (None deletes), applied on top of the current head;
        an (old, new) pair is accepted too and its `new` is used. A normal push makes the new
        head a child of the old one ("ahead"); `force=True` makes it a child of the base, so
        the old head is no longer an ancestor ("diverged"), as after a rebase or amend.
        """
        assert self._fake is not None
        return self._fake._push(self, files or {}, head_sha, force, raw_diff)

    def diff(self, sha: str | None = None) -> str:
        """Return the diff text GitHub would serve for this PR at `sha` (default: the head)."""
        assert self._fake is not None
        return self._fake._diff(self.owner, self.repo, self.base_sha, sha or self.head_sha)[0]


@dataclass
class _Repo:
    owner: str
    name: str
    id: int
    installation_id: int
    default_branch: str = "main"
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    contents: dict[tuple[str, str], Content] = field(default_factory=dict)  # (ref, path)
    raw_diffs: dict[tuple[str, str], str] = field(default_factory=dict)  # (base, head)
    diff_cache: dict[tuple[str, str], tuple[str, list[FileDiff]]] = field(default_factory=dict)
    pulls: dict[int, PullState] = field(default_factory=dict)
    issues: set[int] = field(default_factory=set)
    issue_comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    review_comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    annotations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


def _page_args(request: web.Request, default: int = 30) -> tuple[int, int]:
    def number(name: str, fallback: int) -> int:
        try:
            return int(request.query.get(name, fallback))
        except ValueError:
            return fallback

    per_page = min(max(number("per_page", default), 1), 100)  # GitHub clamps to 100
    return per_page, max(number("page", 1), 1)


class FakeGitHub:
    """The GitHub REST API for one App, as an aiohttp application.

    Set up state with add_pull / set_content / seed_comments, serve `.app` (start(bg)), point
    GITHUB_API_URL at `.url`, then read what the code did: `.requests`, comments(), reviews(),
    review_comments(), check_runs(), `.tokens_issued`, `.rejected_comments`.
    """

    def __init__(self, app_id: str, public_key_pem: str) -> None:
        self.app_id = str(app_id)
        self.public_key_pem = public_key_pem
        self.url: str | None = None
        self.bot_login = "second-look[bot]"
        self.bot_id = 41898282
        self.token_ttl = 3600.0
        self.latency = 0.0
        self.max_diff_files = 300  # GitHub's limits for the .diff media type
        self.max_diff_lines = 20_000
        self.diff_chunk_size = 16 * 1024
        self._lock = threading.RLock()
        self.requests: list[Recorded] = []
        self.tokens_issued: list[IssuedToken] = []
        self.rejected_comments = 0
        self.rejected_reviews = 0
        self._tokens: dict[str, IssuedToken] = {}
        self._installations: set[int] = set()
        self._repos: dict[tuple[str, str], _Repo] = {}
        self._comment_index: dict[int, tuple[tuple[str, str], int]] = {}
        self._faults: list[_Fault] = []
        self._ids = itertools.count(1000)
        self._shas = itertools.count(1)
        self.app = self._make_app()

    # ----------------------------------------------------------------- lifecycle, state set-up

    def start(self, bg: BackgroundLoop) -> str:
        """Serve the fake on `bg`; set and return `.url`."""
        self.url = bg.serve(self.app)
        return self.url

    def reset(self) -> None:
        """Forget every repository, token, fault and recorded request; settings to defaults."""
        with self._lock:
            self.requests.clear()
            self.tokens_issued.clear()
            self.rejected_comments = 0
            self.rejected_reviews = 0
            self._tokens.clear()
            self._installations.clear()
            self._repos.clear()
            self._comment_index.clear()
            self._faults.clear()
            self.latency = 0.0
            self.token_ttl = 3600.0
            self.max_diff_files, self.max_diff_lines = 300, 20_000
            self.diff_chunk_size = 16 * 1024

    def next_id(self) -> int:
        """Return a fresh id (ids are global, increasing integers)."""
        with self._lock:
            return next(self._ids)

    def new_sha(self) -> str:
        """Return a fresh, unique 40-hex commit sha."""
        with self._lock:
            n = next(self._shas)
        return hashlib.sha1(f"fake-commit-{n}".encode(), usedforsecurity=False).hexdigest()

    def add_installation(self, installation_id: int) -> None:
        """Make an installation known (add_pull / set_content do this for theirs)."""
        with self._lock:
            self._installations.add(int(installation_id))

    def _peek(self, owner: str, repo: str) -> _Repo:
        # For the read helpers: an unknown repository reads as empty, and is not created.
        with self._lock:
            return self._repos.get((owner.lower(), repo.lower())) or _Repo(owner, repo, 0, 0)

    def _repo(self, owner: str, repo: str, installation_id: int | None = None) -> _Repo:
        key = (owner.lower(), repo.lower())
        with self._lock:
            state = self._repos.get(key)
            if state is None:
                state = _Repo(owner, repo, self.next_id(), installation_id or 1)
                self._repos[key] = state
                self._installations.add(state.installation_id)
            return state

    def add_pull(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        files: Mapping[str, tuple[Content, Content]],
        head_sha: str | None = None,
        base_ref: str = "main",
        base_sha: str | None = None,
        head_ref: str | None = None,
        draft: bool = False,
        title: str = "Add a feature",
        body: str = "",
        user: str = "octocat",
        installation_id: int = 1,
        raw_diff: str | None = None,
    ) -> PullState:
        """Open a PR whose files change path -> (old, new); None = absent, bytes = binary.

        The base commit holds every `old`, the head (a child of the base) every `new`; the
        diff is computed from them unless `raw_diff` gives the exact text to serve instead.
        """
        state = self._repo(owner, repo, installation_id)
        with self._lock:
            base_sha = base_sha or self.new_sha()
            if base_sha not in state.commits:
                old = {p: o for p, (o, _n) in files.items() if o is not None}
                state.commits[base_sha] = Commit(base_sha, None, old)
            base_files = state.commits[base_sha].files
            new = dict(base_files)
            for path, (_old, content) in files.items():
                if content is None:
                    new.pop(path, None)
                else:
                    new[path] = content
            head_sha = head_sha or self.new_sha()
            state.commits[head_sha] = Commit(head_sha, base_sha, new)
            head_ref = head_ref or f"feature-{number}"
            state.branches[base_ref] = base_sha
            state.branches[head_ref] = head_sha
            if raw_diff is not None:
                state.raw_diffs[(base_sha, head_sha)] = raw_diff
            pull = PullState(
                owner=owner, repo=repo, number=number, id=self.next_id(), title=title,
                body=body, draft=draft, base_ref=base_ref, base_sha=base_sha,
                head_ref=head_ref, head_sha=head_sha, installation_id=state.installation_id,
                user=user, created_at=_now_iso(), history=[head_sha], _fake=self,
            )  # fmt: skip
            state.pulls[number] = pull
            state.issues.add(number)
            return pull

    def _push(
        self,
        pull: PullState,
        files: Mapping[str, Content | tuple[Content, Content]],
        head_sha: str | None,
        force: bool,
        raw_diff: str | None,
    ) -> str:
        state = self._repo(pull.owner, pull.repo)
        with self._lock:
            parent = pull.base_sha if force else pull.head_sha
            snapshot = dict(state.commits[pull.head_sha].files)
            for path, value in files.items():
                content = value[1] if isinstance(value, tuple) else value
                if content is None:
                    snapshot.pop(path, None)
                else:
                    snapshot[path] = content
            sha = head_sha or self.new_sha()
            state.commits[sha] = Commit(sha, parent, snapshot)
            if raw_diff is not None:
                state.raw_diffs[(pull.base_sha, sha)] = raw_diff
            state.branches[pull.head_ref] = sha
            pull.head_sha = sha
            pull.history.append(sha)
            return sha

    def pull(self, owner: str, repo: str, number: int) -> PullState:
        """Return the PullState of a PR added with add_pull."""
        return self._repo(owner, repo).pulls[number]

    def set_content(
        self, owner: str, repo: str, ref: str, path: str, text: Content, *, installation_id: int = 1
    ) -> None:
        """Make `path` read `text` at `ref` (a branch or a sha); None removes it again."""
        state = self._repo(owner, repo, installation_id)
        with self._lock:
            if text is None:
                state.contents.pop((ref, path), None)
            else:
                state.contents[(ref, path)] = text

    def seed_comments(
        self,
        owner: str,
        repo: str,
        number: int,
        bodies: Iterable[str] | int,
        *,
        login: str = "octocat",
        user_type: str = "User",
        installation_id: int = 1,
    ) -> list[dict[str, Any]]:
        """Add issue comments by someone else (`bodies`, or that many numbered ones)."""
        if isinstance(bodies, int):
            bodies = [f"Comment {i + 1} by {login}" for i in range(bodies)]
        state = self._repo(owner, repo, installation_id)
        user = {"login": login, "id": _user_id(login), "type": user_type}
        with self._lock:
            state.issues.add(number)
            return [
                copy.deepcopy(self._store_comment(state, number, body, user)) for body in bodies
            ]

    def fail_next(
        self,
        method: str,
        path_pattern: str,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Answer the next `times` requests matching (method, re.search on the path) with `status`.

        Faults are consumed in the order added, before authentication. Without `body`,
        403 and 429 answer GitHub's secondary-rate-limit message and (without `headers`)
        `Retry-After: 1`; other statuses answer their usual message. `method` "*" matches all.
        """
        fault = _Fault(
            method.upper(),
            re.compile(path_pattern),
            status,
            times,
            dict(headers) if headers is not None else None,
            body,
        )
        with self._lock:
            self._faults.append(fault)

    def issue_token(self, installation_id: int = 1, ttl: float | None = None) -> str:
        """Mint an installation token directly (for tests that are not about the exchange)."""
        now = time.time()
        token = "ghs_" + "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(36)
        )
        ttl = self.token_ttl if ttl is None else ttl
        issued = IssuedToken(token, int(installation_id), now, now + ttl)
        with self._lock:
            self._installations.add(int(installation_id))
            self._tokens[token] = issued
            self.tokens_issued.append(issued)
        return token

    def expire_tokens(self) -> None:
        """Make every token issued so far expired (the next use answers 401)."""
        with self._lock:
            for token, issued in list(self._tokens.items()):
                self._tokens[token] = IssuedToken(
                    token, issued.installation_id, issued.issued_at, time.time() - 1
                )

    # ------------------------------------------------------------------------------- reading

    def comments(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """Return the issue comments of a PR (everyone's, oldest first)."""
        with self._lock:
            return copy.deepcopy(self._peek(owner, repo).issue_comments.get(number, []))

    def reviews(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """Return the stored reviews of a PR, each with its "comments" list."""
        with self._lock:
            state = self._peek(owner, repo)
            out = copy.deepcopy(state.reviews.get(number, []))
            by_review: dict[int, list[dict[str, Any]]] = {}
            for comment in state.review_comments.get(number, []):
                by_review.setdefault(comment["pull_request_review_id"], []).append(comment)
            for review in out:
                review["comments"] = copy.deepcopy(by_review.get(review["id"], []))
            return out

    def review_comments(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """Return every inline review comment of a PR."""
        with self._lock:
            return copy.deepcopy(self._peek(owner, repo).review_comments.get(number, []))

    def check_runs(
        self, owner: str, repo: str, head_sha: str | None = None
    ) -> list[dict[str, Any]]:
        """Return the check runs (output.annotations holds every annotation accumulated)."""
        with self._lock:
            state = self._peek(owner, repo)
            runs = []
            for run_id, run in state.check_runs.items():
                if head_sha is None or run["head_sha"] == head_sha:
                    run = copy.deepcopy(run)
                    run["output"]["annotations"] = copy.deepcopy(state.annotations[run_id])
                    runs.append(run)
            return runs

    def find_requests(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """Return the recorded requests with this method and a path matching regex `path`."""
        return [
            r
            for r in list(self.requests)
            if (method is None or r.method == method.upper())
            and (path is None or re.search(path, r.path))
        ]

    # --------------------------------------------------------------------------- plumbing

    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024**2)
        app.on_response_prepare.append(self._on_prepare)
        r = r"/repos/{owner}/{repo}"
        n = r"{number:\d+}"
        app.router.add_get("/app", self._get_app)
        app.router.add_post(r"/app/installations/{iid:\d+}/access_tokens", self._access_token)
        app.router.add_get(f"{r}/installation", self._repo_installation)
        app.router.add_get(f"{r}/pulls/{n}", self._get_pull)
        app.router.add_get(f"{r}/pulls/{n}/files", self._pull_files)
        app.router.add_get(f"{r}/pulls/{n}/reviews", self._list_reviews)
        app.router.add_post(f"{r}/pulls/{n}/reviews", self._create_review)
        app.router.add_get(f"{r}/pulls/{n}/comments", self._list_review_comments)
        app.router.add_get(f"{r}/contents/{{path:.+}}", self._get_contents)
        app.router.add_get(f"{r}/issues/{n}/comments", self._list_comments)
        app.router.add_post(f"{r}/issues/{n}/comments", self._create_comment)
        app.router.add_get(rf"{r}/issues/comments/{{cid:\d+}}", self._get_comment)
        app.router.add_patch(rf"{r}/issues/comments/{{cid:\d+}}", self._edit_comment)
        app.router.add_delete(rf"{r}/issues/comments/{{cid:\d+}}", self._delete_comment)
        app.router.add_post(f"{r}/check-runs", self._create_check_run)
        app.router.add_get(rf"{r}/check-runs/{{run:\d+}}", self._get_check_run)
        app.router.add_patch(rf"{r}/check-runs/{{run:\d+}}", self._update_check_run)
        app.router.add_get(rf"{r}/check-runs/{{run:\d+}}/annotations", self._list_annotations)
        app.router.add_get(f"{r}/commits/{{ref}}/check-runs", self._commit_check_runs)
        app.router.add_get(f"{r}/compare/{{basehead:.+}}", self._compare)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        request[_RECORD] = (time.time(), body, parsed)
        if self.latency:
            await asyncio.sleep(self.latency)
        try:
            fault = self._take_fault(request)
            if fault is not None:
                return fault
            return await handler(request)
        except GitHubError as exc:
            return self._json(exc.body, exc.status, exc.headers)
        except web.HTTPException as exc:  # routing: GitHub answers JSON 404 for unknown paths
            if exc.status in (404, 405):
                return self._json(_not_found().body, 404)
            raise

    async def _on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        with self._lock:
            used = len(self.requests) + 1
        for name, value in {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(max(5000 - used, 1)),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Request-Id": secrets.token_hex(8).upper(),
        }.items():
            response.headers.setdefault(name, value)
        record = request.get(_RECORD)
        if record is None:
            return
        started, body, parsed = record
        self.requests.append(
            Recorded(
                time=started,
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                json=parsed,
                status=response.status,
            )
        )

    def _take_fault(self, request: web.Request) -> web.Response | None:
        with self._lock:
            for fault in self._faults:
                if fault.method in ("*", request.method) and fault.pattern.search(request.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    break
            else:
                return None
        status = fault.status
        body, headers = fault.body, fault.headers
        if body is None:
            if status in (403, 429):
                message = SECONDARY_RATE_LIMIT.format(request_id=secrets.token_hex(8).upper())
                docs = f"{DOCS}/using-the-rest-api/rate-limits-for-the-rest-api"
                body = {"message": message, "documentation_url": docs}
                if headers is None:
                    headers = {"Retry-After": "1"}
            else:
                messages = {401: "Bad credentials", 404: "Not Found", 422: "Validation Failed"}
                message = messages.get(status, "Server Error" if status >= 500 else "Error")
                body = {"message": message, "documentation_url": DOCS, "status": str(status)}
        return self._json(body, status, headers or {})

    @staticmethod
    def _json(
        data: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        response = web.Response(
            body=json.dumps(data).encode(),
            status=status,
            content_type="application/json",
            charset="utf-8",
            headers=dict(headers or {}),
        )
        response.headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
        return response

    def _base_url(self, request: web.Request) -> str:
        return self.url or str(request.url.origin())

    def _paginated(self, request: web.Request, items: list[Any]) -> web.Response:
        per_page, page = _page_args(request)
        last = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(number: int) -> str:
            query = dict(request.query)
            query["page"] = str(number)
            return f"{self._base_url(request)}{request.path}?{urlencode(query)}"

        rels = []
        if page > 1:
            rels.append(f'<{link(min(page - 1, last))}>; rel="prev"')
        if page < last:
            rels += [f'<{link(page + 1)}>; rel="next"', f'<{link(last)}>; rel="last"']
        if page > 1:
            rels.append(f'<{link(1)}>; rel="first"')
        headers = {"Link": ", ".join(rels)} if rels else {}
        return self._json(chunk, 200, headers)

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        raw = request[_RECORD][1]
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise GitHubError(400, "Problems parsing JSON")
        return data

    # ------------------------------------------------------------------------------- auth

    def _check_jwt(self, request: web.Request) -> dict[str, Any]:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        undecodable = GitHubError(401, "A JSON web token could not be decoded")
        if scheme.lower() != "bearer" or not token.strip():
            raise undecodable
        try:
            claims = jwt.decode(
                token.strip(),
                self.public_key_pem,
                algorithms=["RS256"],
                options={
                    "require": ["iat", "exp", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError:
            raise undecodable from None
        iat, exp, iss = claims["iat"], claims["exp"], claims["iss"]
        now = time.time()
        if not isinstance(iat, int | float) or iat > now + 60:
            raise GitHubError(
                401,
                "'Issued at' claim ('iat') must be an Integer representing the time that the "
                "assertion was issued",
            )
        if not isinstance(exp, int | float) or exp <= now:
            raise GitHubError(
                401,
                "'Expiration time' claim ('exp') must be a numeric value representing the "
                "future time at which the assertion expires",
            )
        if exp - iat > 600:
            raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future")
        # Stricter than GitHub on purpose: PyJWT >= 2.10 refuses integer issuers, so we do too.
        if not isinstance(iss, str):
            raise GitHubError(401, "'Issuer' claim ('iss') must be a String")
        if iss != self.app_id:
            raise GitHubError(401, "Integration not found")
        return claims

    def _check_token(self, request: web.Request, owner: str, repo: str) -> _Repo:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if not scheme:
            raise GitHubError(401, "Requires authentication")
        with self._lock:
            issued = self._tokens.get(token.strip())
        if scheme.lower() not in ("token", "bearer") or issued is None:
            raise GitHubError(401, "Bad credentials")
        if issued.expires_at <= time.time():
            raise GitHubError(401, "Bad credentials")
        with self._lock:
            state = self._repos.get((owner.lower(), repo.lower()))
        # Another installation's repository is invisible, as a private repo would be.
        if state is None or state.installation_id != issued.installation_id:
            raise _not_found()
        return state

    def _authed(self, request: web.Request) -> _Repo:
        return self._check_token(request, request.match_info["owner"], request.match_info["repo"])

    # ---------------------------------------------------------------------------- JSON shapes

    def _bot(self) -> dict[str, Any]:
        return {
            "login": self.bot_login,
            "id": self.bot_id,
            "node_id": f"BOT_{self.bot_id}",
            "type": "Bot",
            "site_admin": False,
            "html_url": f"https://github.com/apps/{self.bot_login.removesuffix('[bot]')}",
        }

    @staticmethod
    def _user(login: str) -> dict[str, Any]:
        return {"login": login, "id": _user_id(login), "type": "User", "site_admin": False}

    def _repo_json(self, request: web.Request, state: _Repo) -> dict[str, Any]:
        full = f"{state.owner}/{state.name}"
        return {
            "id": state.id,
            "node_id": f"R_{state.id}",
            "name": state.name,
            "full_name": full,
            "private": True,
            "owner": {"login": state.owner, "id": _user_id(state.owner),
                      "type": "Organization"},
            "html_url": f"https://github.com/{full}",
            "url": f"{self._base_url(request)}/repos/{full}",
            "default_branch": state.default_branch,
        }  # fmt: skip

    # ------------------------------------------------------------------------------ the app

    async def _get_app(self, request: web.Request) -> web.Response:
        self._check_jwt(request)
        slug = self.bot_login.removesuffix("[bot]")
        return self._json(
            {"id": int(self.app_id) if self.app_id.isdigit() else self.app_id, "slug": slug,
             "name": slug, "owner": self._user("second-look-org"),
             "permissions": TOKEN_PERMISSIONS, "events": ["pull_request"]}
        )  # fmt: skip

    async def _access_token(self, request: web.Request) -> web.Response:
        self._check_jwt(request)
        installation_id = int(request.match_info["iid"])
        with self._lock:
            known = installation_id in self._installations
        if not known:
            raise _not_found(f"{DOCS}/apps/apps#create-an-installation-access-token-for-an-app")
        token = self.issue_token(installation_id, self.token_ttl)
        with self._lock:
            issued = self._tokens[token]
        return self._json(
            {
                "token": token,
                "expires_at": _now_iso(issued.expires_at),
                "permissions": TOKEN_PERMISSIONS,
                "repository_selection": "all",
            },
            201,
        )

    async def _repo_installation(self, request: web.Request) -> web.Response:
        self._check_jwt(request)
        owner, name = request.match_info["owner"], request.match_info["repo"]
        with self._lock:
            state = self._repos.get((owner.lower(), name.lower()))
        if state is None:
            raise _not_found(
                f"{DOCS}/apps/apps#get-a-repository-installation-for-the-authenticated-app"
            )
        return self._json(
            {
                "id": state.installation_id,
                "account": {"login": state.owner, "type": "Organization"},
                "app_id": int(self.app_id) if self.app_id.isdigit() else self.app_id,
                "app_slug": self.bot_login.removesuffix("[bot]"),
                "target_type": "Organization",
                "permissions": TOKEN_PERMISSIONS,
                "events": ["pull_request"],
                "repository_selection": "all",
                "created_at": _now_iso(),
                "updated_at": _now_iso(),
            }
        )

    # ---------------------------------------------------------------------------- diffs

    def _diff(self, owner: str, repo: str, base: str, head: str) -> tuple[str, list[FileDiff]]:
        state = self._repo(owner, repo)
        with self._lock:
            cached = state.diff_cache.get((base, head))
            if cached is not None:
                return cached
            raw = state.raw_diffs.get((base, head))
            old, new = state.commits[base].files, state.commits[head].files
        text = raw if raw is not None else make_diff(old, new)
        files = parse_diff(text)
        for fd in files:  # the files API shows full blob ids; the diff only abbreviates them
            content = new.get(fd.path) if fd.status != "removed" else old.get(fd.path)
            if content is not None:
                fd.blob_sha = blob_sha(content)
        with self._lock:
            state.diff_cache[(base, head)] = (text, files)
        return text, files

    def _pull_of(self, state: _Repo, request: web.Request) -> PullState:
        pull = state.pulls.get(int(request.match_info["number"]))
        if pull is None:
            raise _not_found()
        return pull

    def _file_json(
        self, request: web.Request, state: _Repo, ref: str, fd: FileDiff
    ) -> dict[str, Any]:
        full = f"{state.owner}/{state.name}"
        item: dict[str, Any] = {
            "sha": fd.blob_sha,
            "filename": fd.path,
            "status": fd.status,
            "additions": fd.additions,
            "deletions": fd.deletions,
            "changes": fd.additions + fd.deletions,
            "blob_url": f"https://github.com/{full}/blob/{ref}/{fd.path}",
            "raw_url": f"https://github.com/{full}/raw/{ref}/{fd.path}",
            "contents_url": f"{self._base_url(request)}/repos/{full}/contents/{fd.path}?ref={ref}",
        }
        if fd.previous_path:
            item["previous_filename"] = fd.previous_path
        if fd.patch is not None and not fd.binary:
            item["patch"] = fd.patch
        return item

    async def _get_pull(self, request: web.Request) -> web.StreamResponse:
        state = self._authed(request)
        pull = self._pull_of(state, request)
        text, files = self._diff(state.owner, state.name, pull.base_sha, pull.head_sha)
        if ".diff" in request.headers.get("Accept", ""):
            return await self._stream_diff(request, text, files)
        full = f"{state.owner}/{state.name}"
        api = f"{self._base_url(request)}/repos/{full}"
        html = f"https://github.com/{full}/pull/{pull.number}"
        repo_json = self._repo_json(request, state)
        with self._lock:
            n_comments = len(state.issue_comments.get(pull.number, []))
            n_review_comments = len(state.review_comments.get(pull.number, []))
            commits = len(self._chain(state, pull.head_sha)) - len(
                self._chain(state, pull.base_sha)
            )
        return self._json(
            {
                "url": f"{api}/pulls/{pull.number}",
                "id": pull.id,
                "node_id": f"PR_{pull.id}",
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "issue_url": f"{api}/issues/{pull.number}",
                "number": pull.number,
                "state": pull.state,
                "locked": False,
                "title": pull.title,
                "user": self._user(pull.user),
                "body": pull.body,
                "created_at": pull.created_at,
                "updated_at": pull.created_at,
                "closed_at": None,
                "merged_at": None,
                "merge_commit_sha": None,
                "draft": pull.draft,
                "head": {"label": f"{state.owner}:{pull.head_ref}", "ref": pull.head_ref,
                         "sha": pull.head_sha, "user": self._user(pull.user), "repo": repo_json},
                "base": {"label": f"{state.owner}:{pull.base_ref}", "ref": pull.base_ref,
                         "sha": pull.base_sha, "user": self._user(state.owner), "repo": repo_json},
                "author_association": "CONTRIBUTOR",
                "merged": False,
                "mergeable": None,
                "comments": n_comments,
                "review_comments": n_review_comments,
                "commits": max(commits, 1),
                "additions": sum(f.additions for f in files),
                "deletions": sum(f.deletions for f in files),
                "changed_files": len(files),
            }
        )  # fmt: skip

    async def _stream_diff(
        self, request: web.Request, text: str, files: list[FileDiff]
    ) -> web.StreamResponse:
        docs = f"{DOCS}/pulls/pulls#list-pull-requests-files"
        if len(files) > self.max_diff_files:
            raise GitHubError(
                406,
                f"Sorry, the diff exceeded the maximum number of files ({self.max_diff_files}). "
                "Consider using 'List pull requests files' API or locally cloning the "
                "repository instead.",
                errors=[{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
                docs=docs,
            )
        if text.count("\n") > self.max_diff_lines:
            raise GitHubError(
                406,
                f"Sorry, the diff exceeded the maximum number of lines ({self.max_diff_lines}). "
                "Consider using 'List pull requests files' API or locally cloning the "
                "repository instead.",
                errors=[{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
                docs=docs,
            )
        response = web.StreamResponse(status=200)
        response.content_type = "application/vnd.github.diff"
        response.charset = "utf-8"
        response.headers["X-GitHub-Media-Type"] = "github.v3; param=diff"
        response.enable_chunked_encoding()
        await response.prepare(request)
        data = text.encode()
        # Several pieces, cut at byte offsets (so a piece may end inside a UTF-8 character).
        step = max(1, min(self.diff_chunk_size, math.ceil(len(data) / 3) or 1))
        for start in range(0, len(data), step):
            await response.write(data[start : start + step])
            await asyncio.sleep(0)
        await response.write_eof()
        return response

    async def _pull_files(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        pull = self._pull_of(state, request)
        _text, files = self._diff(state.owner, state.name, pull.base_sha, pull.head_sha)
        items = [
            self._file_json(request, state, pull.head_sha, fd) for fd in files[:MAX_FILES_LISTED]
        ]
        return self._paginated(request, items)

    # ---------------------------------------------------------------------------- contents

    def _resolve_refs(self, state: _Repo, ref: str) -> list[str]:
        refs = [ref]
        if ref in state.branches:
            refs.append(state.branches[ref])
        refs += [name for name, sha in state.branches.items() if sha == ref]
        return refs

    async def _get_contents(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        path = request.match_info["path"].strip("/")
        docs = f"{DOCS}/repos/contents#get-repository-content"
        with self._lock:
            ref = request.query.get("ref") or state.default_branch
            content: Content = None
            for candidate in self._resolve_refs(state, ref):
                if (candidate, path) in state.contents:
                    content = state.contents[(candidate, path)]
                    break
                commit = state.commits.get(candidate)
                if commit is not None and path in commit.files:
                    content = commit.files[path]
                    break
        if content is None:
            raise _not_found(docs)
        data = content.encode() if isinstance(content, str) else content
        if ".raw" in request.headers.get("Accept", ""):
            return web.Response(
                body=data,
                content_type="application/vnd.github.raw",
                charset="utf-8",
                headers={"X-GitHub-Media-Type": "github.v3; param=raw"},
            )
        encoded = base64.b64encode(data).decode()
        # GitHub wraps the base64 at 60 characters, with a trailing newline.
        wrapped = "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))
        full = f"{state.owner}/{state.name}"
        sha = blob_sha(data)
        api = f"{self._base_url(request)}/repos/{full}/contents/{path}?ref={ref}"
        return self._json(
            {
                "type": "file",
                "encoding": "base64",
                "size": len(data),
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "content": wrapped,
                "sha": sha,
                "url": api,
                "git_url": f"{self._base_url(request)}/repos/{full}/git/blobs/{sha}",
                "html_url": f"https://github.com/{full}/blob/{ref}/{path}",
                "download_url": f"https://raw.githubusercontent.com/{full}/{ref}/{path}",
                "_links": {"self": api, "html": f"https://github.com/{full}/blob/{ref}/{path}"},
            }
        )

    # ----------------------------------------------------------------------- issue comments

    def _store_comment(
        self, state: _Repo, number: int, body: str, user: dict[str, Any]
    ) -> dict[str, Any]:
        comment_id = self.next_id()
        now = _now_iso()
        full = f"{state.owner}/{state.name}"
        api = self.url or "http://127.0.0.1"
        comment = {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": f"{api}/repos/{full}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{full}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": f"{api}/repos/{full}/issues/{number}",
            "body": body,
            "user": user,
            "created_at": now,
            "updated_at": now,
            "author_association": "NONE",
        }
        state.issue_comments.setdefault(number, []).append(comment)
        self._comment_index[comment_id] = ((state.owner.lower(), state.name.lower()), number)
        return comment

    def _comment_body(self, data: dict[str, Any], docs: str) -> str:
        body = data.get("body")
        if body is None:
            raise _invalid('"body" wasn\'t supplied.', docs)
        if not isinstance(body, str):
            raise _invalid(f"For 'properties/body', {json.dumps(body)} is not a string.", docs)
        if len(body) > MAX_COMMENT_BODY:
            raise GitHubError(
                422,
                "Validation Failed",
                errors=[{"resource": "IssueComment", "code": "unprocessable", "field": "data",
                         "message": "Body is too long (maximum is 65536 characters)"}],
                docs=docs,
            )  # fmt: skip
        return body

    def _find_comment(self, state: _Repo, request: web.Request) -> dict[str, Any]:
        comment_id = int(request.match_info["cid"])
        where = self._comment_index.get(comment_id)
        if where is None or where[0] != (state.owner.lower(), state.name.lower()):
            raise _not_found()
        for comment in state.issue_comments.get(where[1], []):
            if comment["id"] == comment_id:
                return comment
        raise _not_found()

    async def _list_comments(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        number = int(request.match_info["number"])
        with self._lock:
            if number not in state.issues:
                raise _not_found()
            items = copy.deepcopy(state.issue_comments.get(number, []))
        return self._paginated(request, items)

    async def _create_comment(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        number = int(request.match_info["number"])
        body = self._comment_body(
            await self._body(request), f"{DOCS}/issues/comments#create-an-issue-comment"
        )
        with self._lock:
            if number not in state.issues:
                raise _not_found()
            comment = copy.deepcopy(self._store_comment(state, number, body, self._bot()))
        return self._json(comment, 201, {"Location": comment["url"]})

    async def _get_comment(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        with self._lock:
            return self._json(copy.deepcopy(self._find_comment(state, request)))

    async def _edit_comment(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        body = self._comment_body(
            await self._body(request), f"{DOCS}/issues/comments#update-an-issue-comment"
        )
        with self._lock:
            comment = self._find_comment(state, request)
            comment["body"] = body
            comment["updated_at"] = _now_iso()
            return self._json(copy.deepcopy(comment))

    async def _delete_comment(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        with self._lock:
            comment = self._find_comment(state, request)
            number = self._comment_index.pop(comment["id"])[1]
            state.issue_comments[number].remove(comment)
        return web.Response(status=204)

    # ---------------------------------------------------------------------------- check runs

    def _check_output(self, output: Any, docs: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if not isinstance(output, dict):
            raise _invalid(f"For 'properties/output', {json.dumps(output)} is not an object.", docs)
        for key in ("title", "summary"):
            if key not in output:
                raise _invalid(f'"{key}" wasn\'t supplied.', docs)
        for key in ("summary", "text"):
            value = output.get(key)
            if isinstance(value, str) and len(value) > MAX_OUTPUT_TEXT:
                raise _invalid(
                    f"Only {MAX_OUTPUT_TEXT} characters are allowed; {len(value)} were supplied.",
                    docs,
                )
        annotations = output.get("annotations") or []
        if not isinstance(annotations, list):
            raise _invalid("For 'properties/annotations', it is not an array.", docs)
        if len(annotations) > MAX_ANNOTATIONS_PER_REQUEST:
            raise _invalid(
                f"No more than {MAX_ANNOTATIONS_PER_REQUEST} items are allowed; "
                f"{len(annotations)} were supplied.",
                docs,
            )
        for item in annotations:
            if not isinstance(item, dict):
                raise _invalid(f"For 'items', {json.dumps(item)} is not an object.", docs)
            for key in ("path", "start_line", "end_line", "annotation_level", "message"):
                if key not in item:
                    raise _invalid(f'"{key}" wasn\'t supplied.', docs)
            for key in ("start_line", "end_line", "start_column", "end_column"):
                if key in item and (not isinstance(item[key], int) or isinstance(item[key], bool)):
                    raise _invalid(
                        f"For 'properties/{key}', {json.dumps(item[key])} is not an integer.", docs
                    )
            if item["annotation_level"] not in ANNOTATION_LEVELS:
                raise _invalid(
                    f"For 'properties/annotation_level', {json.dumps(item['annotation_level'])} "
                    f"is not one of {json.dumps(list(ANNOTATION_LEVELS))}.",
                    docs,
                )
            if item["start_line"] > item["end_line"]:
                raise GitHubError(422, "Validation Failed", docs=docs, errors=[
                    {"resource": "CheckRun", "code": "invalid", "field": "annotations",
                     "message": "start_line must be less than or equal to end_line"}
                ])  # fmt: skip
        fields = {k: output.get(k) for k in ("title", "summary", "text")}
        return fields, [dict(a) for a in annotations]

    def _apply_check(self, run: dict[str, Any], data: dict[str, Any], docs: str) -> list[dict]:
        for key, allowed in (("status", CHECK_STATUSES), ("conclusion", CHECK_CONCLUSIONS)):
            if key in data and data[key] is not None and data[key] not in allowed:
                raise _invalid(
                    f"For 'properties/{key}', {json.dumps(data[key])} is not one of "
                    f"{json.dumps(list(allowed))}.",
                    docs,
                )
        status = data.get("status", run["status"])
        conclusion = data.get("conclusion", run["conclusion"])
        if conclusion is not None:
            status = "completed"  # GitHub: a conclusion sets the status to completed
        if status == "completed" and conclusion is None:
            raise _invalid('"conclusion" wasn\'t supplied.', docs)
        annotations: list[dict[str, Any]] = []
        output = None
        if "output" in data:
            output, annotations = self._check_output(data["output"], docs)
        run["status"], run["conclusion"] = status, conclusion
        for key in ("name", "details_url", "external_id"):
            if key in data:
                run[key] = data[key]
        if "started_at" in data:
            run["started_at"] = data["started_at"]
        if status == "completed":
            run["completed_at"] = data.get("completed_at") or run["completed_at"] or _now_iso()
        if output is not None:
            for key, value in output.items():
                if value is not None:
                    run["output"][key] = value
        return annotations

    async def _create_check_run(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        docs = f"{DOCS}/checks/runs#create-a-check-run"
        data = await self._body(request)
        for key in ("name", "head_sha"):
            if not data.get(key):
                raise _invalid(f'"{key}" wasn\'t supplied.', docs)
        with self._lock:
            if data["head_sha"] not in state.commits:
                raise GitHubError(422, f"No commit found for SHA: {data['head_sha']}", docs=docs)
            run_id = self.next_id()
            full = f"{state.owner}/{state.name}"
            run: dict[str, Any] = {
                "id": run_id,
                "node_id": f"CR_{run_id}",
                "name": data["name"],
                "head_sha": data["head_sha"],
                "external_id": "",
                "url": f"{self._base_url(request)}/repos/{full}/check-runs/{run_id}",
                "html_url": f"https://github.com/{full}/runs/{run_id}",
                "details_url": None,
                "status": "queued",
                "conclusion": None,
                "started_at": _now_iso(),
                "completed_at": None,
                "output": {"title": None, "summary": None, "text": None,
                           "annotations_count": 0,
                           "annotations_url": f"{self._base_url(request)}/repos/{full}"
                                              f"/check-runs/{run_id}/annotations"},
                "check_suite": {"id": self.next_id()},
                "app": {"id": int(self.app_id) if self.app_id.isdigit() else self.app_id,
                        "slug": self.bot_login.removesuffix("[bot]")},
                "pull_requests": [],
            }  # fmt: skip
            annotations = self._apply_check(run, data, docs)
            run["output"]["annotations_count"] = len(annotations)
            state.check_runs[run_id] = run
            state.annotations[run_id] = annotations
            return self._json(copy.deepcopy(run), 201)

    def _find_run(self, state: _Repo, request: web.Request) -> dict[str, Any]:
        run = state.check_runs.get(int(request.match_info["run"]))
        if run is None:
            raise _not_found()
        return run

    async def _update_check_run(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        docs = f"{DOCS}/checks/runs#update-a-check-run"
        data = await self._body(request)
        with self._lock:
            run = self._find_run(state, request)
            trial = copy.deepcopy(run)  # validate fully before changing anything
            annotations = self._apply_check(trial, data, docs)
            run.clear()
            run.update(trial)
            state.annotations[run["id"]].extend(annotations)
            run["output"]["annotations_count"] = len(state.annotations[run["id"]])
            return self._json(copy.deepcopy(run))

    async def _get_check_run(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        with self._lock:
            return self._json(copy.deepcopy(self._find_run(state, request)))

    async def _list_annotations(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        with self._lock:
            run = self._find_run(state, request)
            items = copy.deepcopy(state.annotations[run["id"]])
        return self._paginated(request, items)

    async def _commit_check_runs(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        ref = request.match_info["ref"]
        with self._lock:
            sha = state.branches.get(ref, ref)
            runs = [copy.deepcopy(r) for r in state.check_runs.values() if r["head_sha"] == sha]
        name = request.query.get("check_name")
        if name:
            runs = [r for r in runs if r["name"] == name]
        per_page, page = _page_args(request)
        chunk = runs[(page - 1) * per_page : page * per_page]
        return self._json({"total_count": len(runs), "check_runs": chunk})

    # ------------------------------------------------------------------------------ reviews

    def _review_comment_errors(
        self, files: dict[str, FileDiff], comment: Any, docs: str
    ) -> list[str]:
        if not isinstance(comment, dict):
            raise _invalid(f"For 'items', {json.dumps(comment)} is not an object.", docs)
        for key in ("path", "body"):
            if key not in comment:
                raise _invalid(f'"{key}" wasn\'t supplied.', docs)
        fd = files.get(comment["path"])
        if fd is None:
            return [
                "Pull request review thread path is invalid",
                "Pull request review thread diff hunk can't be blank",
            ]
        off_diff = [
            "Pull request review thread line must be part of the diff",
            "Pull request review thread diff hunk can't be blank",
        ]
        if "line" not in comment:
            position = comment.get("position")
            if position is None:
                raise _invalid('"line" wasn\'t supplied.', docs)
            return [] if position in fd.positions else off_diff
        line, side = comment["line"], comment.get("side", "RIGHT")
        if side not in ("LEFT", "RIGHT") or not isinstance(line, int):
            return off_diff
        hunk = fd.hunk_of(side, line)
        if hunk is None:
            return off_diff
        start_line = comment.get("start_line")
        if start_line is None:
            return []
        start_side = comment.get("start_side", side)
        start_hunk = fd.hunk_of(start_side, start_line) if isinstance(start_line, int) else None
        if start_hunk is None:
            return ["Pull request review thread start line must be part of the diff"]
        if start_hunk.index != hunk.index:
            return [
                "Pull request review thread start line must be part of the same hunk as the line."
            ]
        if start_side == side and start_line > line:
            return ["Pull request review thread start line must precede the end line"]
        return []

    async def _create_review(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        pull = self._pull_of(state, request)
        docs = f"{DOCS}/pulls/reviews#create-a-review-for-a-pull-request"
        data = await self._body(request)
        commit_id = data.get("commit_id") or pull.head_sha
        event = data.get("event")
        if event is not None and event not in REVIEW_EVENTS:
            raise _invalid(
                f"For 'properties/event', {json.dumps(event)} is not one of "
                f"{json.dumps(list(REVIEW_EVENTS))}.",
                docs,
            )
        body = data.get("body") or ""
        comments = data.get("comments") or []
        if not isinstance(comments, list):
            raise _invalid("For 'properties/comments', it is not an array.", docs)
        with self._lock:
            if commit_id not in state.commits:
                raise GitHubError(
                    422, "Unprocessable Entity", errors=["Commit could not be resolved"], docs=docs
                )
        _text, parsed = self._diff(state.owner, state.name, pull.base_sha, commit_id)
        files = {fd.path: fd for fd in parsed}
        messages: list[str] = []
        bad = 0
        for comment in comments:
            errors = self._review_comment_errors(files, comment, docs)
            bad += bool(errors)
            messages += [m for m in errors if m not in messages]
        too_long = [c for c in comments if len(str(c.get("body", ""))) > MAX_COMMENT_BODY]
        if len(body) > MAX_COMMENT_BODY or too_long:
            messages.append("Body is too long (maximum is 65536 characters)")
        if messages:
            with self._lock:
                self.rejected_comments += bad
                self.rejected_reviews += 1
            # One string for the whole review, joined like Rails; nothing is stored.
            raise GitHubError(
                422, "Unprocessable Entity", errors=[_rails_join(messages)], docs=docs
            )
        full = f"{state.owner}/{state.name}"
        api = f"{self._base_url(request)}/repos/{full}/pulls/{pull.number}"
        html = f"https://github.com/{full}/pull/{pull.number}"
        with self._lock:
            review_id = self.next_id()
            now = _now_iso()
            review = {
                "id": review_id,
                "node_id": f"PRR_{review_id}",
                "user": self._bot(),
                "body": body,
                "state": REVIEW_EVENTS.get(event, "PENDING"),
                "html_url": f"{html}#pullrequestreview-{review_id}",
                "pull_request_url": api,
                "commit_id": commit_id,
                "author_association": "NONE",
            }
            if event is not None:
                review["submitted_at"] = now
            stored = state.review_comments.setdefault(pull.number, [])
            for comment in comments:
                fd = files[comment["path"]]
                if "line" in comment:
                    side, line = comment.get("side", "RIGHT"), comment["line"]
                    position = fd.position_of(side, line)
                else:
                    position = comment["position"]
                    side, line, _h = fd.positions[position]
                comment_id = self.next_id()
                stored.append({
                    "id": comment_id,
                    "node_id": f"PRRC_{comment_id}",
                    "pull_request_review_id": review_id,
                    "url": f"{self._base_url(request)}/repos/{full}/pulls/comments/{comment_id}",
                    "html_url": f"{html}#discussion_r{comment_id}",
                    "pull_request_url": api,
                    "path": fd.path,
                    "commit_id": commit_id,
                    "original_commit_id": commit_id,
                    "diff_hunk": fd.diff_hunk(side, line),
                    "position": position,
                    "original_position": position,
                    "line": line,
                    "original_line": line,
                    "side": side,
                    "start_line": comment.get("start_line"),
                    "original_start_line": comment.get("start_line"),
                    "start_side": (comment.get("start_side", side)
                                   if comment.get("start_line") is not None else None),
                    "subject_type": "line",
                    "body": comment["body"],
                    "user": self._bot(),
                    "created_at": now,
                    "updated_at": now,
                    "author_association": "NONE",
                })  # fmt: skip
            state.reviews.setdefault(pull.number, []).append(review)
            # GitHub answers 200 (not 201) to "Create a review for a pull request".
            return self._json(copy.deepcopy(review), 200)

    async def _list_reviews(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        pull = self._pull_of(state, request)
        with self._lock:
            items = copy.deepcopy(state.reviews.get(pull.number, []))
        return self._paginated(request, items)

    async def _list_review_comments(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        pull = self._pull_of(state, request)
        with self._lock:
            items = copy.deepcopy(state.review_comments.get(pull.number, []))
        return self._paginated(request, items)

    # ------------------------------------------------------------------------------ compare

    @staticmethod
    def _chain(state: _Repo, sha: str) -> list[str]:
        out: list[str] = []
        current: str | None = sha
        while current is not None and current not in out:
            out.append(current)
            commit = state.commits.get(current)
            current = commit.parent if commit else None
        return out

    async def _compare(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        basehead = request.match_info["basehead"]
        base_ref, sep, head_ref = basehead.partition("...")
        if not sep:
            base_ref, sep, head_ref = basehead.partition("..")
        if not sep:
            raise _not_found()
        with self._lock:
            base = state.branches.get(base_ref, base_ref)
            head = state.branches.get(head_ref, head_ref)
            if base not in state.commits or head not in state.commits:
                raise _not_found(f"{DOCS}/commits/commits#compare-two-commits")
            head_chain, base_chain = self._chain(state, head), self._chain(state, base)
        merge_base = next((sha for sha in head_chain if sha in base_chain), None)
        if merge_base is None:
            raise GitHubError(404, f"No common ancestor between {base_ref} and {head_ref}.")
        ahead_by, behind_by = head_chain.index(merge_base), base_chain.index(merge_base)
        if ahead_by == behind_by == 0:
            status = "identical"
        elif behind_by == 0:
            status = "ahead"
        elif ahead_by == 0:
            status = "behind"
        else:
            status = "diverged"
        _text, files = self._diff(state.owner, state.name, merge_base, head)
        full = f"{state.owner}/{state.name}"
        commits = [
            {"sha": sha, "parents": [{"sha": state.commits[sha].parent}]}
            for sha in reversed(head_chain[:ahead_by])
        ]
        return self._json(
            {
                "url": f"{self._base_url(request)}/repos/{full}/compare/{basehead}",
                "html_url": f"https://github.com/{full}/compare/{basehead}",
                "status": status,
                "ahead_by": ahead_by,
                "behind_by": behind_by,
                "total_commits": ahead_by,
                "base_commit": {"sha": base},
                "merge_base_commit": {"sha": merge_base},
                "commits": commits[:250],
                "files": [self._file_json(request, state, head, fd) for fd in files[:300]],
            }
        )
