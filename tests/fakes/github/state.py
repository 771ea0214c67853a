"""What the fake knows: its records, repositories, commits and pull requests, as plain data.

Handlers run on the BackgroundLoop's thread while tests set up and read state from theirs:
state is plain data, every compound change happens under one lock with no await inside.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.diffs import Content, FileDiff

if TYPE_CHECKING:
    from tests.fakes.github.app import FakeGitHub

# GitHub cuts GraphQL's Blob.text past this many bytes and says isTruncated. Undocumented:
# measured as "exactly 512,000 bytes per blob" in sveltia/sveltia-cms#950; "after 500kb" in
# orbiting/backends#116.
GRAPHQL_BLOB_LIMIT = 512_000


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
    """An installation access token handed out by POST /app/installations/{id}/access_tokens,
    or a workflow's GITHUB_TOKEN (FakeGitHub.workflow_token): one repository's, acting as
    github-actions[bot] with the permissions the workflow granted."""

    token: str
    installation_id: int
    issued_at: float
    expires_at: float
    # A workflow token's: the one repository it reaches, (owner, name) lower-cased.
    repository: tuple[str, str] | None = None
    # None: the App's own (TOKEN_PERMISSIONS); else permission name -> "read" | "write".
    permissions: Mapping[str, str] | None = field(default=None, hash=False)

    @property
    def workflow(self) -> bool:
        """True for a workflow's GITHUB_TOKEN, an installation token of "github-actions"."""
        return self.repository is not None


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
    after: bool = False  # the request is done first, then its answer is lost (fail_after)


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
    reactions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # comment id
    permissions: dict[str, str] = field(default_factory=dict)  # lower-cased login -> role
    resolved_threads: set[int] = field(default_factory=set)  # root review comment ids


class FakeState:
    """The fake's in-memory state and settings, with id minting and repository lookup."""

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
        self.graphql_blob_limit = GRAPHQL_BLOB_LIMIT
        # GraphQL `object(expression:)` fields that fail as GitHub's do on a timeout.
        self.graphql_broken_expressions: set[str] = set()
        # resolveReviewThread answers FORBIDDEN, as reported for an App without Contents: write.
        self.resolve_forbidden = False
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
            self.graphql_blob_limit = GRAPHQL_BLOB_LIMIT
            self.graphql_broken_expressions = set()
            self.resolve_forbidden = False

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
